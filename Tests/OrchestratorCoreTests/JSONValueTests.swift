import Foundation
import Testing

@testable import OrchestratorCore

/// Loosely typed values carried in `map<string>` fields keep their JSON text.
@Suite struct JSONValueTests {
    @Test(
        arguments: [
            (#""plain""#, "plain"),
            ("3", "3"),
            ("0", "0"),
            ("-12", "-12"),
            ("2.5", "2.5"),
            ("true", "true"),
            ("false", "false"),
            ("null", "null"),
            (#"["a"]"#, #"["a"]"#),
            (#"{"k":1}"#, #"{"k":1}"#),
            (#"{"b": 1, "a": [true, null, "x/y"]}"#, #"{"a":[true,null,"x/y"],"b":1}"#),
            ("[]", "[]"),
            ("{}", "{}"),
        ]
    )
    func mapText(json: String, text: String) throws {
        let value = try decode([String: JSONValue].self, #"{"v": \#(json)}"#)["v"]
        #expect(value?.mapText == text)
    }

    @Test func decodesTheRightCase() throws {
        let values = try decode([JSONValue].self, #"[true, 0, 1.5, "s", null, [1], {"k": "v"}]"#)
        #expect(
            values == [
                .bool(true), .integer(0), .number(1.5), .string("s"), .null, .array([.integer(1)]),
                .object(["k": .string("v")]),
            ]
        )
    }

    @Test func lenientStringMapAcceptsNull() throws {
        #expect(try decode(LenientStringMap.self, "null").values == [:])
        #expect(try decode(LenientStringMap.self, #"{"n": 7}"#).values == ["n": "7"])
    }
}
