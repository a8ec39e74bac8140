/// Converts a field's JSON `default` into an ``AvroValue`` of the field's schema.
enum DefaultValueParser {
    /// The default as a value of `schema`, following the Avro rules: bytes and fixed as strings of
    /// code points 0–255, enums as symbols, unions as a value of their first branch.
    static func value(_ json: JSONValue, for schema: AvroSchema) throws(AvroError) -> AvroValue {
        do throws(AvroError) {
            return try convert(json, schema)
        } catch {
            guard error.code == .invalidDefault else { throw error }
            throw AvroError(.invalidDefault, "invalid default: \(error.reason)", path: error.path)
        }
    }

    private static func convert(_ json: JSONValue, _ schema: AvroSchema) throws(AvroError) -> AvroValue {
        switch (schema, json) {
        case (.null, .null): return .null
        case (.boolean, .bool(let value)): return .boolean(value)
        case (.int, _):
            guard let integer = integer(json), let value = Int32(exactly: integer) else { break }
            return .int(value)
        case (.long, _):
            guard let value = integer(json) else { break }
            return .long(value)
        case (.float, .integer(let value)): return .float(Float(value))
        case (.float, .number(let value)): return .float(Float(value))
        case (.double, .integer(let value)): return .double(Double(value))
        case (.double, .number(let value)): return .double(value)
        case (.string, .string(let value)): return .string(value)
        case (.bytes, .string(let value)):
            guard let bytes = latin1Bytes(value) else { break }
            return .bytes(bytes)
        case (.fixed(let fixed), .string(let value)):
            guard let bytes = latin1Bytes(value), bytes.count == fixed.size else { break }
            return .fixed(bytes)
        case (.enumeration(let enumeration), .string(let symbol)):
            guard enumeration.index(of: symbol) != nil else {
                throw AvroError(.invalidDefault, "\"\(symbol)\" is not a symbol of enum \(enumeration.name)")
            }
            return .enumSymbol(symbol)
        case (.array(let items), .array(let elements)):
            var values: [AvroValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                do throws(AvroError) {
                    values.append(try convert(element, items))
                } catch {
                    throw error.prefixed(index: index)
                }
            }
            return .array(values)
        case (.map(let valueSchema), .object(let members)):
            var entries: [String: AvroValue] = [:]
            for (key, member) in members {
                do throws(AvroError) {
                    entries[key] = try convert(member, valueSchema)
                } catch {
                    throw error.prefixed(key: key)
                }
            }
            return .map(entries)
        case (.record(let record), .object):
            return try convertRecord(json, record)
        case (.union(let branches), _):
            guard let first = branches.first else {
                throw AvroError(.invalidDefault, "an empty union has no default")
            }
            do throws(AvroError) {
                return try convert(json, first)
            } catch {
                guard error.path.isEmpty else { throw error }
                throw AvroError(
                    .invalidDefault,
                    "a union's default must match its first branch (\(first.typeName)), got \(json.shortText)"
                )
            }
        default: break
        }
        throw AvroError(.invalidDefault, "expected \(schema.typeName), got \(json.shortText)")
    }

    private static func convertRecord(_ json: JSONValue, _ record: AvroRecordSchema) throws(AvroError) -> AvroValue {
        var fields: [String: AvroValue] = [:]
        for field in record.fields {
            if let member = json[field.name] {
                do throws(AvroError) {
                    fields[field.name] = try convert(member, field.type)
                } catch {
                    throw error.prefixed(field: field.name)
                }
            } else if let fallback = field.default {
                fields[field.name] = fallback
            } else {
                throw AvroError(.invalidDefault, "record default lacks field \(field.name), which has no default")
            }
        }
        return .record(fields)
    }

    private static func integer(_ json: JSONValue) -> Int64? {
        switch json {
        case .integer(let value): return value
        case .number(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// The bytes of a JSON string whose code points are all in 0...255.
    private static func latin1Bytes(_ string: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for scalar in string.unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }
}
