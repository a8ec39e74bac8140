import CSQLite

/// WAL checkpoints.
extension SQLiteConnection {
    /// How `checkpoint(mode:)` copies the write-ahead log back into the database file.
    public enum CheckpointMode: Sendable {
        /// Copy as much as possible without waiting for readers or writers.
        case passive
        /// Wait for writers, then copy everything; readers are not blocked.
        case full
        /// Like `full`, then wait until readers are done with the log so the next writer restarts it.
        case restart
        /// Like `restart`, and also truncate the log file to zero bytes.
        case truncate

        var rawValue: Int32 {
            switch self {
            case .passive: return SQLITE_CHECKPOINT_PASSIVE
            case .full: return SQLITE_CHECKPOINT_FULL
            case .restart: return SQLITE_CHECKPOINT_RESTART
            case .truncate: return SQLITE_CHECKPOINT_TRUNCATE
            }
        }
    }

    /// The outcome of a checkpoint. Both counts are -1 when the database is not in WAL mode.
    public struct CheckpointResult: Sendable, Equatable {
        /// Frames in the write-ahead log.
        public let walFrames: Int
        /// Frames of the log copied into the database file.
        public let checkpointedFrames: Int
    }

    /// Runs a WAL checkpoint (`sqlite3_wal_checkpoint_v2`) on the main database. Throws `SQLITE_BUSY` when a
    /// `full`, `restart` or `truncate` checkpoint could not finish within the busy timeout.
    @discardableResult
    public func checkpoint(mode: CheckpointMode = .passive) throws -> CheckpointResult {
        let db = try openHandle(sql: nil)
        var walFrames: Int32 = 0
        var checkpointedFrames: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(db, nil, mode.rawValue, &walFrames, &checkpointedFrames)
        guard rc == SQLITE_OK else {
            throw SQLiteError.current(db, code: rc, sql: nil)
        }
        return CheckpointResult(walFrames: Int(walFrames), checkpointedFrames: Int(checkpointedFrames))
    }
}
