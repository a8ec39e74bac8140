/// Encodes ``AvroValue``s in the Avro binary encoding.
///
/// Ints and longs are zig-zag varints, floats and doubles IEEE 754 little-endian, bytes and strings
/// length-prefixed, records their fields in schema order, enums the symbol's index, arrays and maps
/// one block followed by an empty block (map keys in byte order, so the output is deterministic),
/// unions the branch index then the value, fixed the raw bytes.
///
/// A record value that lacks a field encodes the field's default; a field without a default is an
/// error, as is (by default) a key the record's schema does not declare. See ``AvroValue`` for the
/// conversions accepted at each position and for how a union branch is chosen.
public struct AvroEncoder: Sendable {
    /// Whether a record value holding a key that is not a field of its schema is rejected
    /// (`unknownField` error, the default) or the key ignored.
    public var rejectsUnknownFields: Bool

    /// Creates an encoder.
    public init(rejectsUnknownFields: Bool = true) {
        self.rejectsUnknownFields = rejectsUnknownFields
    }

    /// Encodes `value` as `schema`.
    ///
    /// - Throws: ``AvroError`` (`typeMismatch`, `missingField`, `unknownField`, `unknownSymbol`,
    ///   `valueOutOfRange`, `invalidUnionIndex`) whose path names the offending field, e.g.
    ///   `ExecutionTicket.sla.deadline: expected long, got string`.
    public func encode(_ value: AvroValue, as schema: AvroSchema) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        try encode(value, as: schema, into: &bytes)
        return bytes
    }

    /// Appends the encoding of `value` as `schema` to `bytes`. On error, `bytes` is left unchanged.
    public func encode(_ value: AvroValue, as schema: AvroSchema, into bytes: inout [UInt8]) throws {
        var writer = BinaryWriter(bytes: [], rejectsUnknownFields: rejectsUnknownFields)
        swap(&writer.bytes, &bytes)
        let mark = writer.bytes.count
        do throws(AvroError) {
            try writer.write(value, as: schema)
            swap(&writer.bytes, &bytes)
        } catch {
            writer.bytes.removeSubrange(mark...)
            swap(&writer.bytes, &bytes)
            if case .record(let record) = schema {
                throw error.prefixed(field: record.name)
            }
            throw error
        }
    }
}

extension AvroSchema {
    /// Encodes `value` with this schema using a default ``AvroEncoder``.
    public func encode(_ value: AvroValue) throws -> [UInt8] {
        try AvroEncoder().encode(value, as: self)
    }
}
