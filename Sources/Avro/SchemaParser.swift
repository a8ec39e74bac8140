/// The state of one schema parse: the named types defined so far.
struct SchemaParser {
    private var types: [String: AvroSchema] = [:]
    private var defining: Set<String> = []

    static let primitives: [String: AvroSchema] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long,
        "float": .float, "double": .double, "bytes": .bytes, "string": .string,
    ]

    mutating func registerNamedTypes(in schema: AvroSchema) {
        switch schema {
        case .record(let record):
            types[record.fullName] = schema
            for field in record.fields {
                registerNamedTypes(in: field.type)
            }
        case .enumeration(let enumeration): types[enumeration.fullName] = schema
        case .fixed(let fixed): types[fixed.fullName] = schema
        case .array(let items): registerNamedTypes(in: items)
        case .map(let values): registerNamedTypes(in: values)
        case .union(let branches):
            for branch in branches {
                registerNamedTypes(in: branch)
            }
        default: break
        }
    }

    /// Parses a type; also returns the `logicalType` annotation found on it, if any.
    mutating func parseType(
        _ json: JSONValue,
        namespace: String?
    ) throws(AvroError) -> (schema: AvroSchema, logicalType: String?) {
        switch json {
        case .string(let name):
            return (try resolve(name, namespace: namespace), nil)
        case .array(let branches):
            return try parseUnion(branches, namespace: namespace)
        case .object:
            return try parseObject(json, namespace: namespace)
        default:
            throw AvroError(.invalidSchema, "a type must be a string, an object or an array, got \(json.kindName)")
        }
    }

    private mutating func parseObject(
        _ json: JSONValue,
        namespace: String?
    ) throws(AvroError) -> (schema: AvroSchema, logicalType: String?) {
        guard let type = json["type"] else {
            throw AvroError(.invalidSchema, "missing \"type\" attribute")
        }
        let logicalType = try optionalString(json, "logicalType")
        guard case .string(let typeName) = type else {
            let inner = try parseType(type, namespace: namespace)
            return (inner.schema, logicalType ?? inner.logicalType)
        }
        switch typeName {
        case "record", "error":
            return (try parseRecord(json, namespace: namespace), logicalType)
        case "enum":
            return (try parseEnum(json, namespace: namespace), logicalType)
        case "fixed":
            return (try parseFixed(json, namespace: namespace, logicalType: logicalType), logicalType)
        case "array":
            guard let items = json["items"] else {
                throw AvroError(.invalidSchema, "array type is missing \"items\"")
            }
            let parsed = try parseType(items, namespace: namespace)
            return (.array(parsed.schema), logicalType)
        case "map":
            guard let values = json["values"] else {
                throw AvroError(.invalidSchema, "map type is missing \"values\"")
            }
            let parsed = try parseType(values, namespace: namespace)
            return (.map(parsed.schema), logicalType)
        default:
            return (try resolve(typeName, namespace: namespace), logicalType)
        }
    }

    private mutating func parseUnion(
        _ json: [JSONValue],
        namespace: String?
    ) throws(AvroError) -> (schema: AvroSchema, logicalType: String?) {
        var branches: [AvroSchema] = []
        var seen: Set<String> = []
        var logicalType: String?
        for (position, branchJSON) in json.enumerated() {
            let branch: (schema: AvroSchema, logicalType: String?)
            do throws(AvroError) {
                branch = try parseType(branchJSON, namespace: namespace)
            } catch {
                throw AvroError(error.code, "union branch \(position): \(error.reason)", path: error.path)
            }
            let key: String
            switch branch.schema {
            case .union:
                throw AvroError(.invalidSchema, "a union may not immediately contain another union")
            case .record, .enumeration, .fixed:
                key = branch.schema.fullName ?? ""
            case .array: key = "array"
            case .map: key = "map"
            default: key = branch.schema.typeName
            }
            guard seen.insert(key).inserted else {
                throw AvroError(.duplicateName, "union contains \(key) more than once")
            }
            branches.append(branch.schema)
            logicalType = logicalType ?? branch.logicalType
        }
        return (.union(branches), logicalType)
    }

    private mutating func parseRecord(_ json: JSONValue, namespace enclosing: String?) throws(AvroError) -> AvroSchema {
        let identity = try parseIdentity(json, enclosing: enclosing, kind: "record")
        guard case .array(let fieldsJSON)? = json["fields"] else {
            throw AvroError(.invalidSchema, "record \(identity.name) must have a \"fields\" array")
        }
        defining.insert(identity.fullName)
        var fields: [AvroField] = []
        var names: Set<String> = []
        for (position, fieldJSON) in fieldsJSON.enumerated() {
            guard case .string(let name)? = fieldJSON["name"] else {
                throw AvroError(.invalidSchema, "field \(position) of record \(identity.name) has no \"name\"")
            }
            do throws(AvroError) {
                let field = try parseField(fieldJSON, name: name, namespace: identity.namespace)
                guard names.insert(name).inserted else {
                    throw AvroError(.duplicateName, "record \(identity.name) has two fields named \(name)")
                }
                fields.append(field)
            } catch {
                throw error.prefixed(field: name)
            }
        }
        defining.remove(identity.fullName)
        let record = AvroRecordSchema(
            name: identity.name,
            namespace: identity.namespace,
            fields: fields,
            aliases: identity.aliases,
            doc: try optionalString(json, "doc")
        )
        types[identity.fullName] = .record(record)
        return .record(record)
    }

    private mutating func parseField(_ json: JSONValue, name: String, namespace: String?) throws(AvroError) -> AvroField
    {
        guard isValidName(name) else {
            throw AvroError(.invalidSchema, "invalid field name \"\(name)\"")
        }
        guard let typeJSON = json["type"] else {
            throw AvroError(.invalidSchema, "field has no \"type\"")
        }
        let type = try parseType(typeJSON, namespace: namespace)
        var defaultValue: AvroValue?
        if let defaultJSON = json["default"] {
            defaultValue = try DefaultValueParser.value(defaultJSON, for: type.schema)
        }
        let aliases = try nameList(json, "aliases")
        for alias in aliases where !isValidName(alias) {
            throw AvroError(.invalidSchema, "invalid field alias \"\(alias)\"")
        }
        if let order = try optionalString(json, "order"), !["ascending", "descending", "ignore"].contains(order) {
            throw AvroError(.invalidSchema, "invalid order \"\(order)\"")
        }
        return AvroField(
            name: name,
            type: type.schema,
            default: defaultValue,
            aliases: aliases,
            doc: try optionalString(json, "doc"),
            logicalType: try optionalString(json, "logicalType") ?? type.logicalType
        )
    }

    private mutating func parseEnum(_ json: JSONValue, namespace enclosing: String?) throws(AvroError) -> AvroSchema {
        let identity = try parseIdentity(json, enclosing: enclosing, kind: "enum")
        guard case .array(let symbolsJSON)? = json["symbols"] else {
            throw AvroError(.invalidSchema, "enum \(identity.name) must have a \"symbols\" array")
        }
        var symbols: [String] = []
        for symbolJSON in symbolsJSON {
            guard case .string(let symbol) = symbolJSON, isValidName(symbol) else {
                throw AvroError(.invalidSchema, "enum \(identity.name) has an invalid symbol \(symbolJSON.shortText)")
            }
            guard !symbols.contains(symbol) else {
                throw AvroError(.duplicateName, "enum \(identity.name) has the symbol \(symbol) twice")
            }
            symbols.append(symbol)
        }
        let defaultSymbol = try optionalString(json, "default")
        if let defaultSymbol, !symbols.contains(defaultSymbol) {
            throw AvroError(
                .invalidDefault,
                "enum \(identity.name) default \"\(defaultSymbol)\" is not one of its symbols"
            )
        }
        let schema = AvroSchema.enumeration(
            AvroEnumSchema(
                name: identity.name,
                namespace: identity.namespace,
                symbols: symbols,
                default: defaultSymbol,
                aliases: identity.aliases,
                doc: try optionalString(json, "doc")
            )
        )
        types[identity.fullName] = schema
        return schema
    }

    private mutating func parseFixed(
        _ json: JSONValue,
        namespace enclosing: String?,
        logicalType: String?
    ) throws(AvroError) -> AvroSchema {
        let identity = try parseIdentity(json, enclosing: enclosing, kind: "fixed")
        guard case .integer(let size)? = json["size"], size >= 0, size <= Int32.max else {
            throw AvroError(.invalidSchema, "fixed \(identity.name) must have a non-negative integer \"size\"")
        }
        let schema = AvroSchema.fixed(
            AvroFixedSchema(
                name: identity.name,
                namespace: identity.namespace,
                size: Int(size),
                aliases: identity.aliases,
                logicalType: logicalType
            )
        )
        types[identity.fullName] = schema
        return schema
    }

    private struct Identity {
        var name: String
        var namespace: String?
        var fullName: String
        var aliases: [String]
    }

    /// Reads `name`, `namespace` and `aliases` of a named type and checks the name is new.
    private func parseIdentity(_ json: JSONValue, enclosing: String?, kind: String) throws(AvroError) -> Identity {
        guard case .string(let rawName)? = json["name"] else {
            throw AvroError(.invalidSchema, "\(kind) type has no \"name\"")
        }
        var namespace = enclosing
        switch json["namespace"] {
        case .string(let value)?: namespace = value.isEmpty ? nil : value
        case .null?: namespace = nil
        case nil: break
        case let other?:
            throw AvroError(.invalidSchema, "\(kind) \(rawName) has a non-string namespace \(other.kindName)")
        }
        let (name, resolvedNamespace) = splitFullName(rawName, namespace: namespace)
        guard isValidFullName(rawName), resolvedNamespace.map(isValidFullName) ?? true else {
            throw AvroError(.invalidSchema, "invalid \(kind) name \"\(joinFullName(name, resolvedNamespace))\"")
        }
        guard Self.primitives[name] == nil else {
            throw AvroError(.invalidSchema, "\(kind) may not be named after the primitive type \(name)")
        }
        let fullName = joinFullName(name, resolvedNamespace)
        guard types[fullName] == nil, !defining.contains(fullName) else {
            throw AvroError(.duplicateName, "the name \(fullName) is defined twice")
        }
        var aliases: [String] = []
        for alias in try nameList(json, "aliases") {
            guard isValidFullName(alias) else {
                throw AvroError(.invalidSchema, "\(kind) \(name) has an invalid alias \"\(alias)\"")
            }
            aliases.append(alias.contains(".") ? alias : joinFullName(alias, resolvedNamespace))
        }
        return Identity(name: name, namespace: resolvedNamespace, fullName: fullName, aliases: aliases)
    }

    /// Resolves a primitive name or a reference to a named type defined earlier.
    private func resolve(_ name: String, namespace: String?) throws(AvroError) -> AvroSchema {
        if let primitive = Self.primitives[name] {
            return primitive
        }
        var candidates = [name]
        if !name.contains("."), let namespace {
            candidates.insert(namespace + "." + name, at: 0)
        }
        for candidate in candidates {
            if let type = types[candidate] {
                return type
            }
            if defining.contains(candidate) {
                throw AvroError(.unsupported, "recursive reference to \(candidate) is not supported")
            }
        }
        throw AvroError(.unknownType, "unknown type \"\(name)\"")
    }

    private func optionalString(_ json: JSONValue, _ key: String) throws(AvroError) -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw AvroError(.invalidSchema, "\"\(key)\" must be a string, got \(other.kindName)")
        }
    }

    private func nameList(_ json: JSONValue, _ key: String) throws(AvroError) -> [String] {
        switch json[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                guard case .string(let name) = item else {
                    throw AvroError(.invalidSchema, "\"\(key)\" must be an array of strings")
                }
                names.append(name)
            }
            return names
        case let other?: throw AvroError(.invalidSchema, "\"\(key)\" must be an array, got \(other.kindName)")
        }
    }
}

/// Whether `name` matches `[A-Za-z_][A-Za-z0-9_]*`.
func isValidName(_ name: String) -> Bool {
    guard let first = name.utf8.first, isNameStart(first) else { return false }
    return name.utf8.dropFirst().allSatisfy { isNameStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
}

/// Whether every dot-separated component of `name` is a valid name.
func isValidFullName(_ name: String) -> Bool {
    name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isValidName(String($0)) }
}

private func isNameStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || byte == UInt8(ascii: "_")
}
