// Two builds of this target. With `-D FUZZING -sanitize=fuzzer,address` (scripts/fuzz.sh) `main`
// hands control to libFuzzer's driver, which calls the target named by `FUZZ_TARGET` on each
// input; the normal build gets a small replayer instead, so the default `swift build` links it
// without the fuzzer runtime. (SwiftPM renames an executable's `main` in debug builds, so
// libFuzzer's own `main` is never linked: its driver is called from ours.)
import Foundation

/// The program's entry point.
@main
enum FuzzEntry {
    static func main() {
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
        #else
            exit(Replayer.run(arguments: Array(CommandLine.arguments.dropFirst())))
        #endif
    }
}

#if FUZZING
    /// libFuzzer's `LLVMFuzzerTestOneInput`: runs the target named by `FUZZ_TARGET` on one input.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }

    /// libFuzzer's `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*)(const uint8_t *, size_t))`:
    /// parses the libFuzzer flags in `argv` and runs the fuzzing loop (or the given inputs).
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt
#endif
