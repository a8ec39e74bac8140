import Avro
import Foundation
import Testing

/// The hive-mind's real schemas, from `../shared/contracts` beside the repository.
@Suite("Contract schemas")
struct AvroContractTests {
    static let ticket: AvroValue = [
        "ticket_id": "ticket-0001", "plan_id": "plan-1", "intent_id": "intent-1", "decision_id": "decision-1",
        "correlation_id": "corr-1", "trace_id": .null, "span_id": .null, "task_id": "task-1",
        "task_type": .enumSymbol("DEPLOY"), "description": "Deploy ação ✓", "dependencies": ["ticket-0000"],
        "status": .enumSymbol("RUNNING"), "priority": .enumSymbol("HIGH"), "risk_band": .enumSymbol("medium"),
        "sla": ["deadline": 1_761_686_222_000, "timeout_ms": 180_000, "max_retries": .int(2)],
        "qos": [
            "delivery_mode": .enumSymbol("AT_LEAST_ONCE"), "consistency": .enumSymbol("EVENTUAL"),
            "durability": .enumSymbol("PERSISTENT"),
        ],
        "parameters": .map(["environment": "staging", "action": "deploy"]),
        "required_capabilities": ["kubernetes", "helm"], "security_level": .enumSymbol("CONFIDENTIAL"),
        "created_at": 1_761_682_622_000, "started_at": 1_761_682_623_000, "completed_at": .null,
        "estimated_duration_ms": 60_000, "actual_duration_ms": .null, "retry_count": .int(0),
        "error_message": .null, "compensation_ticket_id": .null, "metadata": .map(["source": "e2e"]),
        "schema_version": .int(1),
    ]

    @Test("each contract parses, with the fingerprint fastavro computes", arguments: Contracts.schemaFiles)
    func parses(file: String) throws {
        let schema = try Contracts.schema(file)
        #expect(schema.record != nil)
        #expect(schema.fingerprint == ContractVectors.fingerprints[file])
    }

    @Test(
        "each contract round-trips a value using every field and the last union branches",
        arguments: Contracts.schemaFiles
    )
    func roundTripFull(file: String) throws {
        let schema = try Contracts.schema(file)
        let value = Samples.full(schema)
        #expect(try schema.decode(schema.encode(value)) == value)
    }

    @Test("each contract round-trips a value with nulls and empty collections", arguments: Contracts.schemaFiles)
    func roundTripMinimal(file: String) throws {
        let schema = try Contracts.schema(file)
        let value = Samples.minimal(schema)
        #expect(try schema.decode(schema.encode(value)) == value)
    }

    @Test("ExecutionTicket: 35 fields, logical types written beside \"type\" are kept")
    func ticketShape() throws {
        let record = try #require(try Contracts.schema("execution-ticket.avsc").record)
        #expect(record.fullName == "com.neuralhivemind.orchestration.ExecutionTicket")
        #expect(record.fields.count == 29)
        let sla = try #require(record.field(named: "sla")?.type.record)
        let qos = try #require(record.field(named: "qos")?.type.record)
        #expect(record.fields.count - 2 + sla.fields.count + qos.fields.count == 33)
        #expect(record.fields.count + sla.fields.count + qos.fields.count == 35)
        #expect(sla.fullName == "com.neuralhivemind.orchestration.SLA")
        #expect(sla.field(named: "deadline")?.logicalType == "timestamp-millis")
        #expect(record.field(named: "created_at")?.logicalType == "timestamp-millis")
        #expect(record.field(named: "started_at")?.type == .union([.null, .long]))
        #expect(record.field(named: "started_at")?.default == .some(.null))
        #expect(record.field(named: "status")?.default == .enumSymbol("PENDING"))
    }

    @Test("a ticket encodes to exactly fastavro's bytes, and fastavro's bytes decode to the ticket")
    func ticketInterop() throws {
        let schema = try Contracts.schema("execution-ticket.avsc")
        #expect(hexString(try schema.encode(Self.ticket)) == hexString(ContractVectors.ticket))
        let decoded = try schema.decode(ContractVectors.ticket)
        #expect(decoded == Self.ticket.withExactKinds(schema))
        #expect(decoded["sla"]?["deadline"]?.long == 1_761_686_222_000)
        #expect(decoded["trace_id"] == .null)
        #expect(decoded["correlation_id"]?.string == "corr-1")
    }

