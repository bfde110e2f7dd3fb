import DemoData
import FieldModel
import FieldRules
import Foundation
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncEngine

/// The server's side of restores (issue 21, item 4): a generation that stays while the database
/// lives, changes when it is restored, empties the feed then, and gives a restored-away device
/// its replica number back — only a number the restore skipped, and only one nobody holds.
@Suite("Generations on the server")
struct GenerationTests {
    static func id(_ n: UInt64) -> RecordID { RecordID(high: 0x019B_0000_0000_7000 | n << 16, low: 0x8000_0000_0000_0000 | n) }

    @Test("stable while the database lives; new on a restored copy, which empties the feed, renumbers the ERP's feed and skips replica numbers; renewed on demand")
    func lifeAndRestore() async throws {
        guard let cluster = try await TestPostgres.cluster() else {
            Issue.record("FIELDSYNC_TEST_DATABASE_URL names a server this test cannot dump: it needs the test cluster")
            return
        }
        let first = "generation_a_\(UUID().uuidString.prefix(8).lowercased())"
        try await cluster.createDatabase(first)
        let poolA = try PostgresPool(.init(connectionString: cluster.connectionString(database: first)))
        try await Migrator.migrate(poolA)
        let data = DemoGenerator().generate()
        try await data.load(into: poolA)
        let tenant = try #require(data.tenant)
        let user = RecordID(try #require(data["users"]).rows.first { $0[2] == Role.rep.name }![0]!)!
        let storeA = SyncStore(pool: poolA, domain: FieldSalesDomain())

        let start = try await storeA.refreshGeneration()
        #expect(start.began && !start.carriedOver)
        #expect(try await storeA.refreshGeneration() == .init(generation: start.generation, began: false, carriedOver: false))
        #expect(try await SyncStore(pool: poolA, domain: FieldSalesDomain()).generation() == start.generation, "a restarted server reads the same")
        let known = try #require(try await storeA.register(installation: Self.id(1), user: user, tenant: tenant, platform: "ios", appVersion: "1.0.0"))
        let second = try #require(try await storeA.register(installation: Self.id(2), user: user, tenant: tenant, platform: "ios", appVersion: "1.0.0"))
        try await poolA.query("INSERT INTO order_exports (tenant_id, order_id, event) VALUES ($1, $2, 'confirmed')", [tenant.uuidString, Self.id(3).uuidString])
        // A feed with an entry, a device's acknowledged cursor and a compaction horizon.
        try await poolA.query("INSERT INTO change_log (tenant_id, bucket, change_set) VALUES ($1, 'catalog', '\\x00')", [tenant.uuidString])
        try await poolA.query("INSERT INTO device_cursors (tenant_id, replica, bucket, sequence) VALUES ($1, $2, 'catalog', pg_current_xact_id())", [tenant.uuidString, Int64(known.rawValue)])
        try await poolA.query("INSERT INTO bucket_horizons (tenant_id, bucket, horizon) VALUES ($1, 'catalog', pg_current_xact_id())", [tenant.uuidString])

        let backup = URL(fileURLWithPath: "/tmp/fieldsync-generation-\(UUID().uuidString.prefix(8)).dump")
        defer { try? FileManager.default.removeItem(at: backup) }
        try await cluster.dump(database: first, to: backup)
        await poolA.close()
        let restored = "generation_b_\(UUID().uuidString.prefix(8).lowercased())"
        try await cluster.restore(backup, into: restored)
        let poolB = try PostgresPool(.init(connectionString: cluster.connectionString(database: restored)))
        defer { Task { await poolB.close() } }
        let storeB = SyncStore(pool: poolB, domain: FieldSalesDomain())

        // A restored copy is a new generation; its feed starts empty (every device re-primes),
        // and the ERP's feed is renumbered before anything written from now on.
        let restart = try await storeB.refreshGeneration()
        #expect(restart.began && restart.carriedOver && restart.generation != start.generation)
        #expect(try await storeB.refreshGeneration().began == false)
        for table in ["change_log", "device_cursors", "bucket_horizons"] {
            #expect(try await poolB.query("SELECT count(*) FROM \(table)")[0].read(0, as: Int64.self) == 0, "\(table)")
        }
        #expect(try await poolB.query("SELECT xid::text FROM order_exports")[0].read(0, as: String.self) == "3")

        // Replica numbers: what a restored-away device held comes back; nothing else does.
        let floor = Int64(second.rawValue)
        let gone = ReplicaID(UInt32(floor + 1))
        #expect(try await storeB.register(installation: Self.id(10), user: user, tenant: tenant, platform: "ios", appVersion: "1.0.0", previousReplica: gone) == gone)
        let clocks = try await poolB.query("""
            SELECT d.registered_clock, g.began_clock FROM devices d, sync_generations g WHERE d.replica = $1 AND g.generation = $2
            """, [Int64(gone.rawValue), restart.generation.rawValue])[0]
        #expect(try clocks.read(0, as: Int64.self) == clocks.read(1, as: Int64.self), "its clock floor is the newest the backup knew")
        for (installation, claimed) in [(Self.id(11), gone), (Self.id(12), known), (Self.id(13), ReplicaID(UInt32(floor + SyncStore.replicaGap + 5))), (Self.id(14), ReplicaID.server)] {
            let given = try #require(try await storeB.register(installation: installation, user: user, tenant: tenant, platform: "ios", appVersion: "1.0.0", previousReplica: claimed))
            #expect(given != claimed && Int64(given.rawValue) > floor + SyncStore.replicaGap, "a held, foreign or out-of-range number is not given: \(claimed) → \(given)")
        }
        #expect(try await storeB.register(installation: Self.id(1), user: user, tenant: tenant, platform: "ios", appVersion: "1.0.0", previousReplica: ReplicaID(UInt32(floor + 7))) == known,
                "a device the backup knows keeps its number")

        // The operator renews it (a restore nothing else shows): new, then stable.
        let renewed = try await storeB.renewGeneration()
        #expect(renewed != restart.generation)
        #expect(try await storeB.refreshGeneration() == .init(generation: renewed, began: false, carriedOver: false))
        #expect(try await storeB.generation() == renewed)
    }
}
