import Hummingbird
import HummingbirdAuth
import OrchestratorCore
import OrchestratorEngine
import Prometheus

/// The REST API's router: hive-mind paths, intake, workflows, workers, incidents, events,
/// OpenAPI and metrics. Every error is answered as `{"error":{"code","message","field"?}}`.
///
/// - Parameters:
///   - engine: the engine the routes drive; its `store` answers the read queries.
///   - options: body limits and the reported version.
///   - metrics: the registry `/metrics` renders; `nil` answers 404 there.
///   - clock: stamps worker results.
///   - readiness: checks `/ready` runs besides the database and the engine.
///   - access: who may call what (``AccessControl``; `.none` turns every check off).
public func buildRouter(
    engine: Engine,
    options: HTTPOptions,
    metrics: PrometheusCollectorRegistry?,
    clock: any WallClock = SystemClock(),
    readiness: [ReadinessCheck] = [],
    access: AccessControl
) -> Router<BasicAuthRequestContext<Principal>> {
    buildRouter(
        engine: engine,
        options: options,
        metrics: metrics,
        clock: clock,
        readiness: readiness,
        access: access,
        context: BasicAuthRequestContext<Principal>.self
    )
}

/// ``buildRouter(engine:options:metrics:clock:readiness:access:)`` for a server with its own
/// request context.
public func buildRouter<Context: AuthRequestContext<Principal>>(
    engine: Engine,
    options: HTTPOptions,
    metrics: PrometheusCollectorRegistry?,
    clock: any WallClock = SystemClock(),
    readiness: [ReadinessCheck] = [],
    access: AccessControl,
    context: Context.Type
) -> Router<Context> {
    let router = Router(context: Context.self)
    let routes = RouteTable()
    let secrets = LeaseSecrets(store: engine.store)
    // Outermost, so that it sees the status the error middleware answers: Hummingbird's request
    // counter and duration histogram per route, method and status.
    if metrics != nil { router.add(middleware: MetricsMiddleware<Context>()) }
    // A bearer token or a lease secret never goes into a span: only these headers are recorded.
    if options.tracing {
        router.add(middleware: TracingMiddleware<Context>(recordingHeaders: [.contentType, .userAgent]))
    }
    router.add(middleware: ErrorMiddleware<Context>(routes: routes))
    router.add(
        middleware: AccessMiddleware<Context>(
            access: access,
            limiter: RateLimiter(ratePerSecond: options.rateLimitPerSecond, burst: options.rateLimitBurst)
        )
    )
    router.add(
        middleware: BodyBudgetMiddleware<Context>(
            budget: BodyBudget(limit: options.maxBufferedBodyBytes),
            largestBody: max(options.maxBodyBytes, options.maxWorkerBodyBytes)
        )
    )
    router.addRoutes(
        ServiceRoutes(engine: engine, version: options.version, metrics: metrics, checks: readiness).collection
    )
    router.addRoutes(
        IntakeRoutes(engine: engine, maxBodyBytes: options.maxBodyBytes).collection,
        atPath: "/api/v1"
    )
    router.addRoutes(WorkflowRoutes(engine: engine).collection, atPath: "/api/v1/workflows")
    router.addRoutes(
        WorkflowQueryRoutes(engine: engine, maxBodyBytes: options.maxBodyBytes, clock: clock).collection,
        atPath: "/api/v1/workflows"
    )
    router.addRoutes(
        WorkflowActionRoutes(engine: engine, maxBodyBytes: options.maxWorkerBodyBytes).collection,
        atPath: "/api/v1/workflows"
    )
    router.addRoutes(TicketRoutes(engine: engine).collection, atPath: "/api/v1/tickets")
    router.addRoutes(
        TicketReportRoutes(
            engine: engine,
            maxBodyBytes: options.maxWorkerBodyBytes,
            clock: clock,
            secrets: secrets
        ).collection,
        atPath: "/api/v1/tickets"
    )
    router.addRoutes(
        WorkerRoutes(
            engine: engine,
            maxBodyBytes: options.maxWorkerBodyBytes,
            secrets: secrets,
            longPolls: LongPollCounter(limit: options.maxLongPollsPerWorker)
        ).collection,
        atPath: "/api/v1/workers"
    )
    router.addRoutes(IncidentRoutes(engine: engine).collection, atPath: "/api/v1/incidents")
    router.addRoutes(DeadLetterRoutes(engine: engine).collection, atPath: "/api/v1/dead-letters")
    router.addRoutes(ReplicaRoutes(engine: engine).collection, atPath: "/api/v1/replicas")
    router.addRoutes(FlowCStatusRoutes(engine: engine).collection, atPath: "/api/v1/flow-c")
    router.addRoutes(
        EventRoutes(engine: engine, keepAliveSeconds: options.eventKeepAliveSeconds).collection,
        atPath: "/api/v1/events"
    )
    routes.set(router.routes.map { (method: $0.method.rawValue, path: $0.path.description) })
    return router
}

/// The router of the metrics-only listener: `GET /metrics`, open or behind a `read` token as
/// ``AccessControl/metricsNeedToken`` says.
public func buildMetricsRouter(
    metrics: PrometheusCollectorRegistry,
    access: AccessControl
) -> Router<BasicAuthRequestContext<Principal>> {
    let router = Router(context: BasicAuthRequestContext<Principal>.self)
    router.add(middleware: ErrorMiddleware<BasicAuthRequestContext<Principal>>())
    router.add(middleware: AccessMiddleware<BasicAuthRequestContext<Principal>>(access: access))
    router.get("/metrics") { _, _ -> Response in
        ProcessMetrics.update(metrics)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer()))
        )
    }
    return router
}
