import FleetSimulation
import FieldModel
import Foundation
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

/// Applying what the server sends is atomic: a process killed at any moment leaves the store as
/// before or after a page, never between.
@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    static var fieldsim: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldsim")
    }

    @Test("killing the process at many points during apply never leaves a half-applied page")
    func killDuringApply() async throws {
        let fixture = try await DeviceStoreFixture.make(prime: false)
        defer { fixture.remove() }
        try await fixture.store.setBuckets(["demo", CrashApplyWorkload.bucket])
        // Three local edits wait in the outbox; no crash may touch them.
        let customer = RecordID(high: 0x0190_0000_0000_7ABC, low: 0x8000_0000_0000_0001)
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .snapshot, snapshots: [
            RecordSnapshot(ref: RecordRef(table: "customers", record: customer),
                           state: RecordState(fields: ["name": FieldState(value: .text("Corner Store"), version: Version(clock: DeviceStoreFixture.serverClock, replica: .server))])),
        ], cursor: 1, hasMore: false), serverClock: DeviceStoreFixture.serverClock)
        for number in 0..<3 { _ = try await fixture.store.correctCustomer(customer, ["phone": .text("+1-212-555-010\(number)")]) }
        let outbox = try await fixture.store.pendingChangeSets().map(\.id)
        #expect(outbox.count == 3)

        var random = SplitMix64(seed: 7)
        var cursors: [Int] = []
        for _ in 0..<12 {
            let process = Process()
            process.executableURL = Self.fieldsim
            process.arguments = ["selftest", "apply-loop", "--store", fixture.path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            _ = output.fileHandleForReading.availableData  // "ready": the store is open
            try await Task.sleep(for: .milliseconds(20 + Int(random.next() % 250)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let reopened = try await DeviceStore.open(path: fixture.path)
            #expect(try await reopened.database.query("PRAGMA integrity_check")[0].read(0, as: String.self) == "ok")
            let cursor = Int(try await reopened.cursors().first { $0.bucket == CrashApplyWorkload.bucket }?.sequence ?? 0)
            let names = Set(try await reopened.database.query("SELECT name FROM customers WHERE name LIKE 'crash %'").map { try $0.read(0, as: String.self) })
            let expected = CrashApplyWorkload.expectedNames(afterCursor: cursor)
            #expect(names.symmetricDifference(expected).isEmpty,
                    "cursor \(cursor): \(names.subtracting(expected).count) rows too many, \(expected.subtracting(names).count) missing")
            #expect(try await reopened.pendingChangeSets().map(\.id) == outbox, "the outbox is intact")
            cursors.append(cursor)
        }
        #expect(cursors.last ?? 0 > 3, "the loop made progress between kills: \(cursors)")
    }
}
