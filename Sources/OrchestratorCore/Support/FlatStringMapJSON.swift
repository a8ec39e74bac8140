/// Reads a JSON object whose values are all strings (`{"k":"v",…}`), the shape of message
/// headers, without the cost of a general decoder. Returns `nil` for anything else (other value
/// types, `\u` escapes, malformed text), so callers fall back to `JSONDecoder`.
public enum FlatStringMapJSON {
    public static func parse(_ text: String) -> [String: String]? {
        var text = text
        return text.withUTF8 { bytes -> [String: String]? in
            var i = 0
            func skipSpaces() {
                while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
                    i += 1
                }
            }
            func expect(_ byte: UInt8) -> Bool {
                skipSpaces()
                guard i < bytes.count, bytes[i] == byte else { return false }
                i += 1
                return true
            }
            func string() -> String? {
                guard expect(UInt8(ascii: "\"")) else { return nil }
                var out: [UInt8] = []
                while i < bytes.count {
                    let byte = bytes[i]
                    i += 1
                    switch byte {
                    case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                    case UInt8(ascii: "\\"):
                        guard i < bytes.count else { return nil }
                        let escaped = bytes[i]
                        i += 1
                        switch escaped {
                        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                        case UInt8(ascii: "n"): out.append(0x0A)
                        case UInt8(ascii: "r"): out.append(0x0D)
                        case UInt8(ascii: "t"): out.append(0x09)
                        case UInt8(ascii: "b"): out.append(0x08)
                        case UInt8(ascii: "f"): out.append(0x0C)
                        default: return nil
                        }
                    case 0..<0x20: return nil
                    default: out.append(byte)
                    }
                }
                return nil
            }
            var map: [String: String] = [:]
            guard expect(UInt8(ascii: "{")) else { return nil }
            if expect(UInt8(ascii: "}")) {
                skipSpaces()
                return i == bytes.count ? map : nil
            }
            while true {
                guard let key = string(), expect(UInt8(ascii: ":")), let value = string() else { return nil }
                map[key] = value
                if expect(UInt8(ascii: ",")) { continue }
                guard expect(UInt8(ascii: "}")) else { return nil }
                skipSpaces()
                return i == bytes.count ? map : nil
            }
        }
    }
}
