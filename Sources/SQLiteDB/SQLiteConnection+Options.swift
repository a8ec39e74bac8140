import CSQLite

extension SQLiteConnection {
    /// How a connection is opened and configured.
    public struct Options: Sendable, Equatable {
        /// `PRAGMA journal_mode`: `WAL` (default), `DELETE`, `TRUNCATE`, `PERSIST`, `MEMORY` or `OFF`.
        /// WAL lets readers proceed while one writer writes. Ignored when `readOnly`.
        public var journalMode: String

        /// `PRAGMA synchronous`: `OFF`, `NORMAL` (default), `FULL` or `EXTRA`.
        ///
        /// With WAL, `NORMAL` keeps every committed transaction across a crash or `kill -9` of the process (the
        /// operating system still holds the written WAL pages) and the database is never corrupted; only a power
        /// loss or OS crash may lose the most recent commits. `FULL` syncs the WAL on every commit, so commits also
        /// survive power loss, at the cost of an `fsync` per transaction.
        public var synchronous: String

        /// How long to wait for another connection's lock before failing with `SQLITE_BUSY` (`sqlite3_busy_timeout`).
        public var busyTimeoutMs: Int

        /// `PRAGMA foreign_keys`: enforce `REFERENCES` constraints (SQLite's own default is off).
        public var foreignKeys: Bool

        /// `PRAGMA cache_size` in KiB (applied as a negative size): page cache per connection.
        public var cacheSizeKiB: Int

        /// `PRAGMA wal_autocheckpoint`: the write-ahead log is copied back into the database file once it
        /// holds this many pages (SQLite's default: 1000). A larger value coalesces repeated writes of the
        /// same pages and runs the checkpoint's `fsync` less often; 0 disables automatic checkpoints.
        public var walAutocheckpointPages: Int

        /// Open with `SQLITE_OPEN_READONLY` instead of read-write-create; the file must already exist.
        public var readOnly: Bool

        /// How many prepared statements the connection keeps (least recently used ones are finalized first);
        /// 0 disables caching.
        public var statementCacheCapacity: Int

        /// Options for a durable store: WAL, `synchronous=NORMAL`, 5 s busy timeout, foreign keys on, 64 MiB cache.
        public init(
            journalMode: String = "WAL",
            synchronous: String = "NORMAL",
            busyTimeoutMs: Int = 5000,
            foreignKeys: Bool = true,
            cacheSizeKiB: Int = 65536,
            readOnly: Bool = false,
            statementCacheCapacity: Int = 256,
            walAutocheckpointPages: Int = 1000
        ) {
            self.journalMode = journalMode
            self.synchronous = synchronous
            self.busyTimeoutMs = busyTimeoutMs
            self.foreignKeys = foreignKeys
            self.cacheSizeKiB = cacheSizeKiB
            self.readOnly = readOnly
            self.statementCacheCapacity = statementCacheCapacity
            self.walAutocheckpointPages = walAutocheckpointPages
        }

        /// Rejects values that are not valid pragma arguments (they are spliced into SQL).
        func validate() throws {
            let journalModes: Set<String> = ["DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"]
            let synchronousLevels: Set<String> = ["OFF", "NORMAL", "FULL", "EXTRA", "0", "1", "2", "3"]
            guard journalModes.contains(journalMode.uppercased()) else {
                throw invalid("journalMode '\(journalMode)' is not one of \(journalModes.sorted())")
            }
            guard synchronousLevels.contains(synchronous.uppercased()) else {
                throw invalid("synchronous '\(synchronous)' is not one of \(synchronousLevels.sorted())")
            }
            guard busyTimeoutMs >= 0, cacheSizeKiB >= 0, statementCacheCapacity >= 0 else {
                throw invalid("busyTimeoutMs, cacheSizeKiB and statementCacheCapacity must not be negative")
            }
        }

        private func invalid(_ message: String) -> SQLiteError {
            SQLiteError(code: SQLITE_MISUSE, message: "invalid SQLiteConnection.Options: \(message)")
        }
    }
}
