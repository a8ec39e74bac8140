extension AvroSchema {
    /// The schema's Parsing Canonical Form (Avro specification): full names, only the attributes
    /// that affect the wire format, in the specified order, without whitespace. Each named type is
    /// written in full where it first appears and by name afterwards.
    public var canonicalForm: String {
        var text = ""
        var written: Set<String> = []
        appendCanonicalForm(to: &text, written: &written)
        return text
    }

    /// The CRC-64-AVRO (Rabin) fingerprint of ``canonicalForm``, as used by the single-object
    /// encoding and schema caches.
    public var fingerprint: UInt64 {
        RabinFingerprint.fingerprint(canonicalForm.utf8)
    }

    private func appendCanonicalForm(to text: inout String, written: inout Set<String>) {
        switch self {
        case .null, .boolean, .int, .long, .float, .double, .bytes, .string:
            text += quoted(typeName)
        case .record(let record):
            guard written.insert(record.fullName).inserted else {
                text += quoted(record.fullName)
                return
            }
            text += "{\"name\":\(quoted(record.fullName)),\"type\":\"record\",\"fields\":["
            for (position, field) in record.fields.enumerated() {
                if position > 0 { text += "," }
                text += "{\"name\":\(quoted(field.name)),\"type\":"
                field.type.appendCanonicalForm(to: &text, written: &written)
                text += "}"
            }
            text += "]}"
        case .enumeration(let enumeration):
            guard written.insert(enumeration.fullName).inserted else {
                text += quoted(enumeration.fullName)
                return
            }
            let symbols = enumeration.symbols.map(quoted).joined(separator: ",")
            text += "{\"name\":\(quoted(enumeration.fullName)),\"type\":\"enum\",\"symbols\":[\(symbols)]}"
        case .fixed(let fixed):
            guard written.insert(fixed.fullName).inserted else {
                text += quoted(fixed.fullName)
                return
            }
            text += "{\"name\":\(quoted(fixed.fullName)),\"type\":\"fixed\",\"size\":\(fixed.size)}"
        case .array(let items):
            text += "{\"type\":\"array\",\"items\":"
            items.appendCanonicalForm(to: &text, written: &written)
            text += "}"
        case .map(let values):
            text += "{\"type\":\"map\",\"values\":"
            values.appendCanonicalForm(to: &text, written: &written)
            text += "}"
        case .union(let branches):
            text += "["
            for (position, branch) in branches.enumerated() {
                if position > 0 { text += "," }
                branch.appendCanonicalForm(to: &text, written: &written)
            }
            text += "]"
        }
    }
}

/// A JSON string literal for `text`, escaping only what JSON requires.
private func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\u{00}"..."\u{1F}":
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

/// The CRC-64-AVRO fingerprint of the Avro specification.
enum RabinFingerprint {
    static let empty: UInt64 = 0xC15D_213A_A4D7_A795

    static let table: [UInt64] = (0..<256).map { index in
        var value = UInt64(index)
        for _ in 0..<8 {
            value = (value >> 1) ^ (empty & (0 &- (value & 1)))
        }
        return value
    }

    static func fingerprint(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var value = empty
        for byte in bytes {
            value = (value >> 8) ^ table[Int((value ^ UInt64(byte)) & 0xFF)]
        }
        return value
    }
}
