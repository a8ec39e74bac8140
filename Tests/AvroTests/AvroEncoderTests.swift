import Avro
import Testing

@Suite("Encoding: known byte vectors from the specification")
struct AvroEncoderVectorTests {
    static let longVectors: [(Int64, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (-64, "7f"), (63, "7e"),
        (64, "80 01"), (-65, "81 01"), (8192, "80 80 01"),
        (Int64.max, "fe ff ff ff ff ff ff ff ff 01"), (Int64.min, "ff ff ff ff ff ff ff ff ff 01"),
    ]

    static let intVectors: [(Int32, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (64, "80 01"), (Int32.max, "fe ff ff ff 0f"), (Int32.min, "ff ff ff ff 0f"),
    ]

    @Test("long zig-zag varints", arguments: longVectors)
    func longVarints(value: Int64, expected: String) throws {
        #expect(try AvroSchema.long.encode(.long(value)) == hex(expected))
        #expect(try AvroSchema.long.decode(hex(expected)) == .long(value))
    }

    @Test("int zig-zag varints", arguments: intVectors)
    func intVarints(value: Int32, expected: String) throws {
        #expect(try AvroSchema.int.encode(.int(value)) == hex(expected))
        #expect(try AvroSchema.int.decode(hex(expected)) == .int(value))
    }

    @Test(
        "primitive encodings",
        arguments: [
            (AvroSchema.null, AvroValue.null, ""),
            (.boolean, .boolean(true), "01"),
            (.boolean, .boolean(false), "00"),
            (.string, .string("foo"), "06 66 6f 6f"),
            (.string, .string(""), "00"),
            (.string, .string("ação"), "0c 61 c3 a7 c3 a3 6f"),
            (.bytes, .bytes([0x00, 0xFF]), "04 00 ff"),
            (.float, .float(1.0), "00 00 80 3f"),
            (.float, .float(-2.5), "00 00 20 c0"),
            (.double, .double(1.0), "00 00 00 00 00 00 f0 3f"),
            (.double, .double(0.1), "9a 99 99 99 99 99 b9 3f"),
        ]
    )
    func primitives(schema: AvroSchema, value: AvroValue, expected: String) throws {
        #expect(try schema.encode(value) == hex(expected))
        #expect(try schema.decode(hex(expected)) == value)
    }

    @Test("the specification's record example: {a: 27, b: \"foo\"} is 36 06 66 6f 6f")
    func recordExample() throws {
        let schema = try AvroSchema.parse(
            #"{"type":"record","name":"test","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#
        )
        #expect(try schema.encode(["a": 27, "b": "foo"]) == hex("36 06 66 6f 6f"))
    }

    @Test("the specification's array example: [3, 27] is 04 06 36 00")
    func arrayExample() throws {
        #expect(try AvroSchema.array(.long).encode([3, 27]) == hex("04 06 36 00"))
        #expect(try AvroSchema.array(.long).encode([]) == hex("00"))
    }

    @Test("the specification's union example: [\"null\",\"string\"] with \"a\" is 02 02 61, null is 00")
    func unionExample() throws {
        let schema = AvroSchema.union([.null, .string])
        #expect(try schema.encode("a") == hex("02 02 61"))
        #expect(try schema.encode(.null) == hex("00"))
    }

    @Test("enums encode the symbol's index, fixed the raw bytes, maps a block of key/value pairs")
    func enumFixedMap() throws {
        let enumeration = AvroSchema.enumeration(AvroEnumSchema(name: "Suit", symbols: ["SPADES", "HEARTS", "CLUBS"]))
        #expect(try enumeration.encode(.enumSymbol("CLUBS")) == hex("04"))
        #expect(try enumeration.encode("HEARTS") == hex("02"))
        let fixed = AvroSchema.fixed(AvroFixedSchema(name: "md5", size: 3))
        #expect(try fixed.encode(.fixed([1, 2, 3])) == hex("01 02 03"))
        #expect(try AvroSchema.map(.long).encode(.map(["a": 1])) == hex("02 02 61 02 00"))
        #expect(try AvroSchema.map(.long).encode(.map([:])) == hex("00"))
    }

    @Test("map keys are written in byte order, so equal maps encode identically")
    func deterministicMaps() throws {
        let entries: [String: AvroValue] = ["zeta": 1, "alpha": 2, "Mid": 3, "é": 4, "beta": 5]
        let bytes = try AvroSchema.map(.int).encode(.map(entries))
        #expect(
            bytes == hex("0a 06 4d 69 64 06 0a 61 6c 70 68 61 04 08 62 65 74 61 0a 08 7a 65 74 61 02 04 c3 a9 08 00")
        )
    }
}

@Suite("Encoding: union branch selection and conversions")
struct AvroEncoderUnionTests {
    static let selections: [(AvroValue, [AvroSchema], Int64)] = [
        (.null, [.null, .string], 0),
        (.string("x"), [.null, .string], 1),
        (.int(5), [.null, .long, .double], 1),
        (.int(5), [.null, .double, .long], 1),
        (.long(5), [.null, .int, .long], 2),
        (.long(5), [.null, .int], 1),
        (.float(1), [.double, .float], 1),
        (.double(1), [.null, .float], 1),
        (.string("a"), [.bytes, .string], 1),
        (.string("a"), [.null, .bytes], 1),
        (.record([:]), [.null, .map(.string)], 1),
    ]

