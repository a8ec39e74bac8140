import Avro
import Testing

@Suite("Values")
struct AvroValueTests {
    @Test("accessors read payloads, widening numbers and unwrapping explicit union branches")
    func accessors() {
        let value: AvroValue = [
            "name": "n", "count": .int(3), "big": .long(1 << 40), "ratio": .float(0.5), "flag": true,
            "kind": .enumSymbol("A"), "blob": .bytes([1]), "hash": .fixed([2]), "list": [1, 2],
            "wrapped": .union(branch: 1, value: "w"), "nothing": .null,
        ]
        #expect(value["name"]?.string == "n")
        #expect(value["count"]?.int == 3)
        #expect(value["count"]?.long == 3)
        #expect(value["big"]?.long == 1 << 40)
        #expect(value["big"]?.int == nil)
        #expect(value["ratio"]?.double == 0.5)
        #expect(value["ratio"]?.float == 0.5)
        #expect(value["flag"]?.boolean == true)
        #expect(value["kind"]?.enumSymbol == "A")
        #expect(value["kind"]?.string == "A")
        #expect(value["blob"]?.bytes == [1])
        #expect(value["hash"]?.bytes == [2])
        #expect(value["list"]?[1] == .long(2))
        #expect(value["list"]?[2] == nil)
        #expect(value["list"]?.array?.count == 2)
        #expect(value["wrapped"]?.string == "w")
        #expect(value["wrapped"]?.unwrapped == .string("w"))
        #expect(value["nothing"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(value.record?.count == 11)
        #expect(value.map?.count == 11)
        #expect(AvroValue.string("x")["key"] == nil)
        #expect(AvroValue.string("x").kindName == "string")
    }

    @Test("literals build the common cases")
    func literals() {
        let string: AvroValue = "s"
        let integer: AvroValue = 5
        let double: AvroValue = 0.5
        let flag: AvroValue = false
        let array: AvroValue = [1, "a"]
        let record: AvroValue = ["a": 1, "a2": 2]
        #expect(string == .string("s"))
        #expect(integer == .long(5))
        #expect(double == .double(0.5))
        #expect(flag == .boolean(false))
        #expect(array == .array([.long(1), .string("a")]))
        #expect(record == .record(["a": .long(1), "a2": .long(2)]))
    }
}
