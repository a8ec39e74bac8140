import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Tracing

/// OpenTelemetry traces over OTLP/HTTP (protobuf) through our own tracer (``OTLPTracer``; why
/// not swift-otel's SDK is said there): the configuration file's `tracing` section, overridden by
/// the standard variables `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`,
/// `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`, `…_PROTOCOL`, `…_HEADERS`, `…_TIMEOUT`, `…_CERTIFICATE`,
/// `…_COMPRESSION`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`
/// and `OTEL_BSP_*`. With no endpoint and no exporter chosen, nothing is set up and every span
/// call is a no-op.
public enum TracingSetup {
    private static let bootstrapped = Mutex<OTLPTracer?>(nil)

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
    /// run first in the service group so that it shuts down last and sends the last spans.
    /// `nil` when tracing is off.
    public static func bootstrap(
        _ settings: ServerConfiguration.Tracing,
        environment env: [String: String] = ProcessInfo.processInfo.environment,
        version: String = ServerVersion.current,
        logger: Logger
    ) throws -> (any Service)? {
        guard ["auto", "otlp", "none"].contains(settings.exporter.lowercased()) else {
            throw ConfigurationError("tracing.exporter must be auto, otlp or none, not '\(settings.exporter)'")
        }
        // Checked even when tracing is off, so that a typo shows before it is turned on.
        let sampler = try sampler(name: settings.sampler, ratio: settings.samplerArg, origin: "tracing.sampler")
        if let exporter = env["OTEL_TRACES_EXPORTER"], !["otlp", "none"].contains(exporter.lowercased()) {
            throw ConfigurationError("OTEL_TRACES_EXPORTER must be otlp or none, not '\(exporter)'")
        }
        guard isEnabled(settings, environment: env) else { return nil }
        let exporterSettings = try exporterSettings(settings, environment: env, version: version)
        let chosen = try environmentSampler(env) ?? sampler
        // The process's tracer is bootstrapped once; a later start in the same process (`bench`
        // runs its servers more than once) runs the same exporter again.
        let (exporter, first) = bootstrapped.withLock { tracer in
            if let tracer { return (tracer.exporter, false) }
            let exporter = OTLPExporter(settings: exporterSettings, logger: logger)
            tracer = OTLPTracer(sampler: chosen, exporter: exporter)
            return (exporter, true)
        }
        if first, let tracer = bootstrapped.withLock({ $0 }) { InstrumentationSystem.bootstrap(tracer) }
        var serviceName = ""
        if case .string(let name)? = exporterSettings.resource.first(where: { $0.0 == "service.name" })?.1 {
            serviceName = name
        }
        logger.info(
            "tracing on",
            metadata: [
                "service_name": "\(serviceName)",
                "endpoint": "\(exporterSettings.url)",
                "sampler": "\(env["OTEL_TRACES_SAMPLER"] ?? settings.sampler)",
            ]
        )
        return exporter
    }

