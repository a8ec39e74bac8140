import ArgumentParser
import Foundation
import Kafka
import OrchestratorCore
import OrchestratorServer
import OrchestratorWorker

/// `doctor --url URL`: checks a running deployment from the outside, one line per check.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check a running orchestrator: health, readiness, version and schema, metrics, auth, and a smoke decision.",
        discussion: """
            Prints one line per check: PASS or FAIL, the check's name, and the detail or the reason. \
            The smoke decision (one QUERY task, ids starting with doctor-) goes through Kafka when \
            --kafka-bootstrap is given (JSON on the consensus topic), else through REST; it needs a \
            running worker, and is cancelled when it does not finish in time. The token needs the \
            read and submit roles (operate too, to cancel a smoke that did not finish).
            Exit status: 0 every check passed, 1 a check failed, 2 bad arguments.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Send the smoke decision through this Kafka broker (host:port) instead of REST.")
    var kafkaBootstrap: String?

    @Option(help: "The topic the server consumes decisions from.")
    var kafkaTopic = "plans.consensus"

    @Option(
        name: .customLong("kafka-property"),
        help: "A librdkafka property for the smoke producer, KEY=VALUE (repeatable), e.g. security.protocol=SASL_SSL."
    )
    var kafkaProperties: [String] = []

    @Option(help: "The smoke decision: auto (Kafka with --kafka-bootstrap, else REST), rest, kafka or none.")
    var smoke: SmokeRoute = .auto

    @Option(help: "Seconds the smoke decision may take to complete.")
    var timeout: Double = 60

    enum SmokeRoute: String, ExpressibleByArgument, CaseIterable {
        case auto, rest, kafka, none
    }

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if smoke == .kafka, kafkaBootstrap == nil {
            throw ValidationError("--smoke kafka needs --kafka-bootstrap")
        }
        for property in kafkaProperties where !property.contains("=") {
            throw ValidationError("--kafka-property \(property): expected KEY=VALUE")
        }
    }

    func run() async throws {
        let api = try client.apiClient()
        let doctor = Doctor(api: api, command: self)
        let passed = await doctor.runAll()
        await api.shutdown()
        if !passed { throw ExitCode(1) }
    }
}

/// The checks of `doctor`, in order; each prints its line as soon as it is decided.
private struct Doctor {
    let api: OrchestratorClient
    let command: DoctorCommand

    /// What `/ready` said, for the checks after it.
    struct Readiness {
        var checks: [String: String] = [:]
        var schema: (database: Int, build: Int)?
    }

    func runAll() async -> Bool {
        var failures = 0
        func report(_ passed: Bool, _ name: String, _ detail: String) {
            print("\(passed ? "PASS" : "FAIL") \(name): \(detail)")
            if !passed { failures += 1 }
        }
        // 1. Liveness; nothing else is worth asking a server that does not answer.
        let health = await get("/health")
        guard case .answer(let status, let body) = health, status == 200, let json = object(body),
            json["status"] as? String == "healthy"
        else {
            report(false, "health", describe(health, expecting: "200 healthy"))
            for name in ["ready", "version", "schema", "auth", "metrics", "smoke"] {
                report(false, name, "not checked: \(api.baseURL)/health did not answer healthy")
            }
            return false
        }
        let version = json["version"] as? String ?? "unknown"
        report(true, "health", "healthy at \(api.baseURL)")

        // 2. Readiness: database, store writes, engine, the Kafka sink.
        var readiness = Readiness()
        let ready = await get("/ready")
        if case .answer(let status, let body) = ready, let json = object(body) {
            readiness.checks = (json["checks"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
            if let schema = json["schema"] as? [String: Any], let database = schema["database"] as? Int,
                let build = schema["build"] as? Int
            {
                readiness.schema = (database, build)
            }
            let states = readiness.checks.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            if status == 200 {
                report(true, "ready", states.joined(separator: ", "))
            } else {
                let reason = ((json["error"] as? [String: Any])?["message"] as? String) ?? "HTTP \(status)"
                report(false, "ready", "not ready: \(reason)")
            }
        } else {
            report(false, "ready", describe(ready, expecting: "a readiness report"))
        }

        // 3. Version, and 4. whether the database's schema is the one this server's build knows.
        let mine = OrchestratorVersion.current
        report(
            true,
            "version",
            version == mine ? "server \(version)" : "server \(version) (this doctor is \(mine): compare with care)"
        )
        if let schema = readiness.schema {
            if schema.database == schema.build {
                report(true, "schema", "migrations current (version \(schema.database))")
            } else if schema.database < schema.build {
                report(
                    false,
                    "schema",
                    "the database is at version \(schema.database), the server's build expects \(schema.build): "
                        + "run `orchestrator-dynamic migrate`"
                )
            } else {
                report(
                    false,
                    "schema",
                    "a newer build migrated the database to version \(schema.database); this server knows up to "
                        + "\(schema.build): upgrade it"
                )
            }
        } else {
            report(
                false,
                "schema",
                "the server did not report its schema version (database down, or a build before 0.2.0)"
            )
        }

        // 5. Authentication: the given token is accepted, a made-up one is refused.
        let auth = await authCheck()
        report(auth.passed, "auth", auth.detail)

        // 6. Every contract metric name is exported.
        let metrics = await metricsCheck(kafka: readiness.checks["kafka"] != nil)
        report(metrics.passed, "metrics", metrics.detail)

        // 7. A decision taken end to end.
        let route: DoctorCommand.SmokeRoute =
            switch command.smoke {
            case .auto: command.kafkaBootstrap == nil ? .rest : .kafka
            default: command.smoke
            }
        if route == .none {
            print("SKIP smoke: --smoke none")
        } else {
            let smoke = await smokeCheck(throughKafka: route == .kafka)
            report(smoke.passed, "smoke", smoke.detail)
        }
        return failures == 0
    }

    // MARK: - Checks

    func authCheck() async -> (passed: Bool, detail: String) {
        let given: Bool
        do {
            given = try command.client.bearerToken() != nil
        } catch {
            return (false, "\(error)")
        }
        let listed = await get("/api/v1/workflows", query: [("limit", "1")])
        guard case .answer(let status, let body) = listed else {
            return (false, describe(listed, expecting: "an answer"))
        }
        switch status {
        case 200: break
        case 401 where !given:
            return (false, "no token given and the server requires one: pass --token-file or ORCHESTRATOR_TOKEN")
        case 401, 403:
            return (false, "the token is refused: \(ClientError.response(status: status, body: body))")
        default:
            return (false, "GET /api/v1/workflows: \(ClientError.response(status: status, body: body))")
        }
        // A server that takes a made-up token checks none: authentication is off.
        let stranger = OrchestratorClient(
            baseURL: api.baseURL,
            token: "doctor-made-up-token-" + String(UInt64.random(in: 0...UInt64.max), radix: 16),
            requestTimeoutMs: 10_000,
            caFile: command.client.caFile ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_CA_FILE"]
        )
        defer { Task { await stranger.shutdown() } }
        let probe = try? await stranger.exchange("GET", "/api/v1/workflows", query: [("limit", "1")])
        if let probe, probe.status != 401 {
            return (false, "a made-up token gets HTTP \(probe.status), not 401: authentication is off (--auth none)")
        }
        return (true, given ? "the token is accepted; a made-up token is refused" : "anonymous reads are allowed")
    }

    func metricsCheck(kafka: Bool) async -> (passed: Bool, detail: String) {
        let scraped = await get("/metrics")
        guard case .answer(let status, let body) = scraped, status == 200 else {
            return (false, describe(scraped, expecting: "200 with the Prometheus text"))
        }
        var names: Set<Substring> = []
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count >= 3 { names.insert(parts[2]) }
        }
        // The consumer lag exists once the group gave this replica a partition: a replica with
        // none (more replicas than partitions, or one that just joined) has no lag to show.
        let lag = "orchestration_kafka_consumer_lag"
        let required = MetricCatalog.contractNames.filter {
            $0 != lag && (kafka || !MetricCatalog.kafkaOnlyNames.contains($0))
        }
        let missing = required.filter { !names.contains(Substring($0)) }
        guard missing.isEmpty else {
            return (false, "\(missing.count) contract names missing from /metrics: \(missing.joined(separator: ", "))")
        }
        var note = ""
        if !kafka {
            note = " (Kafka names not expected: no Kafka sink)"
        } else if names.contains(Substring(lag)) {
            note = " (\(lag) included)"
        } else {
            note = " (\(lag) absent: no partition is assigned to this replica's consumer)"
        }
        return (true, "all \(required.count) contract names exported, \(names.count) series families\(note)")
    }

    func smokeCheck(throughKafka: Bool) async -> (passed: Bool, detail: String) {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let decisionId = "doctor-decision-\(suffix)"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let decision: [String: Any] = [
            "decision_id": decisionId, "plan_id": "doctor-plan-\(suffix)", "intent_id": "doctor-intent-\(suffix)",
            "correlation_id": "doctor-\(suffix)", "final_decision": "approve", "consensus_method": "doctor",
            "aggregated_confidence": 1.0, "aggregated_risk": 0.0, "requires_human_review": false,
            "created_at": now, "valid_until": now + 3_600_000, "metadata": ["source": "orchestrator-dynamic doctor"],
            "cognitive_plan": [
                "plan_id": "doctor-plan-\(suffix)", "version": "1.0.0", "intent_id": "doctor-intent-\(suffix)",
                "risk_band": "low", "risk_score": 0.0, "created_at": now, "valid_until": now + 3_600_000,
                "tasks": [
                    [
                        "task_id": "doctor-task-1", "task_type": "QUERY",
                        "description": "orchestrator-dynamic doctor smoke check", "dependencies": [String](),
                        "estimated_duration_ms": 1000, "required_capabilities": [String](),
                    ]
                ],
            ],
        ]
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONSerialization.data(withJSONObject: decision, options: [.sortedKeys]))
        } catch {
            return (false, "cannot encode the smoke decision: \(error)")
        }
        let started = ContinuousClock.now
        let route: String
        if throughKafka, let bootstrap = command.kafkaBootstrap {
            route = "Kafka topic \(command.kafkaTopic) at \(bootstrap)"
            if let problem = await produce(bytes, key: "doctor-plan-\(suffix)", bootstrap: bootstrap) {
                return (false, "\(route): \(problem)")
            }
        } else {
            route = "REST"
            let submitted = await post("/api/v1/decisions", body: bytes)
            guard case .answer(let status, _) = submitted, (200...299).contains(status) else {
                return (false, "POST /api/v1/decisions: \(describe(submitted, expecting: "2xx"))")
            }
        }
        // Find the workflow by its decision, then wait for the end.
        let deadline = started + .milliseconds(Int64(command.timeout * 1000))
        var workflowId: String?
        var lastStatus = "not created"
        while ContinuousClock.now < deadline {
            if workflowId == nil {
                let listed = await get("/api/v1/workflows", query: [("decision_id", decisionId)])
                if case .answer(200, let body) = listed, let json = object(body),
                    let first = (json["workflows"] as? [[String: Any]])?.first
                {
                    workflowId = first["workflow_id"] as? String
                }
            }
            if let workflowId {
                let read = await get("/api/v1/workflows/" + OrchestratorClient.segment(workflowId))
                if case .answer(200, let body) = read, let json = object(body), let status = json["status"] as? String {
                    lastStatus = status
                    let seconds = Double((ContinuousClock.now - started).wholeNanoseconds) / 1e9
                    switch status {
                    case "COMPLETED":
                        return (
                            true,
                            "decision \(decisionId) via \(route): workflow \(workflowId) COMPLETED in "
                                + String(format: "%.1f s", seconds)
                        )
                    case "FAILED", "PARTIAL", "CANCELLED", "REJECTED":
                        let reason = json["reason"] as? String ?? "no reason given"
                        return (
                            false,
                            "decision \(decisionId) via \(route): workflow \(workflowId) ended \(status): \(reason)"
                        )
                    default: break
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        // Not finished: cancel it so the check leaves nothing running behind.
        var cleanup = ""
        if let workflowId {
            let body = Array(#"{"reason":"orchestrator-dynamic doctor: smoke check timed out"}"#.utf8)
            let cancelled = await post("/api/v1/workflows/\(OrchestratorClient.segment(workflowId))/cancel", body: body)
            if case .answer(let status, _) = cancelled, (200...299).contains(status) {
                cleanup = "; cancelled"
            } else {
                cleanup = "; cancelling it failed: \(describe(cancelled, expecting: "2xx"))"
            }
        }
        let hint = lastStatus == "not created" ? "the server never created its workflow" : "is a worker running?"
        return (
            false,
            "decision \(decisionId) via \(route): not COMPLETED within \(command.timeout) s (status \(lastStatus); "
                + "\(hint))\(cleanup)"
        )
    }

    /// Produces the smoke decision; the problem, or `nil` once the broker acknowledged it.
    func produce(_ value: [UInt8], key: String, bootstrap: String) async -> String? {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrap)
        for property in command.kafkaProperties {
            let parts = property.split(separator: "=", maxSplits: 1)
            configuration[String(parts[0])] = String(parts[1])
        }
        configuration["message.timeout.ms"] = String(Int(command.timeout * 1000) / 2)
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: configuration, flushTimeout: .seconds(5))
        } catch {
            return "cannot create a producer: \(error)"
        }
        var problem: String?
        do {
            _ = try await producer.send(
                KafkaOutgoingMessage(topic: command.kafkaTopic, key: Array(key.utf8), value: value)
            )
        } catch {
            problem = "not delivered: \(error)"
        }
        await producer.close(flushTimeout: .seconds(5))
        return problem
    }

    // MARK: - HTTP

    enum Outcome {
        case answer(Int, [UInt8])
        case noAnswer(String)
    }

    func get(_ path: String, query: [(String, String)] = []) async -> Outcome {
        await call("GET", path, query: query, body: nil)
    }

    func post(_ path: String, body: [UInt8]) async -> Outcome {
        await call("POST", path, query: [], body: body)
    }

    func call(_ method: String, _ path: String, query: [(String, String)], body: [UInt8]?) async -> Outcome {
        do {
            let response = try await api.exchange(method, path, query: query, body: body)
            return .answer(response.status, response.body)
        } catch {
            return .noAnswer("\(error)")
        }
    }

    func describe(_ outcome: Outcome, expecting: String) -> String {
        switch outcome {
        case .noAnswer(let reason): "no answer: \(reason)"
        case .answer(let status, let body):
            "expected \(expecting), got \(ClientError.response(status: status, body: body))"
        }
    }

    func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
