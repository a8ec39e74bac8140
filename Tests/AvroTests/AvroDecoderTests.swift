import Avro
import Testing

@Suite("Decoding: round trips")
struct AvroDecoderRoundTripTests {
    static let nested = try! AvroSchema.parse(
        """
        {"type": "record", "name": "Outer", "namespace": "t", "fields": [
          {"name": "flag", "type": "boolean"},
          {"name": "count", "type": "int"},
          {"name": "total", "type": "long"},
          {"name": "ratio", "type": "float"},
          {"name": "score", "type": "double"},
          {"name": "blob", "type": "bytes"},
          {"name": "name", "type": "string"},
          {"name": "nothing", "type": "null"},
          {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
          {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
          {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "label", "type": ["null", "string"]},
            {"name": "kinds", "type": {"type": "array", "items": "Kind"}}]}},
          {"name": "inners", "type": {"type": "array", "items": "Inner"}},
          {"name": "byName", "type": {"type": "map", "values": ["null", "Inner", "long"]}},
          {"name": "matrix", "type": {"type": "array", "items": {"type": "array", "items": "double"}}},
          {"name": "choice", "type": ["null", "Hash", {"type": "map", "values": "string"}, "t.Kind"]}
        ]}
        """
    )

    static let cases: [(String, AvroSchema, AvroValue)] = [
        ("null", .null, .null),
        ("boolean", .boolean, .boolean(true)),
        ("int", .int, .int(-123_456)),
        ("long", .long, .long(1_761_682_622_000)),
        ("float", .float, .float(3.25)),
        ("double", .double, .double(-1e300)),
        ("double infinity", .double, .double(.infinity)),
        ("bytes", .bytes, .bytes([0, 1, 2, 0xFF])),
        ("string", .string, .string("olá, 世界 🌍")),
        ("array", .array(.string), .array(["a", "b", ""])),
        ("empty array", .array(.long), .array([])),
        ("map", .map(.double), .map(["x": 1.5, "y": -2.0])),
        ("optional null", .union([.null, .string]), .null),
        ("optional value", .union([.null, .string]), .string("v")),
        ("union of collections", .union([.array(.int), .map(.int)]), .map(["k": .int(1)])),
        ("array of nulls", .array(.null), .array([.null, .null, .null])),
    ]

    @Test("every type survives encode → decode", arguments: cases)
    func roundTrip(name: String, schema: AvroSchema, value: AvroValue) throws {
        let bytes = try schema.encode(value)
        #expect(try schema.decode(bytes) == value, "\(name): \(hexString(bytes))")
    }

    @Test("nested records, arrays, maps, unions, enums and fixed survive a round trip")
    func nestedRoundTrip() throws {
        let inner: AvroValue = ["label": "x", "kinds": [.enumSymbol("C"), .enumSymbol("A")]]
        let value: AvroValue = .record([
            "flag": true, "count": .int(-7), "total": .long(1 << 40), "ratio": .float(0.5), "score": 2.75,
            "blob": .bytes([9, 8]), "name": "n", "nothing": .null, "kind": .enumSymbol("B"),
            "hash": .fixed([1, 2, 3, 4]), "inner": inner,
            "inners": [inner, ["label": .null, "kinds": []]],
            "byName": .map(["one": inner, "none": .null, "num": 5]),
            "matrix": [[1, 2], [], [3]],
            "choice": .fixed([4, 3, 2, 1]),
        ])
        let decoded = try Self.nested.decode(try Self.nested.encode(value))
        #expect(decoded["inner"] == inner)
        #expect(decoded["byName"]?["num"] == .long(5))
        #expect(decoded["matrix"] == [[1.0, 2.0], [], [3.0]])
        #expect(decoded["choice"] == .fixed([4, 3, 2, 1]))
        #expect(decoded["count"] == .int(-7))
        #expect(decoded["total"] == .long(1 << 40))
        // A value built with the decoder's exact kinds round-trips to itself.
        #expect(try Self.nested.decode(try Self.nested.encode(decoded)) == decoded)
        for choice: AvroValue in [.null, .enumSymbol("A"), .map(["k": "v"])] {
            guard case .record(var fields) = decoded else { return }
            fields["choice"] = choice
            #expect(try Self.nested.decode(try Self.nested.encode(.record(fields)))["choice"] == choice)
        }
    }

