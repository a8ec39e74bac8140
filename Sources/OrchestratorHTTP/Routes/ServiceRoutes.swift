import Hummingbird
import OrchestratorEngine
import Prometheus

/// `/health`, `/ready`, `/metrics` and `/openapi.yaml`.
struct ServiceRoutes<Context: RequestContext> {
    let engine: Engine
    let version: String
    let metrics: PrometheusCollectorRegistry?

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
        /// Present when not ready, so that every 5xx carries the error envelope too.
        var error: APIError?
    }

    /// Ready when the database answers a ping and the engine has loaded its state.
    func readiness() async throws -> Response {
        var checks: [String: String] = [:]
        var problems: [String] = []
        do {
            try await engine.store.ping()
            checks["database"] = "ok"
        } catch {
            checks["database"] = "error: \(error)"
            problems.append("the database does not answer (\(error))")
        }
        if engine.isRunning {
            checks["engine"] = "running"
        } else {
            checks["engine"] = "not running"
            problems.append("the engine is not running")
        }
        guard problems.isEmpty else {
            let error = APIError(
                .serviceUnavailable,
                code: "not_ready",
                message: problems.joined(separator: "; ")
            )
            return try JSONResponse.make(
                Readiness(status: "not_ready", checks: checks, error: error),
                status: .serviceUnavailable
            )
        }
        return try JSONResponse.make(Readiness(status: "ready", checks: checks, error: nil))
    }

    func prometheusText() throws -> Response {
        guard let metrics else { throw APIError.notFound("metrics are not enabled on this server") }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer()))
        )
    }
}
