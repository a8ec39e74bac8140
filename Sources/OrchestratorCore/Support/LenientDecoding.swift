extension KeyedDecodingContainer {
    /// Decodes a value if the key is present and not null, else `nil`.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        try decodeIfPresent(type, forKey: key)
    }

    /// A string that may arrive as a number or a boolean.
    func lenientString(_ key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decode(JSONValue.self, forKey: key).mapText
    }

    /// An integer that may arrive as a whole double or a numeric string.
    func lenientInt64(_ key: Key) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        switch try decode(JSONValue.self, forKey: key) {
        case .integer(let value): return value
        case .number(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        case .string(let text):
            if let value = Int64(text) { return value }
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "expected an integer, got \"\(text)\""
            )
        default:
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected an integer")
        }
    }

    /// A double that may arrive as an integer or a numeric string.
    func lenientDouble(_ key: Key) throws -> Double? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        switch try decode(JSONValue.self, forKey: key) {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        case .string(let text):
            if let value = Double(text) { return value }
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "expected a number, got \"\(text)\""
            )
        default:
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a number")
        }
    }

    /// A boolean that may arrive as "true"/"false" or 0/1.
    func lenientBool(_ key: Key) throws -> Bool? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        switch try decode(JSONValue.self, forKey: key) {
        case .bool(let value): return value
        case .integer(let value): return value != 0
        case .string(let text) where text.lowercased() == "true": return true
        case .string(let text) where text.lowercased() == "false": return false
        default:
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a boolean")
        }
    }

    /// A `map<string>` whose values may be any JSON.
    func lenientMap(_ key: Key) throws -> [String: String] {
        try decodeIfPresent(LenientStringMap.self, forKey: key)?.values ?? [:]
    }

    /// A list of strings whose items may be any JSON scalars.
    func lenientStrings(_ key: Key) throws -> [String] {
        guard contains(key), try !decodeNil(forKey: key) else { return [] }
        return try decode([JSONValue].self, forKey: key).map(\.mapText)
    }
}
