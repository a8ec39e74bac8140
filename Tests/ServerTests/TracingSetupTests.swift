import Testing
import Tracing
import W3CTraceContext

@testable import OrchestratorServer

@Suite struct TracingSetupTests {
    @Test func theVariablesOverrideTheFileAndTheServiceNameWins() throws {
        var file = ServerConfiguration.Tracing()
        file.endpoint = "http://from-file:4318/"
        file.resourceAttributes = ["deployment.environment": "prod", "team": "flow-c"]
        let settings = try TracingSetup.exporterSettings(
            file,
            environment: [
                "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,service.name=from-attributes,note=a%2Cb",
                "OTEL_SERVICE_NAME": "from-variable",
                "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20x, x-tenant=hive",
                "OTEL_BSP_MAX_QUEUE_SIZE": "100",
            ],
            version: "9.9.9"
        )
        #expect(settings.url == "http://from-file:4318/v1/traces")
        let resource = Dictionary(
            uniqueKeysWithValues: settings.resource.map { key, value in
                guard case .string(let text) = value else { return (key, "not a string: \(value)") }
                return (key, text)
            }
        )
        #expect(resource["service.name"] == "from-variable")
        #expect(resource["deployment.environment"] == "test")
        #expect(resource["team"] == "flow-c")
        #expect(resource["note"] == "a,b")
        #expect(resource["service.version"] == "9.9.9")
        #expect(settings.headers.map { "\($0.0)=\($0.1)" } == ["authorization=Bearer x", "x-tenant=hive"])
        #expect(settings.maxQueueSize == 100)
        #expect(settings.maxExportBatchSize == 100, "a batch never exceeds the queue")

        let full = try TracingSetup.exporterSettings(
            file,
            environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector/custom/path"],
            version: "1"
        )
        #expect(full.url == "https://collector/custom/path")
    }

    @Test func unsupportedSettingsAreRefusedByName() {
        let file = ServerConfiguration.Tracing()
        for (variable, value, message) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "only http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", "only http/protobuf"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", "only none"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue", "key=value"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon", "OTEL_BSP_SCHEDULE_DELAY"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "http:// or https://"),
        ] {
            #expect {
                _ = try TracingSetup.exporterSettings(file, environment: [variable: value], version: "1")
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        #expect(throws: (any Error).self) {
            _ = try TracingSetup.environmentSampler(["OTEL_TRACES_SAMPLER": "sometimes"])
        }
        #expect(throws: (any Error).self) {
            _ = try TracingSetup.environmentSampler([
                "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2",
            ])
        }
    }

    @Test func theRatioSamplerKeepsAboutItsShareAndParentsDecideForChildren() throws {
        let half = try TracingSetup.sampler(name: "traceidratio", ratio: 0.5, origin: "test")
        var generator = SystemRandomNumberGenerator()
        let kept = (0..<4000).filter { _ in half.sample(traceID: TraceID.random(using: &generator), parent: nil) }.count
        #expect((1600...2400).contains(kept), "kept \(kept) of 4000 at ratio 0.5")
        let none = try TracingSetup.sampler(name: "traceidratio", ratio: 0, origin: "test")
        #expect(!none.sample(traceID: TraceID.random(), parent: nil))

        let parentBased = try TracingSetup.sampler(name: "parentbased_always_off", ratio: 1, origin: "test")
        let trace = TraceID.random()
        let sampledParent = OTLPSpanIdentity(
            trace: TraceContext(traceID: trace, spanID: .random(), flags: .sampled, state: TraceState()),
            isRemote: true
        )
        var unsampledParent = sampledParent
        unsampledParent.trace = TraceContext(traceID: trace, spanID: .random(), flags: [], state: TraceState())
        #expect(parentBased.sample(traceID: trace, parent: sampledParent))
        #expect(!parentBased.sample(traceID: trace, parent: unsampledParent))
        #expect(!parentBased.sample(traceID: trace, parent: nil))
    }

    /// The protobuf body, read back field by field: a span's ids, name, kind and an attribute.
    @Test func anExportedSpanHasItsFieldsWhereOTLPPutsThem() {
        var attributes: SpanAttributes = [:]
        attributes["k"] = "v"
        let span = FinishedSpan(
            traceID: TraceID(
                bytes: (0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB)
            ),
            spanID: SpanID(bytes: (0xCD, 0xCD, 0xCD, 0xCD, 0xCD, 0xCD, 0xCD, 0xCD)),
            parentSpanID: nil,
            parentIsRemote: false,
            traceState: "",
            flags: 1,
            name: "ticket attempt",
            kind: 1,
            startNanos: 1,
            endNanos: 2,
            attributes: attributes,
            events: [],
            links: [],
            statusCode: 0,
            statusMessage: ""
        )
        let body = OTLPProtobuf.exportRequest([span], resource: [], scopeName: "s", scopeVersion: "1")
        let bytes = body
        // ResourceSpans (field 1, length-delimited) first.
        #expect(bytes.first == 0x0A)
        // The trace id appears as field 1 of the span: tag 0x0A, length 16, then the bytes.
        let traceField: [UInt8] = [0x0A, 16] + Array(repeating: 0xAB, count: 16)
        let spanField: [UInt8] = [0x12, 8] + Array(repeating: 0xCD, count: 8)
        #expect(contains(bytes, traceField + spanField))
        #expect(contains(bytes, [0x2A, 14] + Array("ticket attempt".utf8)))
        #expect(contains(bytes, [0x30, 1]), "kind internal")
        // KeyValue{key "k", value AnyValue{string_value "v"}}.
        #expect(contains(bytes, [0x0A, 1, 0x6B, 0x12, 3, 0x0A, 1, 0x76]))
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
