import Foundation

/// The normal build's entry: `orchestrator-fuzz TARGET PATH...` runs a fuzz target once over each
/// file (directories are read one level deep), so a corpus or a reproducer can be replayed
/// without the fuzzer runtime.
enum Replayer {
    /// Runs and returns the exit status: 0 when every input ran, 2 on a usage or read error.
    static func run(arguments: [String]) -> Int32 {
        guard let name = arguments.first, let target = FuzzTarget(name: name), arguments.count > 1 else {
            let names = FuzzTarget.all.map(\.name).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: orchestrator-fuzz \(names) PATH...\n".utf8))
            return 2
        }
        var count = 0
        for path in arguments.dropFirst() {
            guard let files = inputs(at: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                return 2
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    return 2
                }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(target.name): ran \(count) input(s)")
        return 0
    }

    private static func inputs(at path: String) -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return [path] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return names.sorted().map { "\(path)/\($0)" }
    }
}
