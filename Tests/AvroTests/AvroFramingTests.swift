import Avro
import Testing

@Suite("Framing, canonical form and fingerprints")
struct AvroFramingTests {
    @Test("Confluent framing: magic byte 0, big-endian schema id, payload")
    func confluent() throws {
        let payload = try AvroSchema.string.encode("foo")
        let message = AvroFraming.confluent(schemaId: 0x0102_0304, payload: payload)
        #expect(message == hex("00 01 02 03 04 06 66 6f 6f"))
        let frame = try AvroFraming.parseConfluent(message)
        #expect(frame == AvroFraming.ConfluentFrame(schemaId: 0x0102_0304, payload: payload))
        #expect(try AvroSchema.string.decode(frame.payload) == "foo")
        #expect(AvroFraming.detectConfluent(message)?.schemaId == 0x0102_0304)
        #expect(
            AvroFraming.detectConfluent(hex("00 00 00 00 07")) == AvroFraming.ConfluentFrame(schemaId: 7, payload: [])
        )
    }

    @Test("messages that are not Confluent-framed are told apart")
    func notConfluent() {
        #expect(AvroFraming.detectConfluent(hex("06 66 6f 6f 6f")) == nil)
        #expect(AvroFraming.detectConfluent(hex("00 00 00")) == nil)
        let short = avroError { _ = try AvroFraming.parseConfluent(hex("00 01")) }
        #expect(short?.code == .invalidFraming)
        #expect(short?.reason == "a Confluent-framed message needs at least 5 bytes, got 2")
        let magic = avroError { _ = try AvroFraming.parseConfluent(hex("7b 22 61 22 3a 31 7d")) }
        #expect(magic?.reason == "a Confluent-framed message starts with byte 0, got 123")
    }

    @Test("single-object encoding: C3 01, little-endian fingerprint, payload")
    func singleObject() throws {
        let schema = AvroSchema.int
        let message = AvroFraming.singleObject(fingerprint: schema.fingerprint, payload: try schema.encode(.int(1)))
        #expect(message == hex("c3 01 8f 5c 39 3f 1a d5 75 72 02"))
        let frame = try #require(AvroFraming.detectSingleObject(message))
        #expect(frame.fingerprint == schema.fingerprint)
        #expect(frame.payload == [2])
        #expect(AvroFraming.detectSingleObject(hex("c3 02 00 00 00 00 00 00 00 00")) == nil)
        #expect(AvroFraming.detectSingleObject(hex("c3 01 00")) == nil)
    }

    @Test(
        "fingerprints match reference values (fastavro; Avro's own test suite for \"int\")",
        arguments: [
            (#""int""#, UInt64(8_247_732_601_305_521_295)),
            (#""string""#, 0x8F01_4872_6345_03C7),
            (#"{"type":"record","name":"a.b.R","fields":[{"name":"x","type":"long"}]}"#, 0x2482_7E9F_BFA7_7FA8),
        ]
    )
    func fingerprints(json: String, expected: UInt64) throws {
        #expect(try AvroSchema.parse(json).fingerprint == expected)
    }

    @Test("the canonical form keeps only what affects the wire, with full names, once per named type")
    func canonicalForm() throws {
        let schema = try AvroSchema.parse(
            """
            {"type": "record", "name": "R", "namespace": "n", "doc": "dropped", "aliases": ["Q"], "fields": [
              {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"}, "doc": "x"},
              {"name": "again", "type": "E", "default": "B"},
              {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "o", "type": ["null", {"type": "fixed", "name": "F", "namespace": "m", "size": 4}]},
              {"name": "c", "type": {"type": "map", "values": {"type": "array", "items": "int"}}}
            ]}
            """
        )
        let expected =
            #"{"name":"n.R","type":"record","fields":[{"name":"e","type":{"name":"n.E","type":"enum","symbols":["A","B"]}},"#
            + #"{"name":"again","type":"n.E"},{"name":"t","type":"long"},"#
            + #"{"name":"o","type":["null",{"name":"m.F","type":"fixed","size":4}]},"#
            + #"{"name":"c","type":{"type":"map","values":{"type":"array","items":"int"}}}]}"#
        #expect(schema.canonicalForm == expected)
        #expect(try AvroSchema.parse(schema.canonicalForm) == AvroSchema.parse(expected))
    }
}
