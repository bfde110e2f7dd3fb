import DemoData
import FieldModel
import FieldRules
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncEngine

/// A phone's working set, bounded by each table's phone window (`PhoneWindow`): rows leave with time or
/// a write, come back with a write, and are served on demand.
@Suite("PhoneWindow")
struct RetentionTests {
    static let monday: Int64 = 1_796_050_800_000  // 2026-11-30 09:00 in New York

    struct World {
        let pool: PostgresPool
        let store: SyncStore
        let wall: ManualWallClock
        let tenant: RecordID
        let visit: RecordID
        let rep: RecordID
        var children: [RecordRef]

        var personal: Bucket { Bucket.personal(rep) }

        /// The next page of `bucket`'s feed after `cursor`, once the writes before it are visible.
        func feed(_ bucket: Bucket, after cursor: UInt64) async throws -> BucketPage {
            var page = try await store.changes(bucket: bucket, after: cursor, limit: 1_000, tenant: tenant)
            for _ in 0..<500 where page.cursor == cursor {
                try await Task.sleep(for: .milliseconds(10))
                page = try await store.changes(bucket: bucket, after: cursor, limit: 1_000, tenant: tenant)
            }
            return page
        }

        /// Every page of `bucket`'s feed after `cursor` until `done` holds for what they carried
        /// (other tests' transactions hold the visibility watermark back for a while).
        func collect(_ bucket: Bucket, after cursor: UInt64, until done: (BucketPage) -> Bool) async throws -> BucketPage {
            var all = BucketPage(bucket: bucket, kind: .changes, cursor: cursor, hasMore: false)
            for _ in 0..<1_000 {
                let page = try await store.changes(bucket: bucket, after: all.cursor, limit: 1_000, tenant: tenant)
                all.changeSets += page.changeSets
                all.snapshots += page.snapshots
                all.removes += page.removes
                all.cursor = page.cursor
                if done(all) { return all }
                try await Task.sleep(for: .milliseconds(10))
            }
            return all
        }

        func snapshot(_ bucket: Bucket) async throws -> Set<RecordRef> {
            var cursor = BucketCursor(bucket: bucket, sequence: 0)
            var rows = Set<RecordRef>()
            while true {
                let page = try await store.snapshot(bucket: bucket, cursor: cursor, limit: 1_000, tenant: tenant)
                rows.formUnion(page.snapshots.map(\.ref))
                guard page.hasMore else { return rows }
                cursor = BucketCursor(bucket: bucket, sequence: page.cursor, resume: page.resume)
            }
        }

        func write(_ n: UInt64, _ table: String, _ record: RecordID, _ writes: [FieldWrite]) async throws {
            let version = Version(clock: HLC(milliseconds: wall.now()), replica: .server)
            _ = try await store.push(ChangeSet(id: ChangeID(SyncStoreTests.id(n)), changes: [
                Change(id: ChangeID(SyncStoreTests.id(n + 1)), table: table, record: record, operation: .write(writes), version: version),
            ]), batch: SyncStoreTests.id(n + 2), replica: .server, tenant: tenant)
        }

        func retired() async throws -> Set<RecordRef> {
            Set(try await pool.query("SELECT tbl, id::text FROM row_retired WHERE tenant_id = $1", [tenant.uuidString]).map {
                RecordRef(table: try $0.read(0, as: String.self), record: RecordID(try $0.read(1, as: String.self))!)
            })
        }
    }

