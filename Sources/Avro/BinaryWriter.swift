/// The output buffer of one encoding, with the schema-driven writing logic.
struct BinaryWriter {
    var bytes: [UInt8]
    let rejectsUnknownFields: Bool

    mutating func writeLong(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: zigzag))
    }

    mutating func writeFloat(_ value: Float) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> shift))
        }
    }

    mutating func writeDouble(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> shift))
        }
    }

    mutating func writeBytes(_ value: [UInt8]) {
        writeLong(Int64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ value: String) {
        let utf8 = value.utf8
        writeLong(Int64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func write(_ value: AvroValue, as schema: AvroSchema) throws(AvroError) {
        switch schema {
        case .null:
            guard case .null = value else { throw mismatch(schema, value) }
        case .boolean:
            guard case .boolean(let flag) = value else { throw mismatch(schema, value) }
            bytes.append(flag ? 1 : 0)
        case .int, .long, .float, .double:
            try writeNumber(value, as: schema)
        case .bytes:
            switch value {
            case .bytes(let payload), .fixed(let payload): writeBytes(payload)
            case .string(let text): writeString(text)
            default: throw mismatch(schema, value)
            }
        case .string:
            guard case .string(let text) = value else { throw mismatch(schema, value) }
            writeString(text)
        case .record(let record):
            switch value {
            case .record(let fields), .map(let fields): try writeRecord(fields, as: record)
            default: throw mismatch(schema, value)
            }
        case .enumeration(let enumeration):
            try writeEnum(value, as: enumeration)
        case .array(let items):
            guard case .array(let elements) = value else { throw mismatch(schema, value) }
            try writeArray(elements, items: items)
        case .map(let values):
            switch value {
            case .map(let entries), .record(let entries): try writeMap(entries, values: values)
            default: throw mismatch(schema, value)
            }
        case .union(let branches):
            try writeUnion(value, branches: branches, schema: schema)
        case .fixed(let fixed):
            switch value {
            case .fixed(let payload), .bytes(let payload):
                guard payload.count == fixed.size else {
                    throw AvroError(
                        .typeMismatch,
                        "expected \(fixed.size) bytes for fixed \(fixed.name), got \(payload.count)"
                    )
                }
                bytes.append(contentsOf: payload)
            default: throw mismatch(schema, value)
            }
        }
    }

    private mutating func writeNumber(_ value: AvroValue, as schema: AvroSchema) throws(AvroError) {
        switch (schema, value) {
        case (.int, .int(let number)): writeLong(Int64(number))
        case (.int, .long(let number)):
            guard Int32(exactly: number) != nil else {
                throw AvroError(.valueOutOfRange, "\(number) does not fit in an int")
            }
            writeLong(number)
        case (.long, .int(let number)): writeLong(Int64(number))
        case (.long, .long(let number)): writeLong(number)
        case (.float, .int(let number)): writeFloat(Float(number))
        case (.float, .long(let number)): writeFloat(Float(number))
        case (.float, .float(let number)): writeFloat(number)
        case (.float, .double(let number)): writeFloat(Float(number))
        case (.double, .int(let number)): writeDouble(Double(number))
        case (.double, .long(let number)): writeDouble(Double(number))
        case (.double, .float(let number)): writeDouble(Double(number))
        case (.double, .double(let number)): writeDouble(number)
        default: throw mismatch(schema, value)
        }
    }

    private mutating func writeRecord(_ fields: [String: AvroValue], as record: AvroRecordSchema) throws(AvroError) {
        var used = 0
        // Indexing (rather than iterating copies of) the fields saves retaining each field's members.
        let schemaFields = record.fields
        for position in schemaFields.indices {
            let name = schemaFields[position].name
            let value: AvroValue
            if let given = fields[name] {
                used += 1
                value = given
            } else if let fallback = schemaFields[position].default {
                value = fallback
            } else {
                throw AvroError(.missingField, "missing field \"\(name)\", which has no default").prefixed(field: name)
            }
            do throws(AvroError) {
                try write(value, as: schemaFields[position].type)
            } catch {
                throw error.prefixed(field: name)
            }
        }
        if rejectsUnknownFields, used < fields.count {
            let unknown = fields.keys.filter { record.fieldIndex[$0] == nil }.sorted()
            throw AvroError(
                .unknownField,
                "record \(record.name) has no field \(unknown.map { "\"\($0)\"" }.joined(separator: ", "))"
            )
        }
    }

    private mutating func writeEnum(_ value: AvroValue, as enumeration: AvroEnumSchema) throws(AvroError) {
        let symbol: String
        switch value {
        case .enumSymbol(let given), .string(let given): symbol = given
        default: throw mismatch(.enumeration(enumeration), value)
        }
        guard let index = enumeration.index(of: symbol) else {
            throw AvroError(
                .unknownSymbol,
                "unknown symbol \"\(symbol)\" for enum \(enumeration.name) "
                    + "(expected one of \(enumeration.symbols.joined(separator: ", ")))"
            )
        }
        writeLong(Int64(index))
    }

    private mutating func writeArray(_ elements: [AvroValue], items: AvroSchema) throws(AvroError) {
        if !elements.isEmpty {
            writeLong(Int64(elements.count))
            for (index, element) in elements.enumerated() {
                do throws(AvroError) {
                    try write(element, as: items)
                } catch {
                    throw error.prefixed(index: index)
                }
            }
        }
        bytes.append(0)
    }

    private mutating func writeMap(_ entries: [String: AvroValue], values: AvroSchema) throws(AvroError) {
        if !entries.isEmpty {
            writeLong(Int64(entries.count))
            let sorted = entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (key, value) in sorted {
                writeString(key)
                do throws(AvroError) {
                    try write(value, as: values)
                } catch {
                    throw error.prefixed(key: key)
                }
            }
        }
        bytes.append(0)
    }

    private mutating func writeUnion(
        _ value: AvroValue,
        branches: [AvroSchema],
        schema: AvroSchema
    ) throws(AvroError) {
        if case .union(let branch, let inner) = value {
            guard branches.indices.contains(branch) else {
                throw AvroError(.invalidUnionIndex, "branch \(branch) is outside \(schema.typeName)")
            }
            writeLong(Int64(branch))
            try write(inner, as: branches[branch])
            return
        }
        var firstError: AvroError?
        if writeFirstAcceptingBranch(value, branches: branches, exactKind: true, firstError: &firstError) {
            return
        }
        if writeFirstAcceptingBranch(value, branches: branches, exactKind: false, firstError: &firstError) {
            return
        }
        throw firstError ?? mismatch(schema, value)
    }

    /// Writes `value` as the first branch that accepts it and encodes it without error.
    private mutating func writeFirstAcceptingBranch(
        _ value: AvroValue,
        branches: [AvroSchema],
        exactKind: Bool,
        firstError: inout AvroError?
    ) -> Bool {
        let mark = bytes.count
        for (index, branch) in branches.enumerated() where Self.accepts(branch, value, exactKind: exactKind) {
            writeLong(Int64(index))
            do throws(AvroError) {
                try write(value, as: branch)
                return true
            } catch {
                firstError = firstError ?? error
                bytes.removeSubrange(mark...)
            }
        }
        return false
    }

    /// Whether `value` is of the same kind as `branch` (`exactKind`), or else convertible to it.
    private static func accepts(_ branch: AvroSchema, _ value: AvroValue, exactKind: Bool) -> Bool {
        switch (branch, value) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float),
            (.double, .double), (.bytes, .bytes), (.string, .string), (.record, .record),
            (.enumeration, .enumSymbol), (.array, .array), (.map, .map), (.fixed, .fixed):
            return exactKind
        case (.long, .int), (.float, .int), (.float, .long), (.float, .double), (.double, .int),
            (.double, .long), (.double, .float), (.bytes, .string), (.bytes, .fixed), (.record, .map),
            (.enumeration, .string), (.map, .record), (.fixed, .bytes):
            return !exactKind
        case (.int, .long(let number)):
            return !exactKind && Int32(exactly: number) != nil
        default:
            return false
        }
    }

    private func mismatch(_ schema: AvroSchema, _ value: AvroValue) -> AvroError {
        AvroError(.typeMismatch, "expected \(schema.typeName), got \(value.kindName)")
    }
}
