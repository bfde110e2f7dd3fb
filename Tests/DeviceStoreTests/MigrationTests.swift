import DemoData
import Foundation
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

@Suite("Store migrations")
struct MigrationTests {
    @Test("a store written by the first released schema opens, migrates forward and keeps its records and outbox")
    func firstRelease() async throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-migrate-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("store.sqlite")
        try FileManager.default.copyItem(at: Fixtures.directory.appendingPathComponent("databases/store-v1.sqlite"), to: copy)

        let store = try await DeviceStore.open(path: copy.path)
        #expect(try await store.version() == DeviceSchema.version)
        #expect(DeviceSchema.version > 1, "the file really goes through migrations")
        // Version 2 added snapshot resumption to cursors; the old cursor reads as before.
        #expect(try await store.cursors() == [BucketCursor(bucket: "demo", sequence: 1)])
        #expect(try await store.identity().replica == ReplicaID(21))
        #expect(try await store.database.query("PRAGMA integrity_check")[0].read(0, as: String.self) == "ok")
        #expect(try await store.database.query("SELECT count(*) FROM customers")[0].read(0, as: Int.self) == 56)
        let pending = try await store.pendingChangeSets()
        #expect(pending.count == 1)
        let change = try #require(pending.first?.changes.first)
        #expect(try await store.record("customers", change.record)?.fields["phone"]?.value == .text("+1-212-555-0142"))
    }

    @Test("a store written by a newer app is refused, and left as it was")
    func newerStore() async throws {
        let fixture = try await DeviceStoreFixture.make(prime: false)
        defer { fixture.remove() }
        try await fixture.store.database.execute("PRAGMA user_version = \(DeviceSchema.version + 1)")
        let error = await #expect(throws: StoreError.self) { try await DeviceStore.open(path: fixture.path) }
        #expect(error?.code == .newerStore)
        #expect(try await fixture.store.version() == DeviceSchema.version + 1)
    }
}
