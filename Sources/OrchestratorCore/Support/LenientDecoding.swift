extension KeyedDecodingContainer {
    /// Decodes a value if the key is present and not null, else `nil`.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        try decodeIfPresent(type, forKey: key)
    }

    /// A string that may arrive as a number or a boolean (kept as its JSON text); an array or an
    /// object is refused.
    func lenientString(_ key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let value = try decode(JSONValue.self, forKey: key)
        switch value {
        case .array, .object:
            throw DecodingError.typeMismatch(
                String.self,
                DecodingError.Context(codingPath: codingPath + [key], debugDescription: "found an \(value.kindName)")
            )
        default:
            return value.mapText
        }
    }

    /// An id: a ``lenientString(_:)`` within the ``Identifier`` limits.
    func identifier(_ key: Key) throws -> String? {
        guard let text = try lenientString(key) else { return nil }
        return try checkedIdentifier(text, key)
    }

    /// `text`, decoded from `key`, when it is within the ``Identifier`` limits.
    func checkedIdentifier(_ text: String, _ key: Key) throws -> String {
        if let problem = Identifier.problem(text) {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: problem)
        }
        return text
    }

    /// A timestamp in epoch milliseconds: an integer (or a whole double, or a numeric string), an
    /// ISO-8601 / RFC 3339 date-time string (see ``DateTimeText``), or MongoDB extended JSON
    /// `{"$date": …}` holding either.
    func timestamp(_ key: Key) throws -> EpochMillis? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let value = try decode(JSONValue.self, forKey: key)
        guard let millis = Self.epochMillis(value) else {
            let shown = if case .string(let text) = value { "\"\(text)\"" } else { value.kindName }
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "expected epoch milliseconds or an ISO-8601 date-time, got \(shown)"
            )
        }
        return millis
    }

    private static func epochMillis(_ value: JSONValue) -> EpochMillis? {
        switch value {
        case .integer(let value): return value
        case .number(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        case .string(let text): return Int64(text) ?? DateTimeText.epochMillis(text)
        case .object(let members) where members.count == 1:
            if let date = members["$date"] { return epochMillis(date) }
            if case .string(let text)? = members["$numberLong"] { return Int64(text) }
            return nil
        default: return nil
        }
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