    @Test("a plain value picks the first branch of its kind, else the first it converts to", arguments: selections)
    func branchSelection(value: AvroValue, branches: [AvroSchema], expectedBranch: Int64) throws {
        let bytes = try AvroSchema.union(branches).encode(value)
        let branchByte = try AvroSchema.long.encode(.long(expectedBranch))
        #expect(Array(bytes.prefix(1)) == branchByte)
    }

    @Test("a string value selects an enum branch by symbol")
    func stringIntoEnumBranch() throws {
        let status = AvroSchema.enumeration(AvroEnumSchema(name: "Status", symbols: ["A", "B"]))
        #expect(try AvroSchema.union([.null, status]).encode("B") == hex("02 02"))
    }

    @Test("records in a union: the first record branch that accepts the value wins")
    func recordBranches() throws {
        let first = AvroSchema.record(AvroRecordSchema(name: "A", fields: [AvroField(name: "x", type: .int)]))
        let second = AvroSchema.record(AvroRecordSchema(name: "B", fields: [AvroField(name: "y", type: .string)]))
        let union = AvroSchema.union([.null, first, second])
        #expect(try union.encode(["x": 1]) == hex("02 02"))
        #expect(try union.encode(["y": "k"]) == hex("04 02 6b"))
    }

    @Test("an explicit branch is honoured, and out-of-range branches are rejected")
    func explicitBranch() throws {
        let union = AvroSchema.union([.long, .double])
        #expect(try union.encode(.union(branch: 1, value: .long(2))) == hex("02 00 00 00 00 00 00 00 40"))
        let error = avroError { _ = try union.encode(.union(branch: 2, value: .long(2))) }
        #expect(error?.code == .invalidUnionIndex)
    }

    @Test("a value matching no branch names the union")
    func noBranch() throws {
        let error = avroError { _ = try AvroSchema.union([.null, .string]).encode(.long(1)) }
        #expect(error?.code == .typeMismatch)
        #expect(error?.message == "expected union[null, string], got long")
    }

    @Test("lossless conversions are accepted; lossy or foreign ones are not")
    func conversions() throws {
        #expect(try AvroSchema.int.encode(.long(7)) == hex("0e"))
        #expect(try AvroSchema.long.encode(.int(7)) == hex("0e"))
        #expect(try AvroSchema.double.encode(.int(1)) == hex("00 00 00 00 00 00 f0 3f"))
        #expect(try AvroSchema.bytes.encode(.string("a")) == hex("02 61"))
        #expect(try AvroSchema.fixed(AvroFixedSchema(name: "F", size: 1)).encode(.bytes([9])) == hex("09"))
        #expect(avroError { _ = try AvroSchema.int.encode(.long(1 << 40)) }?.code == .valueOutOfRange)
        #expect(avroError { _ = try AvroSchema.string.encode(.bytes([0x61])) }?.code == .typeMismatch)
        #expect(avroError { _ = try AvroSchema.long.encode(.double(1)) }?.code == .typeMismatch)
        #expect(avroError { _ = try AvroSchema.boolean.encode(.long(1)) }?.code == .typeMismatch)
        #expect(avroError { _ = try AvroSchema.long.encode(.union(branch: 0, value: .long(1))) }?.code == .typeMismatch)
    }
}

@Suite("Encoding: records, defaults and errors")
struct AvroEncoderRecordTests {
    static let schema = try! AvroSchema.parse(
        """
        {"type": "record", "name": "Ticket", "namespace": "x.y", "fields": [
          {"name": "id", "type": "string"},
          {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["PENDING", "DONE"]},
           "default": "PENDING"},
          {"name": "retries", "type": "int", "default": 3},
          {"name": "note", "type": ["null", "string"], "default": null},
          {"name": "tags", "type": {"type": "array", "items": "string"}, "default": ["a"]},
          {"name": "sla", "type": {"type": "record", "name": "SLA", "fields": [
            {"name": "deadline", "type": "long", "logicalType": "timestamp-millis"}]}},
          {"name": "labels", "type": {"type": "map", "values": "long"}, "default": {}}
        ]}
        """
    )

