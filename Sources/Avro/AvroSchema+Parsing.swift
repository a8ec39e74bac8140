extension AvroSchema {
    /// Parses a schema from its JSON text.
    ///
    /// Accepts the full Avro 1.11 syntax: primitive names as strings, `{"type": ...}` objects,
    /// records (and `error`), enums, fixed, arrays, maps, unions as JSON arrays, namespaces and
    /// their inheritance, references to named types defined earlier (by simple or full name),
    /// aliases, field defaults (validated against the field type) and `logicalType` annotations,
    /// including a `logicalType` written beside a field's `type`.
    ///
    /// - Throws: ``AvroError`` with code `invalidJSON`, `invalidSchema`, `unknownType`,
    ///   `duplicateName`, `invalidDefault` or `unsupported`; its path names the offending field.
    public static func parse(_ json: String) throws -> AvroSchema {
        try parse(Array(json.utf8), knownTypes: [])
    }

    /// Parses a schema from its JSON text, encoded as UTF-8.
    public static func parse(_ json: [UInt8]) throws -> AvroSchema {
        try parse(json, knownTypes: [])
    }

    /// Parses a schema whose text may refer, by name, to the named types of `knownTypes`
    /// (and to the named types nested in them).
    public static func parse(_ json: String, knownTypes: [AvroSchema]) throws -> AvroSchema {
        try parse(Array(json.utf8), knownTypes: knownTypes)
    }

    /// Parses a UTF-8 schema text that may refer to the named types of `knownTypes`.
    public static func parse(_ json: [UInt8], knownTypes: [AvroSchema]) throws -> AvroSchema {
        let document = try JSONParser.parse(json)
        var parser = SchemaParser()
        for type in knownTypes {
            parser.registerNamedTypes(in: type)
        }
        do throws(AvroError) {
            return try parser.parseType(document, namespace: nil).schema
        } catch {
            if case .string(let name)? = document["name"] {
                throw error.prefixed(field: splitFullName(name, namespace: nil).name)
            }
            throw error
        }
    }
}
