// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "orchestrator-dynamic",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "orchestrator-dynamic", targets: ["orchestrator-dynamic"]),
        .library(name: "OrchestratorCore", targets: ["OrchestratorCore"]),
        .library(name: "Avro", targets: ["Avro"]),
        .executable(name: "orchestrator-fuzz", targets: ["orchestrator-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // W3C trace-context parsing for our OTLP tracer (Sources/OrchestratorServer/Tracing).
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
    ],
    targets: [
        // A small, general Avro binary codec driven by parsed schemas. No I/O.
        .target(name: "Avro", swiftSettings: strictSettings),
        // The domain: models, C1 validation, C2 tickets, C3 allocation, saga planning. No I/O.
        .target(
            name: "OrchestratorCore",
            dependencies: [
                "Avro",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("Schemas")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "orchestrator-dynamic",
            dependencies: [
                "OrchestratorCore", "OrchestratorServer", "OrchestratorEngine", "OrchestratorStore", "SQLiteStore",
                "PostgresStore", "OrchestratorWorker", "Kafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // The system SQLite library (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The system librdkafka (Debian: librdkafka-dev); only the Kafka target imports it.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // A safe librdkafka wrapper: idempotent producer with delivery reports, group consumer with
        // manual commits, metadata, configuration passthrough.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The orchestrator on Kafka: the outbox sink and the intake/result consumers.
        .target(
            name: "OrchestratorKafka",
            dependencies: [
                "Kafka", "OrchestratorCore", "OrchestratorStore", "OrchestratorEngine",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // A thin, safe SQLite wrapper used by the durable store.
        .target(name: "SQLiteDB", dependencies: ["CSQLite"], swiftSettings: strictSettings),
        // The store protocol and its records; implementations live in their own modules.
        .target(
            name: "OrchestratorStore",
            dependencies: ["OrchestratorCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The embedded default store: one SQLite file in WAL mode.
        .target(
            name: "SQLiteStore",
            dependencies: ["OrchestratorStore", "OrchestratorCore", "SQLiteDB"],
            swiftSettings: strictSettings
        ),
        // The scale-out store: PostgreSQL through PostgresNIO's connection pool.
        .target(
            name: "PostgresStore",
            dependencies: [
                "OrchestratorStore", "OrchestratorCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The durable workflow engine: command loop, dispatch, timers, outbox relay.
        .target(
            name: "OrchestratorEngine",
            dependencies: [
                "OrchestratorCore", "OrchestratorStore",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The REST API (Hummingbird): hive-mind paths, workflows, workers, OpenAPI, /metrics.
        .target(
            name: "OrchestratorHTTP",
            dependencies: [
                "OrchestratorCore", "OrchestratorStore", "OrchestratorEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strictSettings
        ),
        // Workers: task executors, in-process worker pool, the HTTP reference worker and API client.
        .target(
            name: "OrchestratorWorker",
            dependencies: [
                "OrchestratorCore", "OrchestratorEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Assembles engine, store, HTTP and relays from one Configuration.
        .target(
            name: "OrchestratorServer",
            dependencies: [
                "OrchestratorCore", "OrchestratorStore", "SQLiteStore", "PostgresStore", "OrchestratorEngine",
                "OrchestratorHTTP", "OrchestratorWorker", "OrchestratorKafka", "Kafka",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // libFuzzer targets for the wire decoders (scripts/fuzz.sh builds them with the fuzzer); the
        // normal build makes a replayer that runs one target over files.
        .executableTarget(
            name: "orchestrator-fuzz",
            dependencies: ["Avro", "OrchestratorCore"],
            path: "Fuzz/Targets",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "AvroTests", dependencies: ["Avro"], swiftSettings: strictSettings),
        .testTarget(
            name: "OrchestratorCoreTests",
            dependencies: ["OrchestratorCore", "Avro"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"], swiftSettings: strictSettings),
        .testTarget(
            name: "OrchestratorKafkaTests",
            dependencies: ["OrchestratorKafka", "Kafka", "OrchestratorEngine", "OrchestratorCore", "SQLiteStore"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "SQLiteDBTests", dependencies: ["SQLiteDB"], swiftSettings: strictSettings),
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "OrchestratorHTTP", "OrchestratorEngine", "OrchestratorStore", "SQLiteStore", "OrchestratorCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "OrchestratorServer", "OrchestratorEngine", "OrchestratorCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "OrchestratorWorker", "OrchestratorEngine", "OrchestratorCore", "OrchestratorStore", "SQLiteStore",
                "PostgresStore",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "OrchestratorStore", "SQLiteStore", "PostgresStore", "OrchestratorCore", "SQLiteDB",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
