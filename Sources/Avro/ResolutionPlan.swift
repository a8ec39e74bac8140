/// How to read data written with one schema (the writer's) as another (the reader's), computed
/// once per schema pair following the resolution rules of the Avro specification.
indirect enum ResolutionPlan: Sendable {
    /// The wire format and the resulting value are those of this schema.
    case direct(AvroSchema)
    /// A primitive written as one type and read as a wider one.
    case promote(Promotion)
    case record(RecordResolution)
    case enumeration(EnumResolution)
    case array(ResolutionPlan, itemsTakeNoBytes: Bool)
    case map(ResolutionPlan)
    /// The writer wrote a union: one outcome per writer branch.
    case writerUnion([UnionBranchResolution])

    enum Promotion: Sendable {
        case intToLong, intToFloat, intToDouble, longToFloat, longToDouble, floatToDouble
        case stringToBytes, bytesToString
    }

    struct RecordResolution: Sendable {
        enum Step: Sendable {
            /// Read the writer's field into the reader's field of this name.
            case read(readerField: String, plan: ResolutionPlan)
            /// Skip a writer field the reader does not have.
            case skip(writerField: String, schema: AvroSchema)
        }

        struct Default: Sendable {
            var field: String
            var value: AvroValue
        }

        var steps: [Step]
        /// Reader fields the writer lacks, with their defaults.
        var defaults: [Default]
        var fieldCount: Int
    }

    struct EnumResolution: Sendable {
        var readerName: String
        var writerSymbols: [String]
        /// For each writer index, the reader's symbol (its default for unknown symbols), if any.
        var readerSymbols: [String?]
    }

    enum UnionBranchResolution: Sendable {
        case plan(ResolutionPlan)
        case incompatible(AvroError)
    }
}

extension ResolutionPlan {
    /// Computes how to read `writer` data as `reader`.
    ///
    /// - Throws: ``AvroError`` `incompatibleSchemas` when no data of `writer` can be read as
    ///   `reader` (mismatched types, a reader field with no default missing from the writer, a
    ///   writer type matching no branch of a reader union). Mismatches that depend on the data (a
    ///   writer union branch or an enum symbol the reader lacks) are reported when decoding.
    static func compile(writer: AvroSchema, reader: AvroSchema) throws(AvroError) -> ResolutionPlan {
        if writer == reader {
            return .direct(reader)
        }
        switch (writer, reader) {
        case (.union(let writerBranches), _):
            return .writerUnion(
                writerBranches.map { branch in
                    do throws(AvroError) {
                        return .plan(try compile(writer: branch, reader: reader))
                    } catch {
                        return .incompatible(error)
                    }
                }
            )
        case (_, .union(let readerBranches)):
            return try compileReaderUnion(writer: writer, readerBranches: readerBranches, reader: reader)
        case (.int, .long): return .promote(.intToLong)
        case (.int, .float): return .promote(.intToFloat)
        case (.int, .double): return .promote(.intToDouble)
        case (.long, .float): return .promote(.longToFloat)
        case (.long, .double): return .promote(.longToDouble)
        case (.float, .double): return .promote(.floatToDouble)
        case (.string, .bytes): return .promote(.stringToBytes)
        case (.bytes, .string): return .promote(.bytesToString)
        case (.record(let writerRecord), .record(let readerRecord))
        where namesMatch(writer: writerRecord, reader: readerRecord):
            return try compileRecord(writer: writerRecord, reader: readerRecord)
        case (.enumeration(let writerEnum), .enumeration(let readerEnum))
        where namesMatch(writer: writerEnum, reader: readerEnum):
            return compileEnum(writer: writerEnum, reader: readerEnum)
        case (.fixed(let writerFixed), .fixed(let readerFixed))
        where namesMatch(writer: writerFixed, reader: readerFixed):
            guard writerFixed.size == readerFixed.size else {
                throw AvroError(
                    .incompatibleSchemas,
                    "writer's fixed \(writerFixed.name) has \(writerFixed.size) bytes, the reader's \(readerFixed.size)"
                )
            }
            return .direct(reader)
        case (.array(let writerItems), .array(let readerItems)):
            let items = try compile(writer: writerItems, reader: readerItems)
            // Items read directly as some schema (the reader's, or a branch of the reader's union).
            if case .direct(let itemSchema) = items { return .direct(.array(itemSchema)) }
            return .array(items, itemsTakeNoBytes: writerItems.takesNoBytes)
        case (.map(let writerValues), .map(let readerValues)):
            let values = try compile(writer: writerValues, reader: readerValues)
            if case .direct(let valueSchema) = values { return .direct(.map(valueSchema)) }
            return .map(values)
        default:
            throw AvroError(
                .incompatibleSchemas,
                "writer's \(writer.typeName) cannot be read as the reader's \(reader.typeName)"
            )
        }
    }

