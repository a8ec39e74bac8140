import Avro
import Testing

@Suite("Schema resolution (writer's schema → reader's schema)")
struct AvroResolutionTests {
    static func record(_ name: String, _ fields: [AvroField], aliases: [String] = []) -> AvroSchema {
        .record(AvroRecordSchema(name: name, fields: fields, aliases: aliases))
    }

    static let kinds = AvroSchema.enumeration(AvroEnumSchema(name: "Kind", symbols: ["A", "B", "C"]))

    @Test(
        "primitive promotions",
        arguments: [
            (AvroSchema.int, AvroValue.int(-3), AvroSchema.long, AvroValue.long(-3)),
            (.int, .int(7), .float, .float(7)),
            (.int, .int(7), .double, .double(7)),
            (.long, .long(1 << 40), .float, .float(Float(1 << 40))),
            (.long, .long(1 << 40), .double, .double(Double(1 << 40))),
            (.float, .float(0.5), .double, .double(0.5)),
            (.string, .string("hé"), .bytes, .bytes([0x68, 0xC3, 0xA9])),
            (.bytes, .bytes([0x68, 0x69]), .string, .string("hi")),
            (.array(.int), .array([.int(1)]), .array(.long), .array([.long(1)])),
            (.map(.float), .map(["k": .float(2)]), .map(.double), .map(["k": .double(2)])),
        ]
    )
    func promotions(writer: AvroSchema, written: AvroValue, reader: AvroSchema, expected: AvroValue) throws {
        #expect(try reader.decode(writer.encode(written), writer: writer) == expected)
    }

    @Test("no demotions or unrelated conversions")
    func incompatiblePrimitives() {
        for (writer, reader) in [
            (AvroSchema.long, AvroSchema.int), (.double, .float), (.string, .long), (.int, .boolean),
        ] {
            let error = avroError { _ = try AvroDecoder(reader: reader, writer: writer) }
            #expect(error?.code == .incompatibleSchemas)
            #expect(error?.reason == "writer's \(writer.typeName) cannot be read as the reader's \(reader.typeName)")
        }
    }

    @Test("record fields are matched by name, whatever their order; writer-only fields are skipped")
    func fieldMatching() throws {
        let inner = Self.record("Inner", [AvroField(name: "z", type: .string)])
        let writer = Self.record(
            "R",
            [
                AvroField(name: "a", type: .int),
                AvroField(name: "dropNested", type: inner),
                AvroField(name: "b", type: .string),
                AvroField(name: "dropUnion", type: .union([.null, .map(.array(.long))])),
                AvroField(name: "dropFixed", type: .fixed(AvroFixedSchema(name: "F", size: 3))),
                AvroField(name: "dropMisc", type: .array(.union([.double, .float, .boolean, Self.kinds, .bytes]))),
                AvroField(name: "c", type: .long),
            ]
        )
        let reader = Self.record(
            "R",
            [AvroField(name: "c", type: .long), AvroField(name: "a", type: .long), AvroField(name: "b", type: .string)]
        )
        let bytes = try writer.encode([
            "a": .int(1), "b": "two", "c": 3, "dropNested": ["z": "skip me"],
            "dropUnion": .map(["k": [1, 2, 3]]), "dropFixed": .fixed([1, 2, 3]),
            "dropMisc": [.double(1), .union(branch: 1, value: .float(2)), true, .enumSymbol("C"), .bytes([1])],
        ])
        #expect(try reader.decode(bytes, writer: writer) == ["a": .long(1), "b": "two", "c": .long(3)])
    }

    @Test("reader aliases match writer field names and writer type names")
    func aliases() throws {
        let writer = Self.record("Old", [AvroField(name: "legacy_name", type: .string)])
        let reader = Self.record(
            "New",
            [AvroField(name: "name", type: .string, aliases: ["legacy_name"])],
            aliases: ["Old"]
        )
        #expect(try reader.decode(writer.encode(["legacy_name": "x"]), writer: writer) == ["name": "x"])
    }

