import DemoData
import FieldModel
import Foundation
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

/// A device store primed with the demo data set, signed in as the first demo rep.
struct DeviceStoreFixture {
    let store: DeviceStore
    let directory: URL
    let path: String
    let clock: ManualWallClock
    let rep: RecordID
    let data: DemoDataSet
    static let serverClock = HLC(milliseconds: UInt64(monday - 86_400_000))
    /// Monday 2026-11-30 00:00 in New York, in UTC milliseconds.
    static let monday: Int64 = 1_796_014_800_000

    static func make(prime: Bool = true, role: Role = .rep, attachmentBudgetBytes: Int64 = 256 << 20,
                     answeredKeepMilliseconds: Int64 = 14 * 86_400_000) async throws -> DeviceStoreFixture {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-device-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualWallClock(UInt64(monday) + 14 * 3_600_000)  // 09:00 in New York
        let store = try await DeviceStore.open(path: path, options: .init(wallClock: clock, seed: 42, attachmentBudgetBytes: attachmentBudgetBytes,
                                                                                answeredKeepMilliseconds: answeredKeepMilliseconds))
        let data = DemoGenerator().generate()
        let rep = RecordID(try #require(data["users"]).rows.first { $0[2] == role.name }![0]!)!
        try await store.register(replica: ReplicaID(21), user: rep, role: role, serverClock: serverClock)
        try await store.setBuckets(["demo"])
        if prime { _ = try await applyDemo(data, kind: .snapshot, after: 0, to: store) }
        return DeviceStoreFixture(store: store, directory: directory, path: path, clock: clock, rep: rep, data: data)
    }

    /// Applies every demo row to `store` as the server's pages of 2,000 (`kind`), with cursors
    /// after `cursor`; returns the last cursor.
    static func applyDemo(_ data: DemoDataSet, kind: BucketPage.Kind, after cursor: UInt64, to store: DeviceStore) async throws -> UInt64 {
        let snapshots = try data.snapshots(for: FieldSalesSchema.schema, clock: serverClock)
        var cursor = cursor
        for page in stride(from: 0, to: snapshots.count, by: 2_000) {
            cursor += 1
            try await store.apply(BucketPage(bucket: "demo", kind: kind, snapshots: Array(snapshots[page..<min(page + 2_000, snapshots.count)]),
                                             cursor: cursor, hasMore: page + 2_000 < snapshots.count), serverClock: serverClock)
        }
        return cursor
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// A product of the demo catalogue.
    func anyProduct() throws -> RecordID? {
        try #require(data["products"]).rows.first.flatMap { $0[0] }.flatMap(RecordID.init)
    }

    /// The rep's first planned visit on Monday, with its customer's location.
    func firstVisit() async throws -> DeviceStore.VisitSummary {
        let visits = try await store.visits(from: Self.monday, to: Self.monday + 86_400_000)
        return try #require(visits.first)
    }
}
