import FieldRules
import FleetSimulation
import DemoData
import DeviceStore
import FieldModel
import Foundation
import PostgresDriver
import SyncEngine
import SyncClient
import SyncCore
import SyncServer
import SyncTesting
import SyncWire
import Synchronization
import Testing

/// `SyncClient` against the real server code in-process: retries, re-stamping, tokens.
@Suite("SyncClient")
struct SyncClientTests {
    /// Delivers, or loses a request before the server sees it, or loses the answer after the server committed.
    final class ScriptedTransport: SyncTransport {
        enum Fate { case deliver, loseRequest, loseResponse }
        let inner: InProcessTransport
        let script: Mutex<[String: [Fate]]>
        let sent = Mutex<[String]>([])
        struct Lost: Error {}

        init(_ inner: InProcessTransport, script: [String: [Fate]] = [:]) {
            self.inner = inner
            self.script = Mutex(script)
        }

        func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
            sent.withLock { $0.append(route) }
            let fate = script.withLock { script -> Fate in
                guard var fates = script[route], !fates.isEmpty else { return .deliver }
                let fate = fates.removeFirst()
                script[route] = fates
                return fate
            }
            if fate == .loseRequest { throw Lost() }
            let response = try await inner.send(message, to: route, token: token)
            if fate == .loseResponse { throw Lost() }
            return response
        }
    }

    struct World {
        let pool: PostgresPool
        let service: SyncService
        let tokens: TokenAuthority
        let clock: ManualWallClock
        let tenant: RecordID
        let rep: RecordID
        let directory: URL
    }

    static func world(_ name: String) async throws -> World {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name)))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = try #require(data.tenant)
        let rep = RecordID(try #require(data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let clock = ManualWallClock(1_796_050_800_000)  // Monday 2026-11-30 09:00 in New York
        let tokens = try await TokenAuthority(secret: String(repeating: "k", count: 40))
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-client-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return World(pool: pool, service: SyncService(store: store, tokens: tokens, wallClock: clock), tokens: tokens, clock: clock, tenant: tenant, rep: rep,
                     directory: directory)
    }

    static func phone(_ world: World, clock: any WallClock, transport: any SyncTransport, token: String? = nil) async throws -> (DeviceStore, SyncClient) {
        let store = try await DeviceStore.open(path: world.directory.appendingPathComponent("\(UUID().uuidString.prefix(8)).sqlite").path,
                                               options: .init(wallClock: clock, seed: 7))
        var options = SyncClient.Options()
        options.sleep = { _ in }
        var issued = token
        if issued == nil { issued = try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep) }
        let credentials = SyncClient.Credentials(token: issued!, user: world.rep, role: .rep)
        return (store, SyncClient(store: store, transport: transport, credentials: credentials, options: options))
    }

    @Test("a lost request and a lost response are retried; the retried push is the same batch and applies once")
    func retries() async throws {
        let world = try await Self.world("client-retries")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let transport = ScriptedTransport(InProcessTransport(world.service), script: ["/v1/push": [.loseRequest, .loseResponse]])
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: transport)
        _ = try await client.sync()
        let visit = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first)
        _ = try await store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(world.clock.now())))
        let report = try await client.sync()
        #expect(report.retries == 2)
        #expect(try await store.outboxCount() == 0)
        #expect(transport.sent.withLock { $0.filter { $0 == "/v1/push" }.count } == 3)
        let outcomes = try await store.outcomes()
        #expect(outcomes.count == 2)  // the check-in event and the visit's move
        let applied = try await world.pool.query("SELECT count(*) FROM geo_events WHERE visit_id = $1", [visit.id.uuidString])[0].read(0, as: Int.self)
        #expect(applied == 1)
    }

    @Test("a phone a day ahead is told clock_ahead, re-stamps its unacknowledged changes and pushes again")
    func clockAhead() async throws {
        let world = try await Self.world("client-clock")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let ahead = ManualWallClock(world.clock.now() + 86_400_000)
        let (store, client) = try await Self.phone(world, clock: ahead, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let customer = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first).customerID
        _ = try await store.correctCustomer(customer, ["phone": .text("+1-212-555-0199")])
        let report = try await client.sync()
        #expect(report.restamps >= 1)
        #expect(try await store.outboxCount() == 0)
        let clock = try await world.pool.query("SELECT phone__clock FROM customers WHERE id = $1", [customer.uuidString])[0].read(0, as: Int64.self)
        #expect(HLC(rawValue: UInt64(clock)).milliseconds <= world.clock.now() + 300_000, "the stored version is within the drift the server allows")
    }

    @Test("an expired token ends the sync with token_expired, the outbox waits, and a new token resumes")
    func expiredToken() async throws {
        let world = try await Self.world("client-token")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let customer = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first).customerID
        _ = try await store.correctCustomer(customer, ["phone": .text("+1-212-555-0142")])
        await client.setToken(try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep, lifetime: .seconds(60), now: Date().addingTimeInterval(-3_600)))
        await #expect { try await client.sync() } throws: { ($0 as? SyncClientError)?.code == .tokenExpired }
        #expect(try await store.outboxCount() == 1)
        await client.setToken(try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep))
        _ = try await client.sync()
        #expect(try await store.outboxCount() == 0)
    }
}
