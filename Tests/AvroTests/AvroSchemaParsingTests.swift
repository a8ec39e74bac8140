import Avro
import Foundation
import Testing

@Suite("Schema parsing")
struct AvroSchemaParsingTests {
    @Test(
        "primitive types as strings and as {\"type\": ...} objects",
        arguments: [
            (#""null""#, AvroSchema.null), (#""boolean""#, .boolean), (#""int""#, .int), (#""long""#, .long),
            (#""float""#, .float), (#""double""#, .double), (#""bytes""#, .bytes), (#""string""#, .string),
            (#"{"type": "long"}"#, .long), (#"{"type": {"type": "string"}}"#, .string),
            (#"{"type": "long", "logicalType": "timestamp-millis"}"#, .long),
            (#"{"type": "array", "items": "int"}"#, .array(.int)),
            (#"{"type": "map", "values": ["null", "int"]}"#, .map(.union([.null, .int]))),
            (#"[ "null" , "string" ]"#, .union([.null, .string])),
            (#"  "string"  "#, .string),
        ]
    )
    func primitives(json: String, expected: AvroSchema) throws {
        #expect(try AvroSchema.parse(json) == expected)
    }

    @Test("named types get full names from namespaces, and references resolve by simple or full name")
    func namespaces() throws {
        let schema = try AvroSchema.parse(
            """
            {"type": "record", "name": "Outer", "namespace": "a.b", "fields": [
              {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X"]}},
              {"name": "byShortName", "type": "E"},
              {"name": "byFullName", "type": "a.b.E"},
              {"name": "other", "type": {"type": "record", "name": "c.d.Other", "fields": [
                {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}},
                {"name": "fAgain", "type": "F"}]}},
              {"name": "reset", "type": {"type": "record", "name": "Top", "namespace": "", "fields": [
                {"name": "g", "type": {"type": "enum", "name": "G", "symbols": ["Y"]}}]}},
              {"name": "otherF", "type": "c.d.F"},
              {"name": "topG", "type": "G"}
            ]}
            """
        )
        let outer = try #require(schema.record)
        #expect(outer.fullName == "a.b.Outer")
        #expect(outer.namespace == "a.b")
        #expect(outer.field(named: "e")?.type.fullName == "a.b.E")
        #expect(outer.field(named: "byShortName")?.type == outer.field(named: "e")?.type)
        #expect(outer.field(named: "byFullName")?.type == outer.field(named: "e")?.type)
        let other = try #require(outer.field(named: "other")?.type.record)
        #expect(other.fullName == "c.d.Other")
        #expect(other.field(named: "f")?.type.fullName == "c.d.F")
        #expect(other.field(named: "fAgain")?.type == other.field(named: "f")?.type)
        #expect(outer.field(named: "reset")?.type.fullName == "Top")
        #expect(outer.field(named: "topG")?.type.fullName == "G")
        #expect(outer.field(named: "otherF")?.type.fullName == "c.d.F")
    }

    @Test("a schema can refer to named types parsed before, given as known types")
    func knownTypes() throws {
        let status = try AvroSchema.parse(#"{"type": "enum", "name": "Status", "namespace": "n", "symbols": ["A"]}"#)
        let record = try AvroSchema.parse(
            #"{"type": "record", "name": "R", "namespace": "n", "fields": [{"name": "s", "type": "Status"}]}"#,
            knownTypes: [status]
        )
        #expect(record.record?.fields.first?.type == status)
    }

    @Test("field attributes: defaults of every type, aliases, doc, order and logical types")
    func fieldAttributes() throws {
        let schema = try AvroSchema.parse(
            """
            {"type": "record", "name": "R", "aliases": ["Old", "x.Older"], "namespace": "ns", "fields": [
              {"name": "n", "type": "null", "default": null},
              {"name": "b", "type": "boolean", "default": true},
              {"name": "i", "type": "int", "default": -5},
              {"name": "l", "type": "long", "default": 9007199254740993},
              {"name": "f", "type": "float", "default": 1},
              {"name": "d", "type": "double", "default": 2.5e-3},
              {"name": "by", "type": "bytes", "default": "\\u00ff\\u0000A"},
              {"name": "s", "type": "string", "default": "olá \\"q\\" \\ud83c\\udf0d"},
              {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["P", "Q"], "default": "P"},
               "default": "Q"},
              {"name": "fx", "type": {"type": "fixed", "name": "Fx", "size": 2}, "default": "ab"},
              {"name": "a", "type": {"type": "array", "items": "int"}, "default": [1, 2]},
              {"name": "m", "type": {"type": "map", "values": "string"}, "default": {"k": "v"}},
              {"name": "emptyMap", "type": {"type": "map", "values": "string"}, "default": {}},
              {"name": "emptyArray", "type": {"type": "array", "items": "string"}, "default": []},
              {"name": "u", "type": ["null", "string"], "default": null},
              {"name": "u2", "type": ["string", "null"], "default": "first"},
              {"name": "r", "type": {"type": "record", "name": "Inner", "fields": [
                {"name": "x", "type": "int"}, {"name": "y", "type": "string", "default": "dy"}]},
               "default": {"x": 1}},
              {"name": "deadline", "type": "long", "logicalType": "timestamp-millis", "doc": "due",
               "aliases": ["due"], "order": "descending"},
              {"name": "created", "type": {"type": "long", "logicalType": "timestamp-micros"}},
              {"name": "until", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
              {"name": "noDefault", "type": "string"}
            ]}
            """
        )
        let record = try #require(schema.record)
        #expect(record.aliases == ["ns.Old", "x.Older"])
        let defaults = Dictionary(uniqueKeysWithValues: record.fields.map { ($0.name, $0.default) })
        #expect(defaults["n"] == .some(.null))
        #expect(defaults["b"] == .boolean(true))
        #expect(defaults["i"] == .int(-5))
        #expect(defaults["l"] == .long(9_007_199_254_740_993))
        #expect(defaults["f"] == .float(1))
        #expect(defaults["d"] == .double(0.0025))
        #expect(defaults["by"] == .bytes([0xFF, 0x00, 0x41]))
        #expect(defaults["s"] == .string("olá \"q\" 🌍"))
        #expect(defaults["e"] == .enumSymbol("Q"))
        #expect(defaults["fx"] == .fixed([0x61, 0x62]))
        #expect(defaults["a"] == .array([.int(1), .int(2)]))
        #expect(defaults["m"] == .map(["k": "v"]))
        #expect(defaults["emptyMap"] == .map([:]))
        #expect(defaults["emptyArray"] == .array([]))
        #expect(defaults["u"] == .some(.null))
        #expect(defaults["u2"] == .string("first"))
        #expect(defaults["r"] == .record(["x": .int(1), "y": "dy"]))
        #expect(defaults["noDefault"] == .some(nil))
        let deadline = try #require(record.field(named: "deadline"))
        #expect(deadline.type == .long)
        #expect(deadline.logicalType == "timestamp-millis")
        #expect(deadline.aliases == ["due"])
        #expect(deadline.doc == "due")
        #expect(record.field(named: "created")?.logicalType == "timestamp-micros")
        #expect(record.field(named: "until")?.logicalType == "timestamp-millis")
        #expect(
            record.field(named: "e")?.type
                == .enumeration(AvroEnumSchema(name: "E", namespace: "ns", symbols: ["P", "Q"], default: "P"))
        )
    }

    @Test("the schema can be parsed from bytes and Data too")
    func otherInputs() throws {
        #expect(try AvroSchema.parse(Array(#""long""#.utf8)) == .long)
        #expect(try AvroSchema.parse(Data(#"["null","int"]"#.utf8)) == .union([.null, .int]))
    }

    @Test(
        "invalid schemas are rejected with a code and a message naming the problem",
        arguments: [
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "lon"}]}"#,
                AvroError.Code.unknownType, #"R.a: unknown type "lon""#
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}"#,
                .invalidDefault, #"R.a: invalid default: expected int, got "x""#
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": ["null","int"], "default": 1}]}"#,
                .invalidDefault, "R.a: invalid default: a union's default must match its first branch (null), got 1"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 3000000000}]}"#,
                .invalidDefault, "R.a: invalid default: expected int, got 3000000000"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "array", "items": "int"}, "default": [1, "x"]}]}"#,
                .invalidDefault, #"R.a[1]: invalid default: expected int, got "x""#
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}, "default": "B"}]}"#,
                .invalidDefault, #"R.e: invalid default: "B" is not a symbol of enum E"#
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}"#,
                .duplicateName, "R.a: record R has two fields named a"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "A"]}}]}"#,
                .duplicateName, "R.e: enum E has the symbol A twice"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "x", "type": {"type": "fixed", "name": "R", "size": 1}}]}"#,
                .duplicateName, "R.x: the name R is defined twice"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "next", "type": ["null", "R"]}]}"#,
                .unsupported, "R.next: union branch 1: recursive reference to R is not supported"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "u", "type": ["null", "string", "null"]}]}"#,
                .duplicateName, "R.u: union contains null more than once"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "u", "type": ["null", ["int"]]}]}"#,
                .invalidSchema, "R.u: a union may not immediately contain another union"
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "bad-name", "type": "int"}]}"#,
                .invalidSchema, #"R.bad-name: invalid field name "bad-name""#
            ),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a"}]}"#,
                .invalidSchema, #"R.a: field has no "type""#
            ),
            (#"{"type": "record", "name": "R"}"#, .invalidSchema, #"R: record R must have a "fields" array"#),
            (#"{"type": "record", "name": "1R", "fields": []}"#, .invalidSchema, #"1R: invalid record name "1R""#),
            (
                #"{"type": "enum", "name": "string", "symbols": []}"#,
                .invalidSchema, "string: enum may not be named after the primitive type string"
            ),
            (
                #"{"type": "fixed", "name": "F", "size": -1}"#,
                .invalidSchema, #"F: fixed F must have a non-negative integer "size""#
            ),
            (#"{"type": "array"}"#, .invalidSchema, #"array type is missing "items""#),
            (#"{"items": "int"}"#, .invalidSchema, #"missing "type" attribute"#),
            ("42", .invalidSchema, "a type must be a string, an object or an array, got number"),
            (
                #"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int",}]}"#,
                .invalidJSON, "invalid JSON at line 1, column 72: expected a string key"
            ),
            (
                "{\n  \"type\": \"record\",\n  \"name\" \"R\"\n}", .invalidJSON,
                "invalid JSON at line 3, column 10: expected ':'"
            ),
            (
                #"{"type": "long", "type": "int"}"#, .invalidJSON,
                #"invalid JSON at line 1, column 18: duplicate key "type""#
            ),
            (
                #""int" "long""#, .invalidJSON,
                "invalid JSON at line 1, column 7: unexpected content after the JSON document"
            ),
            ("", .invalidJSON, "invalid JSON at line 1, column 1: unexpected end of input"),
        ]
    )
    func invalid(json: String, code: AvroError.Code, message: String) {
        let error = avroError { _ = try AvroSchema.parse(json) }
        #expect(error?.code == code)
        #expect(error?.message == message)
    }

    @Test("deeply nested JSON is rejected instead of exhausting the stack")
    func depthLimit() {
        let json = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(avroError { _ = try AvroSchema.parse(json) }?.code == .invalidJSON)
    }

    @Test("a schema's type name, nullability and description")
    func accessors() throws {
        let schema = try AvroSchema.parse(#"["null", {"type": "map", "values": {"type": "array", "items": "long"}}]"#)
        #expect(schema.typeName == "union[null, map<array<long>>]")
        #expect(schema.isNullable)
        #expect(!AvroSchema.long.isNullable)
        let error = AvroError(.typeMismatch, "expected long, got string", path: "T.f")
        #expect(error.description == "AvroError(typeMismatch): T.f: expected long, got string")
    }
}