    /// Where and how spans go: the settings under the `OTEL_*` variables.
    static func exporterSettings(
        _ settings: ServerConfiguration.Tracing,
        environment env: [String: String],
        version: String
    ) throws -> OTLPExporter.Settings {
        func variable(_ name: String) -> String? {
            let value = env["OTEL_EXPORTER_OTLP_TRACES_" + name] ?? env["OTEL_EXPORTER_OTLP_" + name]
            return value?.isEmpty == false ? value : nil
        }
        let url: String
        if let full = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !full.isEmpty {
            url = full
        } else {
            var base = env["OTEL_EXPORTER_OTLP_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? settings.endpoint
            if base.isEmpty { base = "http://localhost:4318" }
            while base.hasSuffix("/") { base.removeLast() }
            url = base + "/v1/traces"
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ConfigurationError("the OTLP traces endpoint must be an http:// or https:// URL, not '\(url)'")
        }
        if let proto = variable("PROTOCOL"), proto != "http/protobuf" {
            throw ConfigurationError(
                "OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is built in, not '\(proto)'"
            )
        }
        if let compression = variable("COMPRESSION"), compression != "none" {
            throw ConfigurationError(
                "OTEL_EXPORTER_OTLP_COMPRESSION: only none is built in, not '\(compression)'"
            )
        }
        var exporter = OTLPExporter.Settings(url: url)
        exporter.headers = try pairs(variable("HEADERS") ?? "", name: "OTEL_EXPORTER_OTLP_HEADERS")
        if let timeout = variable("TIMEOUT") {
            exporter.exportTimeout = .milliseconds(try integer(timeout, "OTEL_EXPORTER_OTLP_TIMEOUT"))
        }
        exporter.certificateFile = variable("CERTIFICATE")
        if let delay = env["OTEL_BSP_SCHEDULE_DELAY"] {
            exporter.scheduleDelay = .milliseconds(try integer(delay, "OTEL_BSP_SCHEDULE_DELAY"))
        }
        if let timeout = env["OTEL_BSP_EXPORT_TIMEOUT"] {
            exporter.exportTimeout = .milliseconds(try integer(timeout, "OTEL_BSP_EXPORT_TIMEOUT"))
        }
        if let size = env["OTEL_BSP_MAX_QUEUE_SIZE"] {
            exporter.maxQueueSize = Int(try integer(size, "OTEL_BSP_MAX_QUEUE_SIZE", minimum: 1))
        }
        if let size = env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] {
            exporter.maxExportBatchSize = Int(try integer(size, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", minimum: 1))
        }
        exporter.maxExportBatchSize = min(exporter.maxExportBatchSize, exporter.maxQueueSize)
        // Resource: the file's attributes, then OTEL_RESOURCE_ATTRIBUTES, then the service name
        // (OTEL_SERVICE_NAME wins over a `service.name` among the attributes).
        var resource = settings.resourceAttributes
        for (key, value) in try pairs(env["OTEL_RESOURCE_ATTRIBUTES"] ?? "", name: "OTEL_RESOURCE_ATTRIBUTES") {
            resource[key] = value
        }
        if let name = env["OTEL_SERVICE_NAME"], !name.isEmpty {
            resource["service.name"] = name
        } else if resource["service.name"] == nil {
            resource["service.name"] = settings.serviceName
        }
        if resource["service.version"] == nil { resource["service.version"] = version }
        resource["telemetry.sdk.name"] = "orchestrator-dynamic"
        resource["telemetry.sdk.language"] = "swift"
        resource["telemetry.sdk.version"] = version
        exporter.resource = resource.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
        exporter.scopeVersion = version
        return exporter
    }

    /// `k=v,k2=v2` with percent-encoded values (the OpenTelemetry list format).
    static func pairs(_ text: String, name: String) throws -> [(String, String)] {
        try text.split(separator: ",").compactMap { item in
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return nil }
            let parts = trimmed.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError("\(name): expected key=value pairs separated by commas, got '\(trimmed)'")
            }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            return (key.removingPercentEncoding ?? key, value.removingPercentEncoding ?? value)
        }
    }

    private static func integer(_ text: String, _ name: String, minimum: Int64 = 0) throws -> Int64 {
        guard let value = Int64(text.trimmingCharacters(in: .whitespaces)), value >= minimum else {
            throw ConfigurationError("\(name) must be an integer of at least \(minimum), not '\(text)'")
        }
        return value
    }

    /// The sampler of `OTEL_TRACES_SAMPLER(_ARG)`, when set.
    static func environmentSampler(_ env: [String: String]) throws -> OTLPSampler? {
        guard let name = env["OTEL_TRACES_SAMPLER"], !name.isEmpty else { return nil }
        var ratio = 1.0
        if let text = env["OTEL_TRACES_SAMPLER_ARG"], !text.isEmpty {
            guard let value = Double(text) else {
                throw ConfigurationError("OTEL_TRACES_SAMPLER_ARG must be a number within 0…1, not '\(text)'")
            }
            ratio = value
        }
        return try sampler(name: name, ratio: ratio, origin: "OTEL_TRACES_SAMPLER")
    }

    static func sampler(name: String, ratio: Double, origin: String) throws -> OTLPSampler {
        let argument = origin == "tracing.sampler" ? "tracing.sampler_arg" : "OTEL_TRACES_SAMPLER_ARG"
        switch name.lowercased() {
        case "always_on": return OTLPSampler(root: .always, followsParent: false)
        case "always_off": return OTLPSampler(root: .never, followsParent: false)
        case "parentbased_always_on": return OTLPSampler(root: .always, followsParent: true)
        case "parentbased_always_off": return OTLPSampler(root: .never, followsParent: true)
        case "traceidratio", "parentbased_traceidratio":
            guard (0...1).contains(ratio) else {
                throw ConfigurationError("\(argument) must be within 0…1, got \(ratio)")
            }
            return OTLPSampler(root: .ratio(ratio), followsParent: name.lowercased().hasPrefix("parentbased"))
        default:
            throw ConfigurationError(
                "\(origin) must be always_on, always_off, traceidratio, parentbased_always_on, "
                    + "parentbased_always_off or parentbased_traceidratio, not '\(name)'"
            )
        }
    }
}