    @Test("optional fields decode as the plain value or .null")
    func optionalsArePlain() throws {
        let schema = AvroSchema.union([.null, .long])
        #expect(try schema.decode(hex("02 04")) == .long(2))
        #expect(try schema.decode(hex("00")) == .null)
        #expect(try schema.decode(hex("02 04")).long == 2)
        #expect(try schema.decode(hex("00")).isNull)
    }

    @Test("negative block counts carry a byte size and are decoded and skipped")
    func negativeBlockCounts() throws {
        // Two blocks: [-2 items, 2 bytes: 1, 2] then [1 item: 3] then end.
        let bytes = hex("03 04 02 04 02 06 00")
        #expect(try AvroSchema.array(.long).decode(bytes) == [1, 2, 3])
        let map = hex("01 06 02 61 02 00")
        #expect(try AvroSchema.map(.long).decode(map) == .map(["a": 1]))
        // A reader without the field skips the array using the byte size.
        let writer = AvroSchema.record(
            AvroRecordSchema(
                name: "R",
                fields: [AvroField(name: "xs", type: .array(.long)), AvroField(name: "y", type: .int)]
            )
        )
        let reader = AvroSchema.record(AvroRecordSchema(name: "R", fields: [AvroField(name: "y", type: .int)]))
        #expect(try reader.decode(hex("03 04 02 04 02 06 00 0e"), writer: writer) == ["y": .int(7)])
    }

    @Test("several values back to back decode one at a time")
    func streaming() throws {
        let bytes = try AvroSchema.string.encode("ab") + AvroSchema.string.encode("c")
        let decoder = AvroDecoder(schema: .string)
        var offset = 0
        #expect(try decoder.decode(bytes, from: &offset) == "ab")
        #expect(offset == 3)
        #expect(try decoder.decode(bytes, from: &offset) == "c")
        #expect(offset == bytes.count)
        #expect(try decoder.decode(bytes[3...]) == "c")
    }
}

@Suite("Decoding: hostile input")
struct AvroDecoderHostileInputTests {
    static let record = try! AvroSchema.parse(
        """
        {"type": "record", "name": "Msg", "fields": [
          {"name": "id", "type": "string"},
          {"name": "n", "type": ["null", "long"]},
          {"name": "tags", "type": {"type": "array", "items": "string"}},
          {"name": "attrs", "type": {"type": "map", "values": "double"}},
          {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["X", "Y"]}},
          {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}}
        ]}
        """
    )

    @Test("every truncation of a valid message is rejected with an error, never a crash")
    func truncations() throws {
        let bytes = try Self.record.encode([
            "id": "abc", "n": 5, "tags": ["t1", "t2"], "attrs": .map(["a": 1.0]), "kind": .enumSymbol("Y"),
            "f": .fixed([1, 2]),
        ])
        for length in 0..<bytes.count {
            let error = avroError { _ = try Self.record.decode(Array(bytes.prefix(length))) }
            #expect(error?.code == .truncated, "prefix of \(length) bytes: \(String(describing: error))")
        }
    }

    @Test("truncation errors name the field being read")
    func truncationPath() {
        let error = avroError { _ = try Self.record.decode(hex("06 61")) }
        #expect(error?.code == .truncated)
        #expect(error?.path == "Msg.id")
    }

