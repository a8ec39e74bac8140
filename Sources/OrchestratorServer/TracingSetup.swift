import Foundation
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// OpenTelemetry traces through swift-otel's OTLP/HTTP exporter: the configuration file's
/// `tracing` section, overridden by the standard `OTEL_*` variables (swift-otel reads them:
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
/// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
/// `OTEL_TRACES_EXPORTER`, `OTEL_BSP_*`). With no endpoint and no exporter chosen, nothing is
/// set up and every span call is a no-op.
public enum TracingSetup {
    private static let bootstrapped = Mutex(false)

    /// Whether traces are exported, from the settings and the environment.
    public static func isEnabled(_ settings: ServerConfiguration.Tracing, environment env: [String: String]) -> Bool {
        if env["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        let exporter = (env["OTEL_TRACES_EXPORTER"] ?? settings.exporter).lowercased()
        switch exporter {
        case "none": return false
        case "otlp": return true
        default:
            return !settings.endpoint.isEmpty || !(env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "").isEmpty
                || !(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? "").isEmpty
        }
    }

    /// Bootstraps the process's tracer (once per process) and returns the exporter's service, to
    /// run first in the service group so that it shuts down last and flushes the last spans.
    /// `nil` when tracing is off.
    public static func bootstrap(
        _ settings: ServerConfiguration.Tracing,
        environment env: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws -> (any Service)? {
        guard ["auto", "otlp", "none"].contains(settings.exporter.lowercased()) else {
            throw ConfigurationError("tracing.exporter must be auto, otlp or none, not '\(settings.exporter)'")
        }
        // Checked even when tracing is off, so that a typo shows before it is turned on.
        let sampler = try sampler(settings)
        guard isEnabled(settings, environment: env) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.resourceAttributes = settings.resourceAttributes
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.diagnosticLogger = .custom(logger)
        configuration.traces.exporter = .otlp
        if !settings.endpoint.isEmpty {
            var base = settings.endpoint
            while base.hasSuffix("/") { base.removeLast() }
            configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
        }
        configuration.traces.sampler = sampler
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { InstrumentationSystem.bootstrap(backend.factory) }
        logger.info(
            "tracing on",
            metadata: [
                "service_name": "\(env["OTEL_SERVICE_NAME"] ?? settings.serviceName)",
                "endpoint":
                    "\(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? settings.endpoint)",
                "sampler": "\(env["OTEL_TRACES_SAMPLER"] ?? settings.sampler)",
            ]
        )
        return backend.service
    }

    static func sampler(
        _ settings: ServerConfiguration.Tracing
    ) throws -> OTel.Configuration.TracesConfiguration.SamplerConfiguration {
        let ratio = settings.samplerArg
        let chosen: OTel.Configuration.TracesConfiguration.SamplerConfiguration?
        switch settings.sampler.lowercased() {
        case "always_on": chosen = .alwaysOn
        case "always_off": chosen = .alwaysOff
        case "parentbased_always_on": chosen = .parentBasedAlwaysOn
        case "parentbased_always_off": chosen = .parentBasedAlwaysOff
        case "traceidratio": chosen = .traceIDRatio(ratio: ratio)
        case "parentbased_traceidratio": chosen = .parentBasedTraceIDRatio(ratio: ratio)
        default:
            throw ConfigurationError(
                "tracing.sampler must be always_on, always_off, traceidratio, parentbased_always_on, "
                    + "parentbased_always_off or parentbased_traceidratio, not '\(settings.sampler)'"
            )
        }
        guard let chosen else { throw ConfigurationError("tracing.sampler_arg must be within 0…1, got \(ratio)") }
        return chosen
    }
}
