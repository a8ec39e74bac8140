/// Decodes Avro binary data into ``AvroValue``s, optionally resolving a writer's schema against a
/// reader's.
///
/// Built for untrusted input: truncated data, negative or oversized lengths and block counts,
/// invalid union or enum indexes, malformed varints and invalid UTF-8 are reported as
/// ``AvroError``s, and nothing is allocated beyond what the input can actually hold.
///
/// Unions decode as the plain value of the written branch: an optional `["null", "string"]` field
/// is `.null` or `.string(...)`.
public struct AvroDecoder: Sendable {
    /// Bounds on the work one decode may do.
    public struct Limits: Sendable, Equatable {
        /// The most items, summed over one decoded value, of arrays whose items take no bytes on the
        /// wire (e.g. `array<null>`), which the input length alone does not bound.
        public var maxZeroByteItems: Int

        /// Creates limits.
        public init(maxZeroByteItems: Int = 65_536) {
            self.maxZeroByteItems = maxZeroByteItems
        }
    }

    /// The schema values are produced in.
    public let readerSchema: AvroSchema
    /// The schema the data was written with.
    public let writerSchema: AvroSchema
    /// The limits applied to each decode.
    public var limits: Limits
    private let plan: ResolutionPlan

    /// Creates a decoder for data written and read with the same schema.
    public init(schema: AvroSchema, limits: Limits = Limits()) {
        self.readerSchema = schema
        self.writerSchema = schema
        self.limits = limits
        self.plan = .direct(schema)
    }

    /// Creates a decoder for data written with `writer`, producing values of `reader`.
    ///
    /// - Throws: ``AvroError`` `incompatibleSchemas` when the schemas cannot be resolved.
    public init(reader: AvroSchema, writer: AvroSchema, limits: Limits = Limits()) throws {
        self.readerSchema = reader
        self.writerSchema = writer
        self.limits = limits
        do throws(AvroError) {
            self.plan = try ResolutionPlan.compile(writer: writer, reader: reader)
        } catch {
            throw Self.rooted(error, reader)
        }
    }

    /// Decodes one value that spans all of `bytes`.
    ///
    /// - Throws: ``AvroError``; `trailingBytes` if bytes remain after the value.
    public func decode(_ bytes: [UInt8]) throws -> AvroValue {
        var offset = 0
        let value = try decode(bytes, from: &offset)
        guard offset == bytes.count else {
            throw AvroError(
                .trailingBytes,
                "\(bytes.count - offset) byte(s) remain after the value, which ended at byte \(offset)"
            )
        }
        return value
    }

    /// Decodes one value that spans all of `bytes`.
    public func decode(_ bytes: ArraySlice<UInt8>) throws -> AvroValue {
        try decode(Array(bytes))
    }

    /// Decodes one value starting at `offset` and advances `offset` past it, for input holding
    /// several values back to back. Bytes after the value are left alone.
    public func decode(_ bytes: [UInt8], from offset: inout Int) throws -> AvroValue {
        guard offset >= 0, offset <= bytes.count else {
            throw AvroError(.invalidLength, "offset \(offset) is outside the \(bytes.count)-byte input")
        }
        var reader = BinaryReader(bytes: bytes, index: offset, zeroByteItemBudget: limits.maxZeroByteItems)
        do throws(AvroError) {
            let value = try reader.read(plan)
            offset = reader.index
            return value
        } catch {
            throw Self.rooted(error, readerSchema)
        }
    }

    /// Prefixes an error's path with the name of a top-level record.
    private static func rooted(_ error: AvroError, _ schema: AvroSchema) -> AvroError {
        guard case .record(let record) = schema else { return error }
        return error.prefixed(field: record.name)
    }
}

extension AvroSchema {
    /// Decodes one value written with this schema that spans all of `bytes`.
    ///
    /// Unions decode as the plain value of the written branch.
    public func decode(_ bytes: [UInt8]) throws -> AvroValue {
        try AvroDecoder(schema: self).decode(bytes)
    }
}