    @Test(
        "malformed input is rejected with a specific code",
        arguments: [
            ("bad union index", "00 04", AvroError.Code.invalidUnionIndex),
            ("negative union index", "00 01", .invalidUnionIndex),
            ("negative string length", "01", .invalidLength),
            ("string length beyond the input", "80 80 80 80 80 80 80 80 40", .truncated),
            ("block count beyond the input", "00 00 80 80 80 80 10", .truncated),
            ("minimum block count", "00 00 ff ff ff ff ff ff ff ff ff 01", .invalidLength),
            ("negative block with oversized byte size", "00 00 01 80 80 80 08", .truncated),
            ("varint longer than 10 bytes", "ff ff ff ff ff ff ff ff ff ff 01", .invalidVarint),
            ("bad enum index", "00 00 00 00 04 00 00", .invalidEnumIndex),
            ("trailing bytes", "00 00 00 00 00 00 00 ff", .trailingBytes),
        ]
    )
    func malformed(name: String, input: String, code: AvroError.Code) {
        let error = avroError { _ = try Self.record.decode(hex(input)) }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
    }

    @Test("invalid UTF-8 in a string is rejected")
    func invalidUTF8() {
        let error = avroError { _ = try AvroSchema.string.decode(hex("04 c3 28")) }
        #expect(error?.code == .invalidUTF8)
    }

    @Test("booleans other than 0 or 1 and ints beyond 32 bits are rejected")
    func outOfRange() {
        #expect(avroError { _ = try AvroSchema.boolean.decode(hex("02")) }?.code == .valueOutOfRange)
        #expect(avroError { _ = try AvroSchema.int.decode(hex("80 80 80 80 20")) }?.code == .invalidVarint)
    }

    @Test("huge counts of zero-byte items are bounded by the decoder's limit")
    func zeroByteItems() throws {
        let huge = hex("fe ff ff ff ff ff ff ff 7f 00")
        #expect(avroError { _ = try AvroSchema.array(.null).decode(huge) }?.code == .limitExceeded)
        // Many small blocks (8192 items each) draw from one budget per decode.
        let blocks: [UInt8] = Array(repeating: hex("80 80 01"), count: 8).flatMap { $0 } + [0]
        let limited = AvroDecoder(schema: .array(.null), limits: .init(maxZeroByteItems: 50_000))
        #expect(avroError { _ = try limited.decode(blocks) }?.code == .limitExceeded)
        let ample = AvroDecoder(schema: .array(.null), limits: .init(maxZeroByteItems: 100_000))
        #expect(try ample.decode(blocks).array?.count == 8 * 8_192)
    }

    @Test("random bytes never crash the decoder")
    func fuzz() {
        var generator = SplitMix64(seed: 0xA5A5)
        var decodedCount = 0
        for _ in 0..<3_000 {
            let length = Int(generator.next() % 40)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if (try? Self.record.decode(bytes)) != nil {
                decodedCount += 1
            }
        }
        #expect(decodedCount < 3_000)
    }
}

@Suite("Decoding: mutated contract messages")
struct AvroDecoderMutationTests {
    @Test(
        "corrupting bytes of real messages yields values or AvroErrors, never a crash",
        arguments: Contracts.schemaFiles
    )
    func mutations(file: String) throws {
        let schema = try Contracts.schema(file)
        let record = try #require(schema.record)
        // A reader that skips every other field exercises the resolving decoder as well.
        let reader = AvroSchema.record(
            AvroRecordSchema(
                name: record.name,
                fields: record.fields.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            )
        )
        let decoders = [AvroDecoder(schema: schema), try AvroDecoder(reader: reader, writer: schema)]
        let original = try schema.encode(Samples.full(schema))
        var generator = SplitMix64(seed: UInt64(original.count))
        var failures = 0
        for round in 0..<400 {
            var bytes = original
            for _ in 0...(round % 4) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            if round % 5 == 0 {
                bytes.removeLast(Int(generator.next() % UInt64(bytes.count)))
            }
            for decoder in decoders {
                do {
                    _ = try decoder.decode(bytes)
                } catch is AvroError {
                    failures += 1
                }
            }
        }
        #expect(failures > 0)
    }
}

/// A small deterministic random number generator for fuzzing.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
