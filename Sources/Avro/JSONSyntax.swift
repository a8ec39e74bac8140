/// Checks a JSON text strictly before another decoder reads it: RFC 8259 syntax, a nesting
/// limit, and no duplicate keys in an object.
///
/// Decoders that accept what this refuses (a duplicate key whose first value wins, a document so
/// deep it is refused without saying why) stay behind this check, and their errors keep the
/// line and column this one reports.
public enum JSONSyntax {
    /// What the top level of a well-formed document holds.
    public struct Outline: Sendable, Equatable {
        /// `object`, `array`, `string`, `number`, `boolean` or `null`.
        public var kind: String
        /// The keys of a top-level object, in document order; empty for other kinds.
        public var keys: [String]
    }

    /// Checks `bytes` and outlines the top level.
    ///
    /// - Parameter maxDepth: the deepest nesting of arrays and objects accepted (the top-level
    ///   container is level 1). The check recurses once per level, so the limit bounds its stack.
    ///   - maxElements: the most elements of any one array (a plan's tasks: the size limit is
    ///     checked while the document is read, before anything of its size is built).
    ///
    /// Nothing of the document is kept but its top-level keys: a check costs no memory of the
    /// document's size.
    public static func check(
        _ bytes: [UInt8],
        maxDepth: Int,
        maxElements: Int = .max
    ) throws(JSONSyntaxError) -> Outline {
        let (top, keys) = try JSONParser.check(bytes, maxDepth: maxDepth, maxElements: maxElements)
        return Outline(kind: top.kindName, keys: keys)
    }
}

/// A JSON text that is not well-formed, too deep, or repeats a key.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Equatable {
        /// Not RFC 8259 JSON.
        case syntax
        /// Nested deeper than the limit.
        case tooDeep
        /// An object has this key twice.
        case duplicateKey(String)
        /// An array has more elements than the limit.
        case tooManyElements(Int)
    }

    public var kind: Kind
    /// 1-based line of the offending character.
    public var line: Int
    /// 1-based column, in characters.
    public var column: Int
    /// What is wrong there, e.g. `expected ',' or '}'`.
    public var reason: String

    public init(kind: Kind, line: Int, column: Int, reason: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// `line 3, column 14`.
    public var location: String { "line \(line), column \(column)" }

    public var description: String { "\(location): \(reason)" }
}
