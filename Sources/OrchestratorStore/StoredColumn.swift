import Foundation

/// Reading the columns every store keeps as text: JSON documents and enumerated values. A value
/// that cannot be read is reported as ``StoreError/corrupt(_:)`` naming the table and the row's
/// key, never a crash.
public enum StoredColumn {
    /// Decodes a JSON column.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        _ text: String,
        table: String,
        key: String,
        using decoder: JSONDecoder
    ) throws -> T {
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt("\(table) row '\(key)' does not hold a readable \(T.self): \(error)")
        }
    }

    /// Parses an enumerated column.
    public static func parse<T: RawRepresentable>(
        _ type: T.Type,
        _ text: String,
        table: String,
        key: String
    ) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw StoreError.corrupt("\(table) row '\(key)' holds the unknown \(T.self) '\(text)'")
        }
        return value
    }
}
