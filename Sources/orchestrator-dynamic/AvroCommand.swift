import ArgumentParser
import Foundation
import OrchestratorCore

/// `avro encode|decode RECORD`: converts one message between its JSON and Avro binary forms through
/// the orchestrator's own models (a debugging aid, and how the interop tests drive our codec).
struct AvroCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avro",
        abstract: "Convert one message between JSON and Avro binary with the orchestrator's schemas.",
        subcommands: [Encode.self, Decode.self]
    )

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "JSON in, Avro binary out.")

        @Argument(help: "The record: \(ContractSchemas.Record.allCases.map(\.rawValue).joined(separator: ", ")).")
        var record: ContractSchemas.Record

        @Argument(help: "Input file (default: standard input).")
        var file: String = "-"

        func run() throws {
            let data = try AvroCommand.readAll(file)
            let bytes = try AvroCommand.run { try ModelCodec.encode(json: data, as: record) }
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Avro binary in, JSON out.")

        @Argument(help: "The record: \(ContractSchemas.Record.allCases.map(\.rawValue).joined(separator: ", ")).")
        var record: ContractSchemas.Record

        @Argument(help: "Input file (default: standard input).")
        var file: String = "-"

        func run() throws {
            let data = try AvroCommand.readAll(file)
            let json = try AvroCommand.run { try ModelCodec.decode(avro: Array(data), as: record) }
            print(String(decoding: json, as: UTF8.self))
        }
    }

    static func readAll(_ file: String) throws -> Data {
        if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            FileHandle.standardError.write(Data("error: cannot read \(file): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
    }

    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension ContractSchemas.Record: ExpressibleByArgument {}