    /// The demo data on a server whose clock stands on Monday morning, and a visit of a rep (with
    /// the most tasks under it), completed, with a check-in.
    static func world(_ name: String) async throws -> World {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name), connectionsMax: 4))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let wall = ManualWallClock(UInt64(monday))
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wall))
        let tenant = try #require(data.tenant)
        let row = try #require(try await pool.query("""
            SELECT v.id::text, v.assignee_id::text FROM visits v WHERE v.assignee_id IS NOT NULL
            ORDER BY (SELECT count(*) FROM visit_tasks t WHERE t.visit_id = v.id) DESC, v.id LIMIT 1
            """).first)
        let visit = RecordID(try row.read(0, as: String.self))!
        let tasks = try await pool.query("SELECT id::text FROM visit_tasks WHERE visit_id = $1", [visit.uuidString])
            .map { RecordRef(table: "visit_tasks", record: RecordID(try $0.read(0, as: String.self))!) }
        var world = World(pool: pool, store: store, wall: wall, tenant: tenant, visit: visit, rep: RecordID(try row.read(1, as: String.self))!, children: tasks)
        try await world.write(1, "visits", visit, [FieldWrite("status", .state(StateValue("completed"))), FieldWrite("planned_start", .timestamp(monday))])
        let event = RecordID(high: 0x019B_0000_0000_7000 | 77 << 16, low: 0x8000_0000_0000_0077)
        try await world.write(4, "geo_events", event, [
            FieldWrite("visit_id", .id(visit)), FieldWrite("user_id", .id(world.rep)), FieldWrite("kind", .text("check_in")),
            FieldWrite("device_time", .timestamp(monday)), FieldWrite("latitude_e6", .integer(40_700_000)), FieldWrite("longitude_e6", .integer(-74_000_000)),
            FieldWrite("accuracy_m", .integer(10)), FieldWrite("provider", .text("gps")), FieldWrite("mock_location", .bool(false)),
        ])
        world.children.append(RecordRef(table: "geo_events", record: event))
        return world
    }

    @Test("time retires a completed visit and its children: a remove in its buckets, out of snapshots, served on demand to who may see it")
    func timeRetires() async throws {
        let world = try await Self.world("window_time")
        let visit = RecordRef(table: "visits", record: world.visit)
        let family = Set([visit] + world.children)
        #expect(try await world.snapshot(world.personal).isSuperset(of: family))
        let before = try await world.feed(world.personal, after: 0).cursor

        // 29 days on, the visit is still kept; 31 days on, it and its children leave.
        #expect(try await world.store.retireAged(at: Self.monday + 29 * PhoneWindow.day) == 0)
        world.wall.set(UInt64(Self.monday + 31 * PhoneWindow.day))
        let retired = try await world.store.retireAged(at: Self.monday + 31 * PhoneWindow.day)
        #expect(retired >= family.count)
        #expect(try await world.retired().isSuperset(of: family))
        #expect(try await world.store.retireAged(at: Self.monday + 31 * PhoneWindow.day) == 0, "a second run finds nothing")
        let page = try await world.collect(world.personal, after: before) { Set($0.removes).isSuperset(of: family) }
        #expect(Set(page.removes).isSuperset(of: family))
        #expect(try await world.snapshot(world.personal).isDisjoint(with: family), "a new phone is not primed with it")
        let membership = try await world.pool.query("SELECT count(*) FROM row_buckets WHERE tbl = 'visits' AND id = $1", [world.visit.uuidString])
        #expect(try membership[0].read(0, as: Int64.self) > 0, "it stays in its buckets: scope is judged by them")

        // On demand: the rep gets the visit with its tasks and check-in; someone else gets nothing.
        let fetched = try await world.store.fetch([visit], tenant: world.tenant, visible: [world.personal])
        #expect(Set(fetched.snapshots.map(\.ref)) == family)
        #expect(fetched.missing.isEmpty)
        let stranger = try await world.store.fetch([visit, RecordRef(table: "visits", record: SyncStoreTests.id(999))], tenant: world.tenant,
                                                   visible: [Bucket.personal(SyncStoreTests.id(998))])
        #expect(stranger.snapshots.isEmpty)
        #expect(Set(stranger.missing) == [visit, RecordRef(table: "visits", record: SyncStoreTests.id(999))])
        // A record whose rows would pass the answer's limit is not served in part: it is missing, to be asked again.
        let tight = try await world.store.fetch([visit], tenant: world.tenant, visible: [world.personal], limit: family.count - 1)
        #expect(tight.snapshots.isEmpty && tight.missing == [visit])
        #expect(try await world.store.fetch([visit], tenant: world.tenant, visible: [world.personal], limit: family.count).snapshots.count == family.count)
    }

    @Test("a write to a retired row stays out of the feed; a write that brings it back into its window restores it and its children whole")
    func writesRetireAndRestore() async throws {
        let world = try await Self.world("window_writes")
        let visit = RecordRef(table: "visits", record: world.visit)
        let family = Set([visit] + world.children)
        world.wall.set(UInt64(Self.monday + 40 * PhoneWindow.day))
        try await world.store.retireAged(at: Self.monday + 40 * PhoneWindow.day)
        let retiredAt = try await world.collect(world.personal, after: 0) { $0.removes.contains(visit) }.cursor

        try await world.write(10, "visits", world.visit, [FieldWrite("instructions", .text("ring twice"))])
        let quiet = try await world.store.changes(bucket: world.personal, after: retiredAt, limit: 1_000, tenant: world.tenant)
        #expect(!quiet.changeSets.flatMap(\.changes).contains { $0.record == world.visit }, "phones do not keep it: its edit is not sent")
        #expect(try await world.retired().contains(visit))

        // Planned again for today: the visit and everything under it arrive whole.
        try await world.write(30, "visits", world.visit, [FieldWrite("planned_start", .timestamp(Self.monday + 40 * PhoneWindow.day))])
        let back = try await world.collect(world.personal, after: quiet.cursor) { Set($0.snapshots.map(\.ref)).isSuperset(of: family) }
        #expect(Set(back.snapshots.map(\.ref)).isSuperset(of: family))
        #expect(back.snapshots.first { $0.ref == visit }?.state.text("instructions") == "ring twice", "with the edit it missed")
        #expect(try await world.retired().isDisjoint(with: family))

        // Completed work created outside the window (an office backfill) is retired at once, never sent.
        let old = SyncStoreTests.id(40)
        let customer = try #require(try await world.pool.query("SELECT customer_id::text FROM visits WHERE id = $1", [world.visit.uuidString]).first)
        try await world.write(41, "visits", old, [
            FieldWrite("customer_id", .id(RecordID(try customer.read(0, as: String.self))!)), FieldWrite("assignee_id", .id(world.rep)),
            FieldWrite("visit_type", .text("routine")), FieldWrite("status", .state(StateValue("completed"))),
            FieldWrite("planned_start", .timestamp(Self.monday - 200 * PhoneWindow.day)), FieldWrite("creation_mode", .text("planned")),
        ])
        #expect(try await world.retired().contains(RecordRef(table: "visits", record: old)))
        let after = try await world.store.changes(bucket: world.personal, after: back.cursor, limit: 1_000, tenant: world.tenant)
        #expect(!after.changeSets.flatMap(\.changes).contains { $0.record == old })
        #expect(!after.removes.contains(RecordRef(table: "visits", record: old)), "never announced, never removed")
    }
}
