extension BinaryReader {
    /// Reads a value written with `schema`.
    mutating func read(_ schema: AvroSchema) throws(AvroError) -> AvroValue {
        switch schema {
        case .null: return .null
        case .boolean: return .boolean(try readBoolean())
        case .int: return .int(try readInt())
        case .long: return .long(try readLong())
        case .float: return .float(try readFloat())
        case .double: return .double(try readDouble())
        case .bytes: return .bytes(try readBytes())
        case .string: return .string(try readString())
        case .record(let record):
            var fields: [String: AvroValue] = [:]
            fields.reserveCapacity(record.fields.count)
            let schemaFields = record.fields
            for position in schemaFields.indices {
                do throws(AvroError) {
                    fields[schemaFields[position].name] = try read(schemaFields[position].type)
                } catch {
                    throw error.prefixed(field: schemaFields[position].name)
                }
            }
            return .record(fields)
        case .enumeration(let enumeration):
            let start = index
            let position = try readLong()
            guard position >= 0, position < enumeration.symbols.count else {
                throw AvroError(
                    .invalidEnumIndex,
                    "enum index \(position) at byte \(start) is outside the "
                        + "\(enumeration.symbols.count) symbols of \(enumeration.name)"
                )
            }
            return .enumSymbol(enumeration.symbols[Int(position)])
        case .array(let items):
            return .array(
                try readArray(itemsTakeNoBytes: items.takesNoBytes) { reader throws(AvroError) in try reader.read(items)
                }
            )
        case .map(let values):
            return .map(try readMap { reader throws(AvroError) in try reader.read(values) })
        case .union(let branches):
            return try read(branches[try readUnionIndex(branches.count)])
        case .fixed(let fixed):
            return .fixed(try readRaw(fixed.size))
        }
    }

    mutating func readUnionIndex(_ count: Int) throws(AvroError) -> Int {
        let start = index
        let branch = try readLong()
        guard branch >= 0, branch < count else {
            throw AvroError(
                .invalidUnionIndex,
                "union branch index \(branch) at byte \(start) is outside the union's \(count) branches"
            )
        }
        return Int(branch)
    }

    /// Skips a value written with `schema`, without materializing it.
    mutating func skipValue(_ schema: AvroSchema) throws(AvroError) {
        switch schema {
        case .null: return
        case .boolean: try skip(1)
        case .int, .long, .enumeration: _ = try readLong()
        case .float: try skip(4)
        case .double: try skip(8)
        case .bytes, .string: try skip(try readLength())
        case .fixed(let fixed): try skip(fixed.size)
        case .record(let record):
            for field in record.fields {
                do throws(AvroError) {
                    try skipValue(field.type)
                } catch {
                    throw error.prefixed(field: field.name)
                }
            }
        case .union(let branches):
            try skipValue(branches[try readUnionIndex(branches.count)])
        case .array(let items):
            try skipBlocks(itemsTakeNoBytes: items.takesNoBytes) { reader throws(AvroError) in
                try reader.skipValue(items)
            }
        case .map(let values):
            try skipBlocks(itemsTakeNoBytes: false) { reader throws(AvroError) in
                try reader.skip(try reader.readLength())
                try reader.skipValue(values)
            }
        }
    }

    private mutating func skipBlocks(
        itemsTakeNoBytes: Bool,
        _ skipItem: (inout BinaryReader) throws(AvroError) -> Void
    ) throws(AvroError) {
        while true {
            let block = try readBlockCount(itemsTakeNoBytes: itemsTakeNoBytes)
            if block.count == 0 { return }
            if let byteSize = block.byteSize {
                try skip(byteSize)
                continue
            }
            for _ in 0..<block.count {
                try skipItem(&self)
            }
        }
    }
}

extension AvroSchema {
    /// Whether every value of this schema encodes to zero bytes (`null`, records of such fields,
    /// zero-size fixed).
    var takesNoBytes: Bool {
        switch self {
        case .null: return true
        case .record(let record): return record.fields.allSatisfy { $0.type.takesNoBytes }
        case .fixed(let fixed): return fixed.size == 0
        default: return false
        }
    }
}
