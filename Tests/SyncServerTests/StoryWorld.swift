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
import SyncEngine
import SyncClient
import SyncClientHTTP
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// A tenant for end-to-end stories: a fresh PostgreSQL database with the demo data, the real
/// server listening on a loopback port with a simulated clock, phones that are real SQLite
/// device stores syncing through `SyncClient` over HTTP, and the office acting through the same
/// store code the office routes call.
struct StoryWorld {
    let url: String
    /// The database's connection string, for a connection of a test's own.
    let database: String
    let pool: PostgresPool
    let store: SyncStore
    let data: DemoDataSet
    let tenant: RecordID
    let tokens: TokenAuthority
    let clock: ManualWallClock
    let directory: URL
    let http: HTTPClient

    /// Monday 2026-11-30 00:00 in New York, in UTC milliseconds.
    static let monday: Int64 = 1_796_014_800_000
    static let minute: Int64 = 60_000
    /// A time on Monday, New York time.
    static func at(_ hour: Int64, _ minutes: Int64 = 0) -> Int64 { monday + (hour + 5) * 3_600_000 + minutes * minute }

    /// Runs `body` against a new world, and removes everything afterwards.
    static func run(_ name: String, _ body: @Sendable (StoryWorld) async throws -> Void) async throws {
        let database = try await TestPostgres.makeDatabase(name)
        let pool = try PostgresPool(.init(connectionString: database))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let clock = ManualWallClock(UInt64(at(8)))
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-story-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock, requestsPerSecond: 10_000),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        do {
            try await app.test(.live) { client in
                let world = StoryWorld(url: "http://127.0.0.1:\(client.port!)", database: database, pool: pool,
                                       store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock)),
                                       data: data, tenant: try #require(data.tenant), tokens: tokens, clock: clock, directory: directory, http: http)
                try await body(world)
            }
        } catch {
            try? await http.shutdown()
            await pool.close()
            throw error
        }
        try await http.shutdown()
        // Its connections go back to the cluster the suites share (max_connections).
        await pool.close()
    }

    /// The demo users with `role`, in the data set's order.
    func users(_ role: Role) throws -> [RecordID] {
        try #require(data["users"]).rows.filter { $0[2] == role.name }.map { RecordID($0[0]!)! }
    }

    /// Someone in the office.
    func office(_ role: Role) throws -> SyncStore.OfficeUser {
        SyncStore.OfficeUser(user: try #require(try users(role).first), role: role, tenant: tenant)
    }

    /// A phone for `user`, registered and primed.
    func phone(_ user: RecordID, role: Role, install: Int = 0) async throws -> Phone {
        let store = try await DeviceStore.open(path: directory.appendingPathComponent("\(user.uuidString)-\(install).sqlite").path,
                                               options: .init(wallClock: clock, seed: UInt64(install) &+ user.low))
        var options = SyncClient.Options()
        options.backoff = .milliseconds(10)
        let client = SyncClient(store: store, transport: HTTPTransport(baseURL: url, client: http),
                                credentials: .init(token: try await tokens.issue(user: user, tenant: tenant, role: role), user: user, role: role), options: options)
        let phone = Phone(user: user, store: store, client: client)
        _ = try await phone.client.sync()
        return phone
    }

    struct Phone {
        let user: RecordID
        let store: DeviceStore
        let client: SyncClient

        /// Syncs and returns every outcome the device holds.
        @discardableResult
        func sync() async throws -> [DeviceStore.StoredOutcome] {
            _ = try await client.sync()
            return try await store.outcomes()
        }

        /// Syncs until `condition` holds (for at most 5 s): the feed serves only what is older than
        /// every transaction running in the cluster, so under a loaded test run a server write can
        /// take a moment to become visible.
        func sync(until condition: @Sendable (DeviceStore) async throws -> Bool) async throws {
            for _ in 0..<50 {
                _ = try await client.sync()
                if try await condition(store) { return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// The phone's visits on Monday.
        func mondayVisits() async throws -> [DeviceStore.VisitSummary] {
            try await store.visits(from: StoryWorld.monday, to: StoryWorld.monday + 86_400_000)
        }

        /// A fix at `location`, `offsetE6` micro-degrees north.
        func fix(at location: Coordinate?, time: Int64, northE6: Int64 = 0, mock: Bool = false) throws -> Geofence.Fix {
            let location = try #require(location)
            return Geofence.Fix(coordinate: Coordinate(latitudeE6: location.latitudeE6 + northE6, longitudeE6: location.longitudeE6),
                                accuracyMeters: 15, deviceTime: time, mockLocation: mock)
        }
    }

    /// The decisions recorded about a record: (rule, result, review).
    func decisions(_ record: RecordID) async throws -> [(rule: String, result: String, review: String?)] {
        try await pool.query("SELECT rule, result, review FROM decisions WHERE tenant_id = $1 AND record = $2 ORDER BY seq",
                             [tenant.uuidString, record.uuidString]).map { (try $0.read(0, as: String.self), try $0.read(1, as: String.self), try $0.read(2, as: String?.self)) }
    }

    /// A record as the server holds it.
    func server(_ table: String, _ id: RecordID) async throws -> RecordState {
        try await store.record(table, id, tenant: tenant)
    }
}
