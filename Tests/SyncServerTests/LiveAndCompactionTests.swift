import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

@Suite("Live channel and feed compaction")
struct LiveAndCompactionTests {
    struct World {
        let url: String
        let pool: PostgresPool
        let data: DemoDataSet
        let tenant: RecordID
        let rep: RecordID
        let token: String
        let tokens: TokenAuthority
        let clock = ManualWallClock(1_796_065_200_000)
    }

    static func world(_ name: String) async throws -> World {
        let url = try await TestPostgres.makeDatabase(name)
        let pool = try PostgresPool(.init(connectionString: url))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = try #require(data.tenant)
        let rep = RecordID(try #require(data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        return World(url: url, pool: pool, data: data, tenant: tenant, rep: rep, token: try await tokens.issue(user: rep, tenant: tenant, role: .rep), tokens: tokens)
    }

    /// Registers an install and primes `bucket`; returns the replica and the cursor after priming.
    static func primed(_ client: some TestClientProtocol, _ world: World, installation: RecordID) async throws -> (ReplicaID, Bucket, UInt64) {
        let registered = try await SyncRoutesTests.post(client, "/v1/register", .registerRequest(RegisterRequest(installation: installation, appVersion: "1", platform: "t", schemaRevision: 1)), token: world.token)
        guard case .registerResponse(let registration)? = registered.message else { throw SyncRoutesTests.TestFailure("register") }
        let territory = try #require(registration.buckets.first { $0.prefix == "territory" })
        var cursor = BucketCursor(bucket: territory, sequence: 0)
        while true {
            let pulled = try await SyncRoutesTests.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: [cursor], replica: registration.replica)), token: world.token)
            guard case .pullResponse(let answer)? = pulled.message, let page = answer.pages.first else { throw SyncRoutesTests.TestFailure("prime") }
            cursor = BucketCursor(bucket: territory, sequence: page.cursor, resume: page.resume)
            if !page.hasMore { return (registration.replica, territory, page.cursor) }
        }
    }

    static func editCustomer(_ client: some TestClientProtocol, _ world: World, territory: Bucket, replica: ReplicaID, n: UInt64) async throws {
        let customers = try #require(world.data["customers"])
        let customer = RecordID(try #require(customers.rows.first { "territory:\($0[customers.columns.firstIndex(of: "territory_id")!]!)" == territory })[0]!)!
        let change = Change(id: ChangeID(RecordID(high: 5, low: n)), table: "customers", record: customer, operation: .write([FieldWrite("phone", .text("+1-212-555-0\(100 + n)"))]),
                            version: Version(clock: HLC(milliseconds: world.clock.now() + n), replica: replica))
        let pushed = try await SyncRoutesTests.post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 6, low: n), changeSets: [ChangeSet(id: ChangeID(RecordID(high: 7, low: n)), changes: [change])])), token: world.token)
        guard case .pushResponse(let outcomes)? = pushed.message, outcomes.outcomes.map(\.result) == [.applied] else { throw SyncRoutesTests.TestFailure("push \(pushed.status)") }
    }

    @Test("a device waiting on one instance's live channel is woken by a change pushed through another")
    func liveAcrossInstances() async throws {
        let world = try await Self.world("live")
        let other = try PostgresPool(.init(connectionString: world.url))
        let appA = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: world.clock, liveWait: .seconds(30)))
        let appB = Application(router: FieldSyncServer.makeRouter(pool: other, tokens: world.tokens, wallClock: world.clock, liveWait: .milliseconds(300)))
        try await appA.test(.router) { a in
            try await appB.test(.router) { b in
                let (replica, territory, cursor) = try await Self.primed(a, world, installation: RecordID(high: 8, low: 1))
                let registered = try await SyncRoutesTests.post(b, "/v1/register", .registerRequest(RegisterRequest(installation: RecordID(high: 8, low: 1), appVersion: "1", platform: "t", schemaRevision: 1)), token: world.token)
                guard case .registerResponse(let registration)? = registered.message else { throw SyncRoutesTests.TestFailure("register") }
                let cursors = registration.buckets.map { BucketCursor(bucket: $0, sequence: $0 == territory ? cursor : 1) }
                // Nothing new: B holds the request for its wait, then answers with no buckets.
                let quiet = try await SyncRoutesTests.post(b, "/v1/live", .pullRequest(PullRequest(cursors: cursors)), token: world.token)
                guard case .liveNotice(let nothing)? = quiet.message else { throw SyncRoutesTests.TestFailure("live \(quiet.status)") }
                #expect(nothing.buckets.isEmpty)
                // A waits (for up to 30 s); a push through B wakes it.
                async let woken = SyncRoutesTests.post(a, "/v1/live", .pullRequest(PullRequest(cursors: cursors)), token: world.token)
                try await Task.sleep(for: .milliseconds(200))
                try await Self.editCustomer(b, world, territory: territory, replica: replica, n: 1)
                guard case .liveNotice(let notice)? = try await woken.message else { throw SyncRoutesTests.TestFailure("live") }
                #expect(notice.buckets == [territory])
                // A cursor that is not a bucket of the user's is news: the set changed.
                let changed = try await SyncRoutesTests.post(b, "/v1/live", .pullRequest(PullRequest(cursors: Array(cursors.dropFirst()))), token: world.token)
                guard case .liveNotice(let gained)? = changed.message else { throw SyncRoutesTests.TestFailure("live") }
                #expect(gained.buckets.contains(cursors[0].bucket))
            }
        }
    }

    @Test("the feed is compacted below what every active device acknowledged; a device behind the horizon re-primes after uploading")
    func compactionAndReprime() async throws {
        let world = try await Self.world("compact")
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain())
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: world.clock))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-compact-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await app.test(.router) { client in
            let (fast, territory, start) = try await Self.primed(client, world, installation: RecordID(high: 9, low: 1))
            let (slow, _, _) = try await Self.primed(client, world, installation: RecordID(high: 9, low: 2))
            for n: UInt64 in 1...4 { try await Self.editCustomer(client, world, territory: territory, replica: fast, n: n) }
            func entries() async throws -> Int64 {
                try await world.pool.query("SELECT count(*) FROM change_log WHERE tenant_id = $1 AND bucket = $2", [world.tenant.uuidString, territory])[0].read(0, as: Int64.self)
            }
            // The fast device reads everything; the slow one stays at its priming cursor.
            var latest = start
            var read = 0
            for _ in 0..<500 where read < 4 {
                let pulled = try await SyncRoutesTests.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: latest)], replica: fast)), token: world.token)
                if case .pullResponse(let answer)? = pulled.message, let page = answer.pages.first {
                    latest = page.cursor
                    read += page.changeSets.count
                } else {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            #expect(read == 4)
            _ = try await SyncRoutesTests.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: latest)], replica: fast)), token: world.token)
            let written = try await entries()
            #expect(written == 4)
            try await store.compact(retention: .seconds(3_600))
            #expect(try await entries() == 4, "the slow device has not acknowledged them")

            // Past the retention window the slow device is not waited for.
            // (Only entries below the visibility watermark go, which other tests' transactions on
            // the same cluster may hold back for a moment.)
            for _ in 0..<500 where try await entries() > 0 {
                try await store.compact(retention: .zero)
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await entries() == 0)
            let behind = try await SyncRoutesTests.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: start)], replica: slow)), token: world.token)
            guard case .pullResponse(let answer)? = behind.message else { throw SyncRoutesTests.TestFailure("pull") }
            #expect(answer.reprime == [territory])
            #expect(answer.pages.isEmpty)
            let current = try await SyncRoutesTests.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: latest)], replica: fast)), token: world.token)
            guard case .pullResponse(let fine)? = current.message else { throw SyncRoutesTests.TestFailure("pull") }
            #expect(fine.reprime.isEmpty, "a device at the horizon goes on")

            // A device store re-primes: the bucket starts over and the snapshot brings the edits.
            let device = try await SyncRoutesTests.device(client, token: world.token, user: world.rep, clock: world.clock, in: directory)
            let before = try await device.cursors().first { $0.bucket == territory }!
            #expect(before.sequence > 0)
            try await device.reprime(bucket: territory)
            #expect(try await device.cursors().first { $0.bucket == territory }?.sequence == 0)
            try await SyncRoutesTests.sync(client, device, token: world.token)
            let customers = try #require(world.data["customers"])
            let customer = RecordID(try #require(customers.rows.first { "territory:\($0[customers.columns.firstIndex(of: "territory_id")!]!)" == territory })[0]!)!
            #expect(try await device.record("customers", customer)?.fields["phone"]?.value == .text("+1-212-555-0104"))
        }
    }
}
