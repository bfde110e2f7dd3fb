import ArgumentParser
import Foundation
import SyncTesting

/// `fieldsim`: plays the phone (and, later, a fleet of phones) for QA.
///
/// Device, dispatcher, swarm and demo commands arrive with the sync client (issue 7); for now it
/// regenerates the committed fixtures.
@main
struct FieldSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsim",
        abstract: "Simulate FieldSync devices and generate test data.",
        subcommands: [Fixtures.self]
    )

    struct Fixtures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate fixtures.",
            subcommands: [Demo.self, ProtocolMessages.self]
        )
    }

    struct ProtocolMessages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "protocol",
            abstract: "Write the golden protocol messages (binary frames and their JSON form)."
        )

        @Option(help: "The folder to write <name>.bin and <name>.json into.")
        var output: String = SyncTesting.Fixtures.protocolMessages.path

        func run() throws {
            try ProtocolExamples.write(to: URL(fileURLWithPath: output))
            print("wrote \(ProtocolExamples.all.count) messages to \(output)")
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the demo data set (the same bytes for the same seed).",
            discussion: "With the default seed and output this rewrites the committed Fixtures/demo/."
        )

        @Option(help: "The seed that fixes every random choice.")
        var seed: UInt64 = DemoGenerator.committedSeed

        @Option(help: "The folder to write one .tsv file per table into.")
        var output: String = SyncTesting.Fixtures.demo.path

        func run() throws {
            let data = DemoGenerator(seed: seed).generate()
            try data.write(to: URL(fileURLWithPath: output))
            for table in data.tables {
                print("\(table.name): \(table.rows.count) rows")
            }
            print("wrote \(data.tables.count) tables to \(output)")
        }
    }
}
