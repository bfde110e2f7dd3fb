import ArgumentParser
import DemoData
import Foundation
import DeviceStore
import FieldModel
import SyncCore
import FleetSimulation
import ProtocolDocuments
import SyncWire

/// `fieldsim`: plays the phone (and, later, a fleet of phones) for QA.
///
/// `demo` runs the whole product on one machine; `fixtures` regenerates the committed fixtures.
/// The one-phone, dispatcher and swarm commands are still to come (issue 7).
@main
struct FieldSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsim",
        abstract: "Simulate FieldSync devices and generate test data.",
        subcommands: [DemoCommand.self, SwarmCommand.self, DeviceCommand.self, DispatchCommand.self, DecodeCommand.self, Fixtures.self, SelfTest.self]
    )

    /// Helpers the test suite runs as separate processes (hidden from help).
    struct SelfTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "selftest", abstract: "Processes for the test suite.", shouldDisplay: false, subcommands: [ApplyLoop.self]
        )
    }

    /// Applies ``CrashApplyWorkload`` pages to a store, from its cursor on, until killed.
    struct ApplyLoop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply-loop", abstract: "Apply crash-test pages until killed.")

        @Option(help: "The device store file.")
        var store: String

        func run() async throws {
            let device = try await DeviceStore.open(path: store)
            var next = Int(try await device.cursors().first { $0.bucket == CrashApplyWorkload.bucket }?.sequence ?? 0) + 1
            print("ready"); fflush(nil)
            while true {
                try await device.apply(CrashApplyWorkload.page(next), serverClock: CrashApplyWorkload.serverClock(next))
                next += 1
            }
        }
    }

    struct Fixtures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate fixtures.",
            subcommands: [Demo.self, ProtocolMessages.self, SchemaFiles.self, DeviceStoreFile.self]
        )
    }

    /// Writes a device store at the current store version, for the migration tests of later versions.
    struct DeviceStoreFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "device-store",
            abstract: "Write a small device store (a registered rep, a few records, one pending action)."
        )

        @Option(help: "The file to write.")
        var output: String

        func run() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-fixture-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("store.sqlite").path
            let clock = ManualWallClock(1_796_065_200_000)
            let store = try await DeviceStore.open(path: path, options: .init(wallClock: clock, seed: 1))
            let data = DemoGenerator().generate()
            let rep = RecordID(data["users"]!.rows.first { $0[2] == "rep" }![0]!)!
            let serverClock = HLC(milliseconds: 1_796_000_000_000)
            try await store.register(replica: ReplicaID(21), user: rep, role: .rep, serverClock: serverClock)
            try await store.setBuckets(["demo"])
            let snapshots = try data.snapshots(for: FieldSalesSchema.schema, clock: serverClock)
                .filter { ["tenants", "territories", "customers"].contains($0.ref.table) }.prefix(60)
            try await store.apply(BucketPage(bucket: "demo", kind: .snapshot, snapshots: Array(snapshots), cursor: 1, hasMore: false), serverClock: serverClock)
            let customer = snapshots.first { $0.ref.table == "customers" }!.ref.record
            _ = try await store.correctCustomer(customer, ["phone": .text("+1-212-555-0142")])
            try await store.checkpoint()
            let target = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(atPath: path, toPath: target.path)
            print("wrote a version \(try await store.version()) store to \(output)")
        }
    }

    struct ProtocolMessages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "protocol",
            abstract: "Write the golden protocol messages (binary frames and their JSON form)."
        )

        @Option(help: "The folder to write <name>.bin and <name>.json into.")
        var output: String = DemoData.Fixtures.protocolMessages.path

        func run() throws {
            try ProtocolExamples.write(to: URL(fileURLWithPath: output))
            print("wrote \(ProtocolExamples.all.count) messages to \(output)")
        }
    }

    struct SchemaFiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Write SyncProtocol/schema.md and schema.json from the field model."
        )

        @Option(help: "The folder to write schema.md and schema.json into.")
        var output: String = DemoData.Fixtures.directory.deletingLastPathComponent().appendingPathComponent("SyncProtocol").path

        func run() throws {
            try SchemaDocument.write(to: URL(fileURLWithPath: output))
            print("wrote schema.md and schema.json to \(output)")
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
        var output: String = DemoData.Fixtures.demo.path

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
