import Foundation
import SQLiteDB
import Testing

/// A database path under the temporary directory with a unique name; `remove()` deletes the file and its
/// `-wal`, `-shm` and `-journal` companions.
struct TemporaryDatabase {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("sqlitedb-test-\(UUID().uuidString).sqlite")
            .path
    }

    func open(_ options: SQLiteConnection.Options = .init()) throws -> SQLiteConnection {
        try SQLiteConnection(path: path, options: options)
    }

    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

/// Runs `body` with a fresh temporary database path, removing the files afterwards.
func withTemporaryDatabase<T>(_ body: (TemporaryDatabase) throws -> T) throws -> T {
    let database = TemporaryDatabase()
    defer { database.remove() }
    return try body(database)
}

/// Runs `body` with a connection to a fresh temporary database, closing and removing it afterwards.
func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
    try withTemporaryDatabase { database throws in
        let db = try database.open()
        defer { db.close() }
        return try body(db)
    }
}

/// The error `body` throws, which must be an `SQLiteError`; `nil` when it throws nothing.
func sqliteError(_ body: () throws -> Void) -> SQLiteError? {
    do {
        try body()
        return nil
    } catch let error as SQLiteError {
        return error
    } catch {
        Issue.record("expected SQLiteError, got \(error)")
        return nil
    }
}

/// Whether `body` throws an error of type `E`.
///
/// Used instead of `#expect(throws:)` around `transaction` calls: with Swift 6.3.1, that macro followed by
/// `try db.transaction { try ... }` in the same closure crashed the compiler (SendNonSendable region analysis)
/// or made the later call rethrow the earlier error.
func throwsError<E: Error, R>(_ type: E.Type, _ body: () throws -> R) -> Bool {
    do {
        _ = try body()
        return false
    } catch {
        return error is E
    }
}
