extension AvroSchema {
    /// Whether both schemas are the same primitive, or both records, enums, fixed, arrays or maps.
    func hasSameKind(as other: AvroSchema) -> Bool {
        switch (self, other) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float),
            (.double, .double), (.bytes, .bytes), (.string, .string), (.record, .record),
            (.enumeration, .enumeration), (.array, .array), (.map, .map), (.union, .union), (.fixed, .fixed):
            return true
        default:
            return false
        }
    }

    /// Decodes data written with `writer` as this (the reader's) schema, applying the Avro schema
    /// resolution rules: fields matched by name or reader alias, writer-only fields skipped,
    /// reader-only fields taking their defaults, numeric and string/bytes promotions, enum defaults,
    /// and union resolution on either side.
    ///
    /// Compute an ``AvroDecoder`` once with ``AvroDecoder/init(reader:writer:limits:)`` to decode
    /// many messages of the same schema pair.
    public func decode(_ bytes: [UInt8], writer: AvroSchema) throws -> AvroValue {
        try AvroDecoder(reader: self, writer: writer).decode(bytes)
    }
}
