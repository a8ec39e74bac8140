import Foundation

extension AvroSchema {
    /// Parses a schema from its UTF-8 JSON text.
    public static func parse(_ json: Data) throws -> AvroSchema {
        try parse([UInt8](json))
    }

    /// Decodes one value written with this schema that spans all of `data`.
    public func decode(_ data: Data) throws -> AvroValue {
        try decode([UInt8](data))
    }
}

extension AvroDecoder {
    /// Decodes one value that spans all of `data`.
    public func decode(_ data: Data) throws -> AvroValue {
        try decode([UInt8](data))
    }
}
