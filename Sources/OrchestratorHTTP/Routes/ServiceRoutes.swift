import Hummingbird
import OrchestratorEngine
import Prometheus

/// `/health`, `/ready`, `/metrics` and `/openapi.yaml`.
struct ServiceRoutes<Context: RequestContext> {
    let engine: Engine
    let version: String
    let metrics: PrometheusCollectorRegistry?
    let checks: [ReadinessCheck]

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ in
            try JSONResponse.make(Health(status: "healthy", service: "orchestrator-dynamic", version: version))
        }
        routes.get("ready") { _, _ in try await readiness() }
        routes.get("metrics") { _, _ in try prometheusText() }
        routes.get("openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml))
            )
        }
        return routes
    }

    struct Health: Encodable {
        var status: String
        var service: String
        var version: String
    }

    struct Readiness: Encodable {
        var status: String
        var checks: [String: String]
        /// The newest schema migration in the database and the newest this build knows; absent when
        /// the database does not answer. Informational: a replica on a schema a newer build migrated
        /// stays ready (migrations are additive), and `doctor` reports the difference.
        var schema: Schema?
        /// Present when not ready, so that every 5xx carries the error envelope too.
        var error: APIError?
    }

    struct Schema: Encodable {
        var database: Int
        var build: Int
    }

    /// Ready when the database answers a ping, the engine has loaded its state and every pluggable
    /// check (e.g. the Kafka sink) reports no problem.
    func readiness() async throws -> Response {
        var states: [String: String] = [:]
        var problems: [String] = []
        var schema: Schema?
        do {
            try await engine.store.ping()
            states["database"] = "ok"
            if let versions = try? await engine.store.schemaVersions() {
                schema = Schema(database: versions.database, build: versions.build)
            }
        } catch {
            states["database"] = "error: \(error)"
            problems.append("the database does not answer (\(error))")
        }
        if let problem = engine.writeProblem {
            states["store_writes"] = "error: \(problem)"
            problems.append("the store refuses writes (\(problem))")
        } else {
            states["store_writes"] = "ok"
        }
        if engine.isRunning {
            states["engine"] = "running"
        } else {
            states["engine"] = "not running"
            problems.append("the engine is not running")
        }
        for check in checks {
            if let problem = await check.problem() {
                states[check.name] = "error: \(problem)"
                problems.append("\(check.name): \(problem)")
            } else {
                states[check.name] = "ok"
            }
        }
        guard problems.isEmpty else {
            let error = APIError(
                .serviceUnavailable,
                code: "not_ready",
                message: problems.joined(separator: "; ")
            )
            return try JSONResponse.make(
                Readiness(status: "not_ready", checks: states, schema: schema, error: error),
                status: .serviceUnavailable
            )
        }
        return try JSONResponse.make(Readiness(status: "ready", checks: states, schema: schema, error: nil))
    }

    func prometheusText() throws -> Response {
        guard let metrics else { throw APIError.notFound("metrics are not enabled on this server") }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        ProcessMetrics.update(metrics)
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer()))
        )
    }
}