    @Test("records with the same unqualified name match across namespaces; other names do not")
    func recordNames() throws {
        let writer = AvroSchema.record(
            AvroRecordSchema(name: "R", namespace: "old.ns", fields: [AvroField(name: "a", type: .int)])
        )
        let reader = AvroSchema.record(
            AvroRecordSchema(name: "R", namespace: "new.ns", fields: [AvroField(name: "a", type: .int)])
        )
        #expect(try reader.decode(writer.encode(["a": .int(1)]), writer: writer) == ["a": .int(1)])
        let other = Self.record("S", [AvroField(name: "a", type: .int)])
        #expect(avroError { _ = try AvroDecoder(reader: other, writer: writer) }?.code == .incompatibleSchemas)
    }

    @Test("reader fields the writer lacks take their defaults; without a default the pair is rejected")
    func readerDefaults() throws {
        let writer = Self.record("R", [AvroField(name: "a", type: .int)])
        let reader = Self.record(
            "R",
            [
                AvroField(name: "a", type: .int),
                AvroField(name: "note", type: .union([.null, .string]), default: .null),
                AvroField(name: "tags", type: .map(.string), default: .map([:])),
                AvroField(name: "version", type: .int, default: .int(1)),
            ]
        )
        let expected: AvroValue = ["a": .int(5), "note": .null, "tags": .map([:]), "version": .int(1)]
        #expect(try reader.decode(writer.encode(["a": .int(5)]), writer: writer) == expected)
        let strict = Self.record("R", [AvroField(name: "a", type: .int), AvroField(name: "must", type: .string)])
        let error = avroError { _ = try AvroDecoder(reader: strict, writer: writer) }
        #expect(error?.code == .incompatibleSchemas)
        #expect(error?.path == "R.must")
    }

    @Test("nested incompatibilities name their path")
    func nestedPath() {
        let writer = Self.record(
            "R",
            [AvroField(name: "sla", type: Self.record("SLA", [AvroField(name: "deadline", type: .string)]))]
        )
        let reader = Self.record(
            "R",
            [AvroField(name: "sla", type: Self.record("SLA", [AvroField(name: "deadline", type: .long)]))]
        )
        let error = avroError { _ = try AvroDecoder(reader: reader, writer: writer) }
        #expect(error?.message == "R.sla.deadline: writer's string cannot be read as the reader's long")
    }

    @Test("enum symbols resolve by name; unknown symbols take the reader's default or fail")
    func enums() throws {
        let writer = AvroSchema.enumeration(AvroEnumSchema(name: "Kind", symbols: ["A", "B", "C", "D"]))
        let withDefault = AvroSchema.enumeration(
            AvroEnumSchema(name: "Kind", symbols: ["C", "A", "UNKNOWN"], default: "UNKNOWN")
        )
        #expect(try withDefault.decode(writer.encode(.enumSymbol("A")), writer: writer) == .enumSymbol("A"))
        #expect(try withDefault.decode(writer.encode(.enumSymbol("C")), writer: writer) == .enumSymbol("C"))
        #expect(try withDefault.decode(writer.encode(.enumSymbol("B")), writer: writer) == .enumSymbol("UNKNOWN"))
        let withoutDefault = AvroSchema.enumeration(AvroEnumSchema(name: "Kind", symbols: ["C", "A"]))
        #expect(try withoutDefault.decode(writer.encode(.enumSymbol("C")), writer: writer) == .enumSymbol("C"))
        let error = avroError { _ = try withoutDefault.decode(writer.encode(.enumSymbol("D")), writer: writer) }
        #expect(error?.code == .unknownSymbol)
        #expect(error?.reason.contains("\"D\"") == true)
    }

    @Test("a reader union takes the first branch matching a non-union writer, exact kinds first")
    func readerUnion() throws {
        #expect(try AvroSchema.union([.null, .long]).decode(AvroSchema.int.encode(.int(4)), writer: .int) == .long(4))
        #expect(try AvroSchema.union([.double, .int]).decode(AvroSchema.int.encode(.int(4)), writer: .int) == .int(4))
        #expect(try AvroSchema.union([.null, .string]).decode([], writer: .null) == .null)
        let reader = AvroSchema.union([.null, Self.record("R", [AvroField(name: "a", type: .long)])])
        let writer = Self.record("R", [AvroField(name: "a", type: .int)])
        #expect(try reader.decode(writer.encode(["a": .int(2)]), writer: writer) == ["a": .long(2)])
        let error = avroError { _ = try AvroDecoder(reader: .union([.null, .string]), writer: .long) }
        #expect(error?.code == .incompatibleSchemas)
        #expect(error?.reason == "writer's long matches no branch of the reader's union[null, string]")
    }

