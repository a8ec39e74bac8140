import OrchestratorEngine
import ServiceLifecycle

/// Placed after the HTTP listeners in the service group, so that it is the first of them to see a
/// graceful shutdown: it ends the engine's long polls at once. The listeners, stopped next, wait
/// for their open requests; without this a worker's long poll (20 s by default) held the shutdown
/// up for that long.
struct LongPollCloser: Service {
    let engine: Engine

    func run() async throws {
        // Returns when graceful shutdown begins; throws when the group is cancelled instead.
        try? await gracefulShutdown()
        engine.endLongPolls()
    }
}
