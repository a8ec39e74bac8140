extension BinaryReader {
    /// Reads a value following a resolution plan (writer's data, reader's shape).
    mutating func read(_ plan: ResolutionPlan) throws(AvroError) -> AvroValue {
        switch plan {
        case .direct(let schema):
            return try read(schema)
        case .promote(let promotion):
            return try read(promotion)
        case .record(let record):
            return try read(record)
        case .enumeration(let resolution):
            let start = index
            let position = try readLong()
            guard position >= 0, position < resolution.writerSymbols.count else {
                throw AvroError(
                    .invalidEnumIndex,
                    "enum index \(position) at byte \(start) is outside the writer's "
                        + "\(resolution.writerSymbols.count) symbols"
                )
            }
            guard let symbol = resolution.readerSymbols[Int(position)] else {
                throw AvroError(
                    .unknownSymbol,
                    "writer's symbol \"\(resolution.writerSymbols[Int(position)])\" is not in the reader's enum "
                        + "\(resolution.readerName), which has no default"
                )
            }
            return .enumSymbol(symbol)
        case .array(let items, let itemsTakeNoBytes):
            return .array(
                try readArray(itemsTakeNoBytes: itemsTakeNoBytes) { reader throws(AvroError) in try reader.read(items) }
            )
        case .map(let values):
            return .map(try readMap { reader throws(AvroError) in try reader.read(values) })
        case .writerUnion(let branches):
            let branch = try readUnionIndex(branches.count)
            switch branches[branch] {
            case .plan(let plan):
                return try read(plan)
            case .incompatible(let error):
                throw AvroError(
                    .incompatibleSchemas,
                    "writer's union branch \(branch) cannot be read: \(error.reason)",
                    path: error.path
                )
            }
        }
    }

    private mutating func read(_ promotion: ResolutionPlan.Promotion) throws(AvroError) -> AvroValue {
        switch promotion {
        case .intToLong: return .long(Int64(try readInt()))
        case .intToFloat: return .float(Float(try readInt()))
        case .intToDouble: return .double(Double(try readInt()))
        case .longToFloat: return .float(Float(try readLong()))
        case .longToDouble: return .double(Double(try readLong()))
        case .floatToDouble: return .double(Double(try readFloat()))
        case .stringToBytes: return .bytes(try readBytes())
        case .bytesToString: return .string(try readString())
        }
    }

    private mutating func read(_ record: ResolutionPlan.RecordResolution) throws(AvroError) -> AvroValue {
        var fields: [String: AvroValue] = [:]
        fields.reserveCapacity(record.fieldCount)
        for step in record.steps {
            switch step {
            case .read(let name, let plan):
                do throws(AvroError) {
                    fields[name] = try read(plan)
                } catch {
                    throw error.prefixed(field: name)
                }
            case .skip(let name, let schema):
                do throws(AvroError) {
                    try skipValue(schema)
                } catch {
                    throw error.prefixed(field: name)
                }
            }
        }
        for fallback in record.defaults {
            fields[fallback.field] = fallback.value
        }
        return .record(fields)
    }
}