    @Test("missing fields with defaults encode their defaults")
    func defaults() throws {
        let bytes = try Self.schema.encode(["id": "t", "sla": ["deadline": 1]])
        #expect(bytes == hex("02 74  00  06  00  02 02 61 00  02  00"))
        let decoded = try Self.schema.decode(bytes)
        #expect(decoded["status"] == .enumSymbol("PENDING"))
        #expect(decoded["retries"] == .int(3))
        #expect(decoded["note"] == .null)
        #expect(decoded["tags"] == ["a"])
        #expect(decoded["labels"] == .map([:]))
    }

    @Test("a missing field without a default is an error naming the field")
    func missingField() {
        let error = avroError { _ = try Self.schema.encode(["sla": ["deadline": 1]]) }
        #expect(error?.code == .missingField)
        #expect(error?.path == "Ticket.id")
        #expect(error?.message.contains("\"id\"") == true)
        let nested = avroError { _ = try Self.schema.encode(["id": "t", "sla": [:]]) }
        #expect(nested?.path == "Ticket.sla.deadline")
    }

    @Test("a type mismatch names the path: Ticket.sla.deadline: expected long, got string")
    func mismatchPath() {
        let error = avroError { _ = try Self.schema.encode(["id": "t", "sla": ["deadline": "soon"]]) }
        #expect(error?.code == .typeMismatch)
        #expect(error?.message == "Ticket.sla.deadline: expected long, got string")
    }

    @Test("paths include array indexes and map keys")
    func collectionPaths() {
        let arrayError = avroError {
            _ = try Self.schema.encode(["id": "t", "sla": ["deadline": 1], "tags": ["a", 2]])
        }
        #expect(arrayError?.message == "Ticket.tags[1]: expected string, got long")
        let mapError = avroError {
            _ = try Self.schema.encode(["id": "t", "sla": ["deadline": 1], "labels": .map(["k": "v"])])
        }
        #expect(mapError?.message == #"Ticket.labels["k"]: expected long, got string"#)
    }

    @Test("an unknown enum symbol is an error naming the symbol")
    func unknownSymbol() {
        let error = avroError { _ = try Self.schema.encode(["id": "t", "sla": ["deadline": 1], "status": "LOST"]) }
        #expect(error?.code == .unknownSymbol)
        #expect(error?.path == "Ticket.status")
        #expect(error?.reason.contains("\"LOST\"") == true)
    }

    @Test("unknown record keys are rejected unless the encoder is told to ignore them")
    func unknownFields() throws {
        let value: AvroValue = ["id": "t", "sla": ["deadline": 1], "extra": 1]
        let error = avroError { _ = try Self.schema.encode(value) }
        #expect(error?.code == .unknownField)
        #expect(error?.reason.contains("\"extra\"") == true)
        let lenient = AvroEncoder(rejectsUnknownFields: false)
        #expect(try lenient.encode(value, as: Self.schema) == Self.schema.encode(["id": "t", "sla": ["deadline": 1]]))
    }

    @Test("encoding into a buffer appends, and leaves the buffer untouched on error")
    func appendInto() throws {
        var buffer: [UInt8] = [0xAA]
        try AvroEncoder().encode("foo", as: .string, into: &buffer)
        #expect(buffer == hex("aa 06 66 6f 6f"))
        #expect(avroError { try AvroEncoder().encode(["id": "t"], as: Self.schema, into: &buffer) } != nil)
        #expect(buffer == hex("aa 06 66 6f 6f"))
    }
}
