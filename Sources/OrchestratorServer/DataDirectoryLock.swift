import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on the data directory, so that two processes never share one SQLite file
/// (the embedded store has a single writer). Held until the process exits.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or fails with a message naming the holder.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/orchestrator.lock"
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw ConfigurationError("cannot open lock file \(path): errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            close(fd)
            throw ConfigurationError(
                "data directory \(directory) is in use by another orchestrator process (pid \(holder ?? "?")); "
                    + "use another --data-dir or the PostgreSQL store for several replicas"
            )
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