    /// Resolves a non-union writer against the first reader branch of the same kind that
    /// resolves, else the first branch it can be promoted to.
    private static func compileReaderUnion(
        writer: AvroSchema,
        readerBranches: [AvroSchema],
        reader: AvroSchema
    ) throws(AvroError) -> ResolutionPlan {
        var firstError: AvroError?
        for sameKind in [true, false] {
            for branch in readerBranches where writer.hasSameKind(as: branch) == sameKind {
                do throws(AvroError) {
                    return try compile(writer: writer, reader: branch)
                } catch {
                    if sameKind { firstError = firstError ?? error }
                }
            }
        }
        throw firstError
            ?? AvroError(
                .incompatibleSchemas,
                "writer's \(writer.typeName) matches no branch of the reader's \(reader.typeName)"
            )
    }

    private static func compileRecord(
        writer: AvroRecordSchema,
        reader: AvroRecordSchema
    ) throws(AvroError) -> ResolutionPlan {
        var readerIndex: [String: Int] = [:]
        for (position, field) in reader.fields.enumerated() {
            readerIndex[field.name] = position
        }
        for (position, field) in reader.fields.enumerated() {
            for alias in field.aliases where readerIndex[alias] == nil {
                readerIndex[alias] = position
            }
        }
        var matched = Array(repeating: false, count: reader.fields.count)
        var steps: [RecordResolution.Step] = []
        for writerField in writer.fields {
            guard let position = readerIndex[writerField.name], !matched[position] else {
                steps.append(.skip(writerField: writerField.name, schema: writerField.type))
                continue
            }
            matched[position] = true
            let readerField = reader.fields[position]
            do throws(AvroError) {
                let plan = try compile(writer: writerField.type, reader: readerField.type)
                steps.append(.read(readerField: readerField.name, plan: plan))
            } catch {
                throw error.prefixed(field: readerField.name)
            }
        }
        var defaults: [RecordResolution.Default] = []
        for (position, field) in reader.fields.enumerated() where !matched[position] {
            guard let value = field.default else {
                throw AvroError(
                    .incompatibleSchemas,
                    "reader's field \"\(field.name)\" is missing from the writer's \(writer.name) and has no default"
                )
                .prefixed(field: field.name)
            }
            defaults.append(.init(field: field.name, value: value))
        }
        return .record(RecordResolution(steps: steps, defaults: defaults, fieldCount: reader.fields.count))
    }

    private static func compileEnum(writer: AvroEnumSchema, reader: AvroEnumSchema) -> ResolutionPlan {
        if writer.symbols == reader.symbols {
            return .direct(.enumeration(reader))
        }
        let readerSymbols = writer.symbols.map { symbol in
            reader.index(of: symbol) != nil ? symbol : reader.default
        }
        return .enumeration(
            EnumResolution(readerName: reader.name, writerSymbols: writer.symbols, readerSymbols: readerSymbols)
        )
    }

    /// Named types match when their unqualified names are equal, or a reader alias names the writer.
    private static func namesMatch(writer: some NamedSchema, reader: some NamedSchema) -> Bool {
        writer.name == reader.name || writer.fullName == reader.fullName
            || reader.aliases.contains {
                $0 == writer.fullName || splitFullName($0, namespace: nil).name == writer.name
            }
    }
}

/// The identity shared by records, enums and fixed.
protocol NamedSchema {
    var name: String { get }
    var fullName: String { get }
    var aliases: [String] { get }
}

extension AvroRecordSchema: NamedSchema {}
extension AvroEnumSchema: NamedSchema {}
extension AvroFixedSchema: NamedSchema {}
