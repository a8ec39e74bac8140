import CSQLite

/// An error reported by SQLite, or by this wrapper when it is misused.
///
/// `code` is SQLite's *extended* result code (for example `SQLITE_CONSTRAINT_UNIQUE`, 2067);
/// `primaryCode` is its low byte (`SQLITE_CONSTRAINT`, 19).
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended SQLite result code.
    public let code: Int32
    /// What went wrong: `sqlite3_errmsg` for errors from SQLite, otherwise a description by this wrapper.
    public let message: String
    /// The SQL being executed, when known.
    public let sql: String?

    /// Creates an error; `code` should be an SQLite result code.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (the low 8 bits of `code`).
    public var primaryCode: Int32 {
        code & 0xFF
    }

    /// The database was locked by another connection for longer than the busy timeout (`SQLITE_BUSY` family).
    public var isBusy: Bool {
        primaryCode == SQLITE_BUSY
    }

    /// Any constraint failed: UNIQUE, PRIMARY KEY, NOT NULL, CHECK, FOREIGN KEY, ... (`SQLITE_CONSTRAINT` family).
    public var isConstraintViolation: Bool {
        primaryCode == SQLITE_CONSTRAINT
    }

    /// A UNIQUE or PRIMARY KEY constraint failed: the row duplicates an existing key.
    public var isUniqueViolation: Bool {
        code == Self.constraintUnique || code == Self.constraintPrimaryKey
    }

    // Extended codes from sqlite3.h; Swift does not import macros built with `|` and `<<`.
    /// `SQLITE_CONSTRAINT_PRIMARYKEY`.
    static let constraintPrimaryKey: Int32 = SQLITE_CONSTRAINT | (6 << 8)
    /// `SQLITE_CONSTRAINT_UNIQUE`.
    static let constraintUnique: Int32 = SQLITE_CONSTRAINT | (8 << 8)

    /// For example `SQLite error 2067 (constraint failed): UNIQUE constraint failed: t.k; SQL: INSERT ...`.
    public var description: String {
        var text = "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message)"
        if let sql {
            text += "; SQL: \(sql)"
        }
        return text
    }
}

extension SQLiteError {
    /// The error SQLite currently reports for `db`, with its extended code.
    static func current(_ db: OpaquePointer, code: Int32? = nil, sql: String?) -> SQLiteError {
        SQLiteError(
            code: code ?? sqlite3_extended_errcode(db),
            message: String(cString: sqlite3_errmsg(db)),
            sql: sql
        )
    }

    /// The connection was closed before the call.
    static func closed(sql: String?) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: "the connection is closed", sql: sql)
    }
}
