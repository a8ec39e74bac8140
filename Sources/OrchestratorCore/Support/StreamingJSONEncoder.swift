import Foundation

/// A compact JSON encoder that writes straight into a byte buffer as `encode(to:)` runs, instead of
/// building a tree of boxed values first. It is several times faster than Foundation's
/// `JSONEncoder` on the engine's hot path (ticket records, history events, telemetry), and its
/// output reads back with `JSONDecoder` to the same value.
///
/// Output: no whitespace, `/` not escaped, struct keys in the order the type encodes them
/// (declaration order for synthesised conformances: stable across runs), dictionary keys with
/// `String` keys sorted, so the same value always gives the same bytes. Doubles are written
/// like Foundation writes them (`1` for `1.0`); non-finite numbers throw. `Date`, `Data`, `URL`
/// and `Decimal` are delegated to Foundation's encoder with its default strategies.
///
/// Containers are closed lazily: a container stays open until its owner writes its next entry
/// or the encoding ends. That matches how every `encode(to:)` works in practice: depth first,
/// one value after the other.
public struct StreamingJSONEncoder: Sendable {
    public init() {}

    /// The JSON bytes of `value`.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let state = StreamState()
        state.output.reserveCapacity(512)
        try state.encodeValue(value, depth: 0, codingPath: [])
        state.closeFrames(above: -1)
        return state.output
    }

    /// The JSON text of `value`.
    public func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}

// MARK: - State

/// Dictionaries with string keys encode their entries in key order.
protocol SortedStringKeyedEncodable {
    func encodeSorted(into state: StreamState, depth: Int, codingPath: [any CodingKey]) throws
}

extension Dictionary: SortedStringKeyedEncodable where Key == String, Value: Encodable {
    func encodeSorted(into state: StreamState, depth: Int, codingPath: [any CodingKey]) throws {
        let frame = state.openFrame(depth: depth, owner: state.nextOwner(), isArray: false)
        for key in keys.sorted() {
            state.beginEntry(frame: frame.index, owner: frame.owner)
            state.writeString(key)
            state.output.append(UInt8(ascii: ":"))
            try state.encodeValue(self[key]!, depth: frame.index + 1, codingPath: codingPath)
        }
    }
}

/// The open containers and the output. One per top-level `encode` call; not shared across threads.
final class StreamState {
    struct Frame {
        var isArray: Bool
        var count: Int
        var owner: Int
    }

    // Only one encoding touches a state, on one thread: no dynamic exclusivity checks.
    @exclusivity(unchecked) var output: [UInt8] = []
    @exclusivity(unchecked) var frames: [Frame] = []
    private var owners = 0

    func nextOwner() -> Int {
        owners += 1
        return owners
    }

    /// Closes every frame deeper than `index`.
    func closeFrames(above index: Int) {
        while frames.count - 1 > index {
            let frame = frames.removeLast()
            output.append(frame.isArray ? UInt8(ascii: "]") : UInt8(ascii: "}"))
        }
    }

    /// Opens (or, for the same owner, re-opens) the container of a value at `depth`.
    func openFrame(depth: Int, owner: Int, isArray: Bool) -> (index: Int, owner: Int) {
        if frames.count > depth, frames[depth].owner == owner, frames[depth].isArray == isArray {
            closeFrames(above: depth)
            return (depth, owner)
        }
        closeFrames(above: depth - 1)
        frames.append(Frame(isArray: isArray, count: 0, owner: owner))
        output.append(isArray ? UInt8(ascii: "[") : UInt8(ascii: "{"))
        return (frames.count - 1, owner)
    }

    /// Starts an entry in the frame at `index`: closes deeper frames, writes the separator.
    func beginEntry(frame index: Int, owner: Int) {
        closeFrames(above: index)
        precondition(
            index < frames.count && frames[index].owner == owner,
            "StreamingJSONEncoder: a container was used after its parent moved on"
        )
        if frames[index].count > 0 { output.append(UInt8(ascii: ",")) }
        frames[index].count += 1
    }

    func writeKey(_ key: String, frame: Int, owner: Int) {
        beginEntry(frame: frame, owner: owner)
        writeString(key)
        output.append(UInt8(ascii: ":"))
    }

    // MARK: Scalars

    func writeString(_ string: String) {
        JSONEscape.appendQuoted(string, to: &output)
    }

    func writeInteger<I: BinaryInteger>(_ value: I) {
        output.append(contentsOf: String(value).utf8)
    }

    func writeBool(_ value: Bool) {
        output.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    func writeNull() {
        output.append(contentsOf: Self.nullBytes)
    }

    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)
    static let nullBytes: [UInt8] = Array("null".utf8)

