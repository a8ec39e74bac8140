/// A cursor over untrusted Avro binary input.
///
/// Every read checks the remaining length first: lengths and block counts that cannot fit in the
/// remaining input are rejected before anything is allocated, and arrays of items that take no
/// bytes (such as `array<null>`) draw from a per-decode item budget.
struct BinaryReader {
    let bytes: [UInt8]
    var index: Int
    let end: Int
    var zeroByteItemBudget: Int

    init(bytes: [UInt8], index: Int, zeroByteItemBudget: Int) {
        self.bytes = bytes
        self.index = index
        self.end = bytes.count
        self.zeroByteItemBudget = zeroByteItemBudget
    }

    var remaining: Int { end - index }

    private func truncated(_ needed: Int) -> AvroError {
        AvroError(
            .truncated,
            "input ends at byte \(end) but \(needed) more byte(s) are needed at byte \(index)"
        )
    }

    mutating func readByte() throws(AvroError) -> UInt8 {
        guard index < end else { throw truncated(1) }
        let byte = bytes[index]
        index += 1
        return byte
    }

    mutating func readLong() throws(AvroError) -> Int64 {
        guard index < end else { throw truncated(1) }
        let first = bytes[index]
        if first < 0x80 {
            index += 1
            return Int64(first >> 1) ^ -Int64(first & 1)
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = index
        while true {
            guard index < end else { throw truncated(1) }
            let byte = bytes[index]
            index += 1
            if shift == 63, byte > 1 {
                throw AvroError(.invalidVarint, "varint at byte \(start) overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }

    mutating func readInt() throws(AvroError) -> Int32 {
        let start = index
        let value = try readLong()
        guard let int = Int32(exactly: value) else {
            throw AvroError(.invalidVarint, "varint at byte \(start) (\(value)) does not fit in an int")
        }
        return int
    }

    mutating func readBoolean() throws(AvroError) -> Bool {
        let byte = try readByte()
        guard byte <= 1 else {
            throw AvroError(.valueOutOfRange, "boolean at byte \(index - 1) is \(byte), not 0 or 1")
        }
        return byte == 1
    }

    mutating func readFloat() throws(AvroError) -> Float {
        guard remaining >= 4 else { throw truncated(4) }
        var bits: UInt32 = 0
        for offset in 0..<4 {
            bits |= UInt32(bytes[index + offset]) << (offset * 8)
        }
        index += 4
        return Float(bitPattern: bits)
    }

    mutating func readDouble() throws(AvroError) -> Double {
        guard remaining >= 8 else { throw truncated(8) }
        var bits: UInt64 = 0
        for offset in 0..<8 {
            bits |= UInt64(bytes[index + offset]) << (offset * 8)
        }
        index += 8
        return Double(bitPattern: bits)
    }

    /// Reads a length prefix and checks it fits in the remaining input.
    mutating func readLength() throws(AvroError) -> Int {
        let start = index
        let length = try readLong()
        guard length >= 0 else {
            throw AvroError(.invalidLength, "negative length \(length) at byte \(start)")
        }
        guard length <= remaining else {
            throw AvroError(
                .truncated,
                "length \(length) at byte \(start) exceeds the \(remaining) remaining byte(s)"
            )
        }
        return Int(length)
    }

    mutating func readRaw(_ count: Int) throws(AvroError) -> [UInt8] {
        guard count <= remaining else { throw truncated(count) }
        let raw = Array(bytes[index..<index + count])
        index += count
        return raw
    }

    mutating func readBytes() throws(AvroError) -> [UInt8] {
        try readRaw(try readLength())
    }

    mutating func readString() throws(AvroError) -> String {
        let length = try readLength()
        let start = index
        let utf8 = bytes[start..<start + length]
        // Decoding repairs invalid UTF-8 with U+FFFD; the input was valid exactly when nothing changed.
        let string = String(decoding: utf8, as: UTF8.self)
        guard isASCII(utf8) || string.utf8.elementsEqual(utf8) else {
            throw AvroError(.invalidUTF8, "string at byte \(start) is not valid UTF-8")
        }
        index += length
        return string
    }

    private func isASCII(_ utf8: ArraySlice<UInt8>) -> Bool {
        var combined: UInt8 = 0
        for byte in utf8 {
            combined |= byte
        }
        return combined < 0x80
    }

    mutating func skip(_ count: Int) throws(AvroError) {
        guard count <= remaining else { throw truncated(count) }
        index += count
    }

    /// Reads the item count of the next array or map block (0 ends the collection).
    ///
    /// A negative count is followed by the block's size in bytes, as the specification allows.
    /// The count must fit in the remaining input (each item takes at least one byte) unless the
    /// items take no bytes, in which case it is charged to the zero-byte item budget.
    mutating func readBlockCount(itemsTakeNoBytes: Bool) throws(AvroError) -> (count: Int, byteSize: Int?) {
        let start = index
        var count = try readLong()
        var byteSize: Int?
        if count < 0 {
            guard count != .min else {
                throw AvroError(.invalidLength, "invalid block count \(count) at byte \(start)")
            }
            count = -count
            byteSize = try readLength()
        }
        if itemsTakeNoBytes {
            guard count <= zeroByteItemBudget else {
                throw AvroError(
                    .limitExceeded,
                    "block of \(count) zero-byte items at byte \(start) exceeds the decoder's limit"
                )
            }
            zeroByteItemBudget -= Int(count)
        } else if count > remaining {
            throw AvroError(
                .truncated,
                "block count \(count) at byte \(start) exceeds the \(remaining) remaining byte(s)"
            )
        }
        return (Int(count), byteSize)
    }

    /// Reads the blocks of an array, calling `readItem` for each item.
    mutating func readArray(
        itemsTakeNoBytes: Bool,
        _ readItem: (inout BinaryReader) throws(AvroError) -> AvroValue
    ) throws(AvroError) -> [AvroValue] {
        var items: [AvroValue] = []
        while true {
            let block = try readBlockCount(itemsTakeNoBytes: itemsTakeNoBytes)
            if block.count == 0 { return items }
            items.reserveCapacity(items.count + block.count)
            for _ in 0..<block.count {
                do throws(AvroError) {
                    items.append(try readItem(&self))
                } catch {
                    throw error.prefixed(index: items.count)
                }
            }
        }
    }

    /// Reads the blocks of a map, calling `readValue` for each entry.
    mutating func readMap(
        _ readValue: (inout BinaryReader) throws(AvroError) -> AvroValue
    ) throws(AvroError) -> [String: AvroValue] {
        var entries: [String: AvroValue] = [:]
        while true {
            let block = try readBlockCount(itemsTakeNoBytes: false)
            if block.count == 0 { return entries }
            entries.reserveCapacity(entries.count + block.count)
            for _ in 0..<block.count {
                let key = try readString()
                do throws(AvroError) {
                    entries[key] = try readValue(&self)
                } catch {
                    throw error.prefixed(key: key)
                }
            }
        }
    }
}