    @Test("collections of a plain type are read into collections of a union holding it")
    func collectionsIntoUnions() throws {
        let longs = AvroSchema.array(.long)
        let optionalLongs = AvroSchema.array(.union([.null, .long]))
        #expect(try optionalLongs.decode(longs.encode([1, 2]), writer: longs) == [1, 2])
        let strings = AvroSchema.map(.string)
        let optionalStrings = AvroSchema.map(.union([.null, .string]))
        #expect(try optionalStrings.decode(strings.encode(.map(["k": "v"])), writer: strings) == .map(["k": "v"]))
        let ints = AvroSchema.map(.int)
        #expect(try optionalLongs.decode(longs.encode([]), writer: longs) == [])
        #expect(
            try AvroSchema.map(.union([.null, .long])).decode(ints.encode(.map(["k": .int(3)])), writer: ints)
                == .map(["k": 3])
        )
    }

    @Test("a writer union resolves each branch; a branch the reader cannot read fails only when used")
    func writerUnion() throws {
        let writer = AvroSchema.union([.null, .int, .string])
        let bothUnions = AvroSchema.union([.null, .string, .double])
        #expect(try bothUnions.decode(writer.encode(.int(3)), writer: writer) == .double(3))
        #expect(try bothUnions.decode(writer.encode("s"), writer: writer) == "s")
        #expect(try bothUnions.decode(writer.encode(.null), writer: writer) == .null)
        let plain = AvroSchema.long
        #expect(try plain.decode(writer.encode(.int(9)), writer: writer) == .long(9))
        let error = avroError { _ = try plain.decode(writer.encode("s"), writer: writer) }
        #expect(error?.code == .incompatibleSchemas)
        #expect(
            error?.reason
                == "writer's union branch 2 cannot be read: writer's string cannot be read as the reader's long"
        )
    }

    @Test("fixed types must agree on name and size")
    func fixed() throws {
        let writer = AvroSchema.fixed(AvroFixedSchema(name: "Hash", size: 2))
        let reader = AvroSchema.fixed(AvroFixedSchema(name: "Hash", namespace: "n", size: 2))
        #expect(try reader.decode(hex("01 02"), writer: writer) == .fixed([1, 2]))
        let wrongSize = AvroSchema.fixed(AvroFixedSchema(name: "Hash", size: 3))
        #expect(avroError { _ = try AvroDecoder(reader: wrongSize, writer: writer) }?.code == .incompatibleSchemas)
    }

    @Test("a decoder built once resolves many messages; identical schemas take the direct path")
    func reusableDecoder() throws {
        let writer = Self.record("R", [AvroField(name: "a", type: .int), AvroField(name: "gone", type: .string)])
        let reader = Self.record("R", [AvroField(name: "a", type: .long)])
        let decoder = try AvroDecoder(reader: reader, writer: writer)
        #expect(decoder.readerSchema == reader)
        #expect(decoder.writerSchema == writer)
        for number in Int32(0)..<5 {
            #expect(try decoder.decode(writer.encode(["a": .int(number), "gone": "x"])) == ["a": .long(Int64(number))])
        }
        let same = try AvroDecoder(reader: writer, writer: writer)
        #expect(try same.decode(writer.encode(["a": .int(1), "gone": "x"])) == ["a": .int(1), "gone": "x"])
    }

    @Test("resolution errors while decoding carry the path of the field")
    func decodeTimePath() throws {
        let writer = Self.record(
            "R",
            [AvroField(name: "kind", type: .enumeration(AvroEnumSchema(name: "Kind", symbols: ["A", "B"])))]
        )
        let reader = Self.record(
            "R",
            [AvroField(name: "kind", type: .enumeration(AvroEnumSchema(name: "Kind", symbols: ["A"])))]
        )
        let error = avroError { _ = try reader.decode(writer.encode(["kind": .enumSymbol("B")]), writer: writer) }
        #expect(error?.path == "R.kind")
        #expect(error?.code == .unknownSymbol)
    }
}