    @Test("the e2e decision fixture converts, encodes like fastavro and decodes back")
    func fixtureInterop() throws {
        let schema = try Contracts.schema("consolidated-decision.avsc")
        let json = try JSONAny.parse(try Contracts.text("e2e-fixture.consolidated_decision_avro.json"))
        let value = try JSONToAvro.value(json, schema)
        let bytes = try schema.encode(value)
        #expect(bytes.count == ContractVectors.consolidatedDecisionFixture.count)
        #expect(bytes == ContractVectors.consolidatedDecisionFixture)
        let decoded = try schema.decode(ContractVectors.consolidatedDecisionFixture)
        #expect(decoded == value)
        #expect(decoded["final_decision"] == .enumSymbol("approve"))
        #expect(decoded["specialist_votes"]?.array?.count == 5)
        #expect(decoded["specialist_votes"]?[0]?["processing_time_ms"] == .long(150))
        #expect(decoded["cognitive_plan"]?.string?.hasPrefix(#"{"plan_id": "6f1c2a9e"#) == true)
        #expect(decoded["compliance_checks"]?["security_review"] == .boolean(true))
    }

    @Test("a wrong ticket value is reported with its full path")
    func ticketErrors() throws {
        let schema = try Contracts.schema("execution-ticket.avsc")
        guard case .record(var fields) = Self.ticket else { return }
        fields["sla"] = ["deadline": "tomorrow", "timeout_ms": 1, "max_retries": .int(1)]
        let mismatch = avroError { _ = try schema.encode(.record(fields)) }
        #expect(mismatch?.message == "ExecutionTicket.sla.deadline: expected long, got string")
        fields["sla"] = Self.ticket["sla"]
        fields["task_type"] = "DEPLOY_ALL"
        let symbol = avroError { _ = try schema.encode(.record(fields)) }
        #expect(symbol?.code == .unknownSymbol)
        #expect(symbol?.path == "ExecutionTicket.task_type")
        fields["task_type"] = nil
        let missing = avroError { _ = try schema.encode(.record(fields)) }
        #expect(missing?.code == .missingField)
        #expect(missing?.path == "ExecutionTicket.task_type")
    }

    @Test("a newer reader of the ticket: a dropped field is skipped, an added one takes its default")
    func ticketEvolution() throws {
        let writer = try Contracts.schema("execution-ticket.avsc")
        let record = try #require(writer.record)
        let reader = AvroSchema.record(
            AvroRecordSchema(
                name: record.name,
                namespace: "org.example.v2",
                fields: record.fields.filter { $0.name != "metadata" && $0.name != "description" }
                    + [AvroField(name: "priority_score", type: .double, default: .double(0.5))],
                aliases: []
            )
        )
        let decoded = try reader.decode(ContractVectors.ticket, writer: writer)
        #expect(decoded["priority_score"] == .double(0.5))
        #expect(decoded["metadata"] == nil)
        #expect(decoded["description"] == nil)
        #expect(decoded["parameters"] == .map(["environment": "staging", "action": "deploy"]))
        #expect(decoded["completed_at"] == .null)
    }

    @Test("only a ticket's required fields are needed; the rest take their defaults")
    func ticketDefaults() throws {
        let schema = try Contracts.schema("execution-ticket.avsc")
        guard case .record(var fields) = Self.ticket else { return }
        for optional in [
            "status", "dependencies", "parameters", "retry_count", "metadata", "schema_version", "started_at",
        ] {
            fields[optional] = nil
        }
        let decoded = try schema.decode(try schema.encode(.record(fields)))
        #expect(decoded["status"] == .enumSymbol("PENDING"))
        #expect(decoded["dependencies"] == .array([]))
        #expect(decoded["parameters"] == .map([:]))
        #expect(decoded["retry_count"] == .int(0))
        #expect(decoded["schema_version"] == .int(1))
        #expect(decoded["started_at"] == .null)
    }
}

extension AvroValue {
    /// The value as the decoder returns it: integer literals narrowed to `.int` where the schema says `int`.
    func withExactKinds(_ schema: AvroSchema) -> AvroValue {
        switch (schema, self) {
        case (.int, .long(let number)): return Int32(exactly: number).map(AvroValue.int) ?? self
        case (.record(let record), .record(let fields)):
            var exact: [String: AvroValue] = [:]
            for field in record.fields {
                exact[field.name] = fields[field.name]?.withExactKinds(field.type)
            }
            return .record(exact)
        case (.union(let branches), _):
            return branches.contains(.int) ? withExactKinds(.int) : self
        default: return self
        }
    }
}