    func writeFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(
        _ value: F,
        codingPath: [any CodingKey]
    ) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: codingPath, debugDescription: "\(value) cannot be written as a JSON number")
            )
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        output.append(contentsOf: text.utf8)
    }

    // MARK: Values

    /// Writes any value whose container (if it opens one) lives at `depth`.
    func encodeValue<T: Encodable>(_ value: T, depth: Int, codingPath: [any CodingKey]) throws {
        if T.self == String.self {
            writeString(value as! String)
        } else if T.self == Int.self {
            writeInteger(value as! Int)
        } else if T.self == Int64.self {
            writeInteger(value as! Int64)
        } else if T.self == Bool.self {
            writeBool(value as! Bool)
        } else if T.self == Double.self {
            try writeFloatingPoint(value as! Double, codingPath: codingPath)
        } else if T.self == Int32.self {
            writeInteger(value as! Int32)
        } else if let direct = value as? any StreamingJSONWritable {
            try writeDirect(direct, depth: depth)
        } else if T.self is any SortedStringKeyedEncodable.Type {
            try (value as! any SortedStringKeyedEncodable).encodeSorted(
                into: self,
                depth: depth,
                codingPath: codingPath
            )
        } else if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            output.append(contentsOf: try encoder.encode(value))
        } else {
            let before = output.count
            let encoder = StreamEncoder(state: self, depth: depth, owner: nextOwner(), codingPath: codingPath)
            try value.encode(to: encoder)
            if output.count == before {
                // The value wrote nothing at all: an empty object, like Foundation.
                output.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            }
        }
    }
}

// MARK: - Encoder

struct StreamEncoder: Encoder {
    let state: StreamState
    let depth: Int
    let owner: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let frame = state.openFrame(depth: depth, owner: owner, isArray: false)
        return KeyedEncodingContainer(
            StreamKeyedContainer<Key>(state: state, frame: frame.index, owner: frame.owner, codingPath: codingPath)
        )
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let frame = state.openFrame(depth: depth, owner: owner, isArray: true)
        return StreamUnkeyedContainer(state: state, frame: frame.index, owner: frame.owner, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleValueContainer(state: state, depth: depth, codingPath: codingPath)
    }
}

struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: StreamState
    let frame: Int
    let owner: Int
    let codingPath: [any CodingKey]

    private func key(_ key: Key) {
        state.writeKey(key.stringValue, frame: frame, owner: owner)
    }

    mutating func encodeNil(forKey key: Key) throws {
        self.key(key)
        state.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        self.key(key)
        state.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        self.key(key)
        state.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        self.key(key)
        try state.writeFloatingPoint(value, codingPath: codingPath)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        self.key(key)
        try state.writeFloatingPoint(value, codingPath: codingPath)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: Int16, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: UInt, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        self.key(key)
        state.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        self.key(key)
        try state.encodeValue(value, depth: frame + 1, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        self.key(key)
        let nested = state.openFrame(depth: frame + 1, owner: state.nextOwner(), isArray: false)
        return KeyedEncodingContainer(
            StreamKeyedContainer<NestedKey>(
                state: state,
                frame: nested.index,
                owner: nested.owner,
                codingPath: codingPath
            )
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        self.key(key)
        let nested = state.openFrame(depth: frame + 1, owner: state.nextOwner(), isArray: true)
        return StreamUnkeyedContainer(state: state, frame: nested.index, owner: nested.owner, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        self.key(key)
        return StreamEncoder(state: state, depth: frame + 1, owner: state.nextOwner(), codingPath: codingPath)
    }
}

struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let state: StreamState
    let frame: Int
    let owner: Int
    let codingPath: [any CodingKey]
    var count: Int { state.frames.indices.contains(frame) ? state.frames[frame].count : 0 }

    private func next() {
        state.beginEntry(frame: frame, owner: owner)
    }

    mutating func encodeNil() throws {
        next()
        state.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        next()
        state.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        next()
        state.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        next()
        try state.writeFloatingPoint(value, codingPath: codingPath)
    }

    mutating func encode(_ value: Float) throws {
        next()
        try state.writeFloatingPoint(value, codingPath: codingPath)
    }

    mutating func encode(_ value: Int) throws {
        next()
        state.writeInteger(value)
    }

    mutating func encode(_ value: Int64) throws {
        next()
        state.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        next()
        try state.encodeValue(value, depth: frame + 1, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<
        NestedKey
    > {
        next()
        let nested = state.openFrame(depth: frame + 1, owner: state.nextOwner(), isArray: false)
        return KeyedEncodingContainer(
            StreamKeyedContainer<NestedKey>(
                state: state,
                frame: nested.index,
                owner: nested.owner,
                codingPath: codingPath
            )
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next()
        let nested = state.openFrame(depth: frame + 1, owner: state.nextOwner(), isArray: true)
        return StreamUnkeyedContainer(state: state, frame: nested.index, owner: nested.owner, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        next()
        return StreamEncoder(state: state, depth: frame + 1, owner: state.nextOwner(), codingPath: codingPath)
    }
}

struct StreamSingleValueContainer: SingleValueEncodingContainer {
    let state: StreamState
    let depth: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { state.writeNull() }
    mutating func encode(_ value: Bool) throws { state.writeBool(value) }
    mutating func encode(_ value: String) throws { state.writeString(value) }
    mutating func encode(_ value: Double) throws { try state.writeFloatingPoint(value, codingPath: codingPath) }
    mutating func encode(_ value: Float) throws { try state.writeFloatingPoint(value, codingPath: codingPath) }
    mutating func encode(_ value: Int) throws { state.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { state.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { state.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { state.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { state.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { state.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { state.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { state.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { state.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { state.writeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try state.encodeValue(value, depth: depth, codingPath: codingPath)
    }
}

// MARK: - Direct writers

/// A type that writes its JSON object directly, without going through `Encodable`: used for the
/// few types written on every transition (tickets, ticket records, telemetry events). Its output
/// must hold the same fields as its `encode(to:)`; the tests compare the two.
public protocol StreamingJSONWritable: Encodable {
    func writeJSON(_ object: JSONObjectWriter) throws
}

/// Writes the fields of one JSON object into a ``StreamingJSONEncoder``'s output. Optional
/// values are written as `null`, except with the `…IfPresent` methods, which leave the key out.
public struct JSONObjectWriter {
    let state: StreamState
    let frame: Int
    let owner: Int

    private func key(_ key: String) {
        state.writeKey(key, frame: frame, owner: owner)
    }

    public func text(_ key: String, _ value: String?) {
        self.key(key)
        if let value { state.writeString(value) } else { state.writeNull() }
    }

    public func integer(_ key: String, _ value: Int64?) {
        self.key(key)
        if let value { state.writeInteger(value) } else { state.writeNull() }
    }

    public func integer(_ key: String, _ value: Int) {
        self.key(key)
        state.writeInteger(value)
    }

    public func boolean(_ key: String, _ value: Bool?) {
        self.key(key)
        if let value { state.writeBool(value) } else { state.writeNull() }
    }

    public func number(_ key: String, _ value: Double) throws {
        self.key(key)
        try state.writeFloatingPoint(value, codingPath: [])
    }

    /// An enum written as its raw string.
    public func symbol<E: RawRepresentable>(_ key: String, _ value: E) where E.RawValue == String {
        self.key(key)
        state.writeString(value.rawValue)
    }

    public func texts(_ key: String, _ values: [String]) {
        self.key(key)
        state.output.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { state.output.append(UInt8(ascii: ",")) }
            state.writeString(value)
        }
        state.output.append(UInt8(ascii: "]"))
    }

    /// A string map, keys sorted; `nil` as `null`.
    public func map(_ key: String, _ map: [String: String]?) {
        self.key(key)
        if let map { state.writeSortedMap(map) } else { state.writeNull() }
    }

    /// Any other value, through its `Encodable` conformance (or its own direct writer).
    public func value<T: Encodable>(_ key: String, _ value: T) throws {
        self.key(key)
        try state.encodeValue(value, depth: frame + 1, codingPath: [])
    }

    /// A nested object written field by field.
    public func object(_ key: String, _ body: (JSONObjectWriter) throws -> Void) rethrows {
        self.key(key)
        let nested = state.openFrame(depth: frame + 1, owner: state.nextOwner(), isArray: false)
        try body(JSONObjectWriter(state: state, frame: nested.index, owner: nested.owner))
    }

    /// Writes the field only when the value is present (what synthesised `Encodable` does).
    public func valueIfPresent<T: Encodable>(_ key: String, _ value: T?) throws {
        guard let value else { return }
        try self.value(key, value)
    }

    public func textIfPresent(_ key: String, _ value: String?) {
        guard let value else { return }
        text(key, value)
    }

    public func integerIfPresent(_ key: String, _ value: Int64?) {
        guard let value else { return }
        integer(key, value)
    }
}

extension StreamState {
    func writeSortedMap(_ map: [String: String]) {
        output.append(UInt8(ascii: "{"))
        for (i, key) in map.keys.sorted().enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            writeString(key)
            output.append(UInt8(ascii: ":"))
            writeString(map[key]!)
        }
        output.append(UInt8(ascii: "}"))
    }

    func writeDirect(_ value: any StreamingJSONWritable, depth: Int) throws {
        let frame = openFrame(depth: depth, owner: nextOwner(), isArray: false)
        try value.writeJSON(JSONObjectWriter(state: self, frame: frame.index, owner: frame.owner))
    }
}
