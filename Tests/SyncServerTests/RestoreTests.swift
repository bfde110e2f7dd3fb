import AsyncHTTPClient
import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import Hummingbird
import HummingbirdTesting
import OfficeStore
import PostgresDriver
import SyncClient
import SyncClientHTTP
import SyncCore
import SyncEngine
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// Restores that phones survive (issue 21, item 4; guarantees.md 41): the database is dumped, more
/// work syncs, the dump is restored into a new database and the server comes back on it; the
/// phones sync again, and what they wrote after the dump is back on the server, once.
@Suite("Restores")
struct RestoreTests {
    typealias W = StoryWorld

    /// A phone whose store outlives the server it syncs with.
    struct Phone {
        let user: RecordID
        let role: Role
        let store: DeviceStore

        /// Syncs with the server at `url` (a new client: the server came back elsewhere).
        @discardableResult
        func sync(_ url: String, _ http: HTTPClient, tokens: TokenAuthority, tenant: RecordID) async throws -> SyncClient.Report {
            var options = SyncClient.Options()
            options.backoff = .milliseconds(10)
            let client = SyncClient(store: store, transport: HTTPTransport(baseURL: url, client: http),
                                    credentials: .init(token: try await tokens.issue(user: user, tenant: tenant, role: role), user: user, role: role), options: options)
            return try await client.sync()
        }
    }

