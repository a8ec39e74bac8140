import ArgumentParser
import Foundation
import OrchestratorCore

/// Reads a submission from a file path or `-` (standard input).
enum InputFile {
    /// Largest input accepted, in bytes.
    static let maxBytes = 256 * 1024 * 1024

    static func read(
        _ path: String,
        format: SubmissionDecoder.Format,
        kind: SubmissionDecoder.Kind,
        maxElements: Int = .max
    ) throws
        -> Submission
    {
        let data: Data
        do {
            if path == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                let url = URL(fileURLWithPath: path)
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                if size > maxBytes {
                    throw CLIError.unreadableInput("\(path): \(size) bytes exceed the input limit of \(maxBytes)")
                }
                data = try Data(contentsOf: url)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.unreadableInput("cannot read \(path): \(error.localizedDescription)")
        }
        // A `.avro` file asks for Avro: an unframed Avro payload cannot be told from a
        // malformed JSON text by its bytes.
        let resolved = format == .auto && path.lowercased().hasSuffix(".avro") ? .avro : format
        do {
            return try SubmissionDecoder.decode(Array(data), format: resolved, kind: kind, maxElements: maxElements)
        } catch let error as WireFormatError {
            throw CLIError.unreadableInput("\(path): \(error)")
        }
    }
}

extension SubmissionDecoder.Format: ExpressibleByArgument {}
extension SubmissionDecoder.Kind: ExpressibleByArgument {}