    @Test("dump, more work, restore into a new database: every phone uploads again what the restore lost, once, takes its replica number back, and re-primes")
    func dumpAndRestore() async throws {
        guard let cluster = try await TestPostgres.cluster() else {
            Issue.record("FIELDSYNC_TEST_DATABASE_URL names a server this test cannot dump: it needs the test cluster")
            return
        }
        let first = "restore_a_\(UUID().uuidString.prefix(8).lowercased())"
        let second = "restore_b_\(UUID().uuidString.prefix(8).lowercased())"
        try await cluster.createDatabase(first)
        let setup = try PostgresPool(.init(connectionString: cluster.connectionString(database: first)))
        try await Migrator.migrate(setup)
        let data = DemoGenerator().generate()
        try await data.load(into: setup)
        await setup.close()
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let clock = ManualWallClock(UInt64(W.at(8)))
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-restore-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await Self.play(cluster: cluster, first: first, second: second, data: data, tokens: tokens, clock: clock, directory: directory, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func play(cluster: PostgresCluster, first: String, second: String, data: DemoDataSet, tokens: TokenAuthority, clock: ManualWallClock,
                     directory: URL, http: HTTPClient) async throws {
        let poolA = try PostgresPool(.init(connectionString: cluster.connectionString(database: first)))
        let tenant = try #require(data.tenant)
        let users = try #require(data["users"]).rows
        @Sendable func user(_ role: Role, _ index: Int) throws -> RecordID { RecordID(try #require(users.filter { $0[2] == role.name }[index][0]))! }
        @Sendable func phone(_ user: RecordID, _ role: Role) async throws -> Phone {
            Phone(user: user, role: role, store: try await DeviceStore.open(path: directory.appendingPathComponent("\(user.uuidString).sqlite").path,
                                                                         options: .init(wallClock: clock, seed: user.low)))
        }

        // The technician's van, with 100 of a part: a counter, whose contributions must not double.
        let technician = try user(.technician, 0)
        let product = RecordID(try #require(data["products"]).rows[2][0]!)!
        let van = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0001)
        let level = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0002)
        let seeded = Version(clock: HLC(milliseconds: UInt64(W.monday)), replica: .server)
        let storeA = SyncStore(pool: poolA, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
        try await storeA.seed([
            ("stock_locations", van, RecordState(fields: ["kind": FieldState(value: .text("van"), version: seeded), "name": FieldState(value: .text("Van 1"), version: seeded),
                                                          "owner_id": FieldState(value: .id(technician), version: seeded)])),
            ("stock_levels", level, RecordState(fields: ["stock_location_id": FieldState(value: .id(van), version: seeded), "product_id": FieldState(value: .id(product), version: seeded),
                                                         "quantity": FieldState(value: .counter(CounterValue([.server: .init(total: 100, clock: seeded.clock)])), version: seeded)])),
        ], tenant: tenant)
        let orders = try #require(data["work_orders"])
        let workOrder = RecordID(try #require(orders.rows.first { $0[orders.columns.firstIndex(of: "assignee_id")!] == technician.uuidString })[0]!)!
        let tech = try await phone(technician, .technician)
        let early = try await phone(try user(.rep, 0), .rep)
        let late = try await phone(try user(.rep, 1), .rep)
        let owners = try #require(data["territory_owners"]).rows
        @Sendable func territory(_ phone: Phone) throws -> RecordID { RecordID(try #require(owners.first { $0[1] == phone.user.uuidString }?[0]))! }
        let backup = directory.appendingPathComponent("nightly.dump")

        // Before the restore: the server on the first database.
        let appA = Application(router: FieldSyncServer.makeRouter(pool: poolA, tokens: tokens, wallClock: clock, requestsPerSecond: 10_000),
                               configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let generationA = try await storeA.refreshGeneration().generation
        let (afterDump, lateReplica) = try await appA.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)"
            try await tech.sync(url, http, tokens: tokens, tenant: tenant)
            try await early.sync(url, http, tokens: tokens, tenant: tenant)
            #expect(try await tech.store.generation() == generationA)
            _ = try await tech.store.recordPartUsed(workOrder: workOrder, product: product, quantity: 3, from: van, at: W.at(9))
            let before = try await early.store.createCustomer(name: "Before The Backup", territory: try territory(early)).record
            try await tech.sync(url, http, tokens: tokens, tenant: tenant)
            try await early.sync(url, http, tokens: tokens, tenant: tenant)
            #expect(try await storeA.record("customers", before, tenant: tenant).text("name") == "Before The Backup")

            // The nightly backup.
            try await cluster.dump(database: first, to: backup)

            // The day goes on: more parts, a customer from a phone known to the backup, and a phone
            // that registers only now, all acknowledged by the server.
            clock.advance(by: 3_600_000)
            _ = try await tech.store.recordPartUsed(workOrder: workOrder, product: product, quantity: 2, from: van, at: W.at(10))
            let signature = AttachmentFile(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 3, count: 1_500), mediaType: "image/png", kind: .signature)
            _ = try await tech.store.setResolution(workOrder: workOrder, resolution: "replaced the filter", signature: signature)
            var afterDump = [try await early.store.createCustomer(name: "After The Backup", territory: try territory(early)).record]
            try await late.sync(url, http, tokens: tokens, tenant: tenant)
            let lateReplica = try await late.store.identity().replica
            afterDump.append(try await late.store.createCustomer(name: "Registered After The Backup", territory: try territory(late)).record)
            for phone in [tech, early, late] {
                try await phone.sync(url, http, tokens: tokens, tenant: tenant)
                #expect(try await phone.store.outboxCount() == 0)
            }
            let quantity = try await poolA.query("SELECT quantity FROM stock_levels WHERE id = $1", [level.uuidString])[0].read(0, as: Int64.self)
            #expect(quantity == 95)
            #expect(try await poolA.query("SELECT count(*) FROM blobs")[0].read(0, as: Int64.self) == 1)
            return (afterDump, lateReplica)
        }
        await poolA.close()

        // The database is lost; last night's backup is restored into a new one, and the server
        // comes back on it.
        try await cluster.restore(backup, into: second)
        let poolB = try PostgresPool(.init(connectionString: cluster.connectionString(database: second)))
        defer { Task { await poolB.close() } }
        let storeB = SyncStore(pool: poolB, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
        for id in afterDump {
            #expect(try await poolB.query("SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2", [tenant.uuidString, id.uuidString]).isEmpty, "the backup predates it")
        }
        let start = try await storeB.refreshGeneration()
        #expect(start.began && start.carriedOver && start.generation != generationA)
        let appB = Application(router: FieldSyncServer.makeRouter(pool: poolB, tokens: tokens, wallClock: clock, requestsPerSecond: 10_000),
                               configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await appB.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)"
            clock.advance(by: 3_600_000)
            var reports: [SyncClient.Report] = []
            for phone in [tech, early, late] { reports.append(try await phone.sync(url, http, tokens: tokens, tenant: tenant)) }
            #expect(reports.allSatisfy { $0.generationsMet == 1 && $0.requeued > 0 }, "\(reports)")
            for phone in [tech, early, late] {
                #expect(try await phone.store.generation() == start.generation)
                #expect(try await phone.store.outboxCount() == 0)
            }
            // The phone the backup did not know took its number back.
            #expect(try await late.store.identity().replica == lateReplica)
            // What the phones wrote after the backup is on the server again, once.
            #expect(try await storeB.record("customers", afterDump[0], tenant: tenant).text("name") == "After The Backup")
            #expect(try await storeB.record("customers", afterDump[1], tenant: tenant).text("name") == "Registered After The Backup")
            let quantity = try await poolB.query("SELECT quantity FROM stock_levels WHERE id = $1", [level.uuidString])[0].read(0, as: Int64.self)
            #expect(quantity == 95, "100 - 3 before the backup - 2 after it, each counted once")
            let parts = try await poolB.query("SELECT count(*) FROM parts_used WHERE tenant_id = $1 AND stock_location_id = $2", [tenant.uuidString, van.uuidString])[0]
                .read(0, as: Int64.self)
            #expect(parts == 2)
            // The signature's bytes, lost with the database, came up again from the phone.
            let signed = try await poolB.query("""
                SELECT count(*) FROM work_orders w JOIN attachments a ON a.tenant_id = w.tenant_id AND a.id = w.signature_attachment_id
                JOIN blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.sha256 WHERE w.id = $1 AND a.upload_state = 'complete'
                """, [workOrder.uuidString])[0].read(0, as: Int64.self)
            #expect(signed == 1 && reports[0].uploaded == 1, "\(reports[0])")
            // The phones re-primed: each holds the other's customer where it sees its territory
            // (once the other uploaded it), and the van as the server has it.
            for phone in [early, late] { try await phone.sync(url, http, tokens: tokens, tenant: tenant) }
            guard case .counter(let held)? = try await tech.store.record("stock_levels", level)?.fields["quantity"]?.value else {
                Issue.record("the technician's phone lost the van's level")
                return
            }
            #expect(held.sum == 95)
            for phone in [early, late] {
                for id in afterDump {
                    let held = try await phone.store.record("customers", id)
                    let territoryOf = try await storeB.record("customers", id, tenant: tenant).id("territory_id")
                    if territoryOf == (try territory(phone)) { #expect(held != nil, "\(id) in \(String(describing: territoryOf)) on \(phone.user)") }
                }
            }
            // A phone registering now gets a number past the skipped range.
            let newcomer = try await phone(try user(.rep, 2), .rep)
            try await newcomer.sync(url, http, tokens: tokens, tenant: tenant)
            #expect(Int64(try #require(try await newcomer.store.identity().replica).rawValue) > Int64(try #require(lateReplica).rawValue) + SyncStore.replicaGap / 2)
            // A second sync is quiet: nothing more to upload, nothing re-primed.
            let again = try await tech.sync(url, http, tokens: tokens, tenant: tenant)
            #expect(again.generationsMet == 0 && again.requeued == 0 && again.pushed == 0)
        }
    }
}
