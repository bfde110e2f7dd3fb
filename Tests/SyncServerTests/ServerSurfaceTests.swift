import DemoData
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OfficeStore
import FieldRules
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

@Suite("Server surface")
struct ServerSurfaceTests {
    @Test("every route in openapi.yaml exists, and every route is in openapi.yaml")
    func openAPIMatchesRoutes() async throws {
        let pool = try PostgresPool(.init(connectionString: "host=/nonexistent user=x dbname=y"))
        let router = FieldSyncServer.makeRouter(pool: pool, tokens: try await TokenAuthority(secret: SyncRoutesTests.secret))
        // Hummingbird writes a path parameter as ":name", OpenAPI as "{name}".
        let registered = Set(router.routes.map { route in
            let path = String(describing: route.path).trimmingCharacters(in: CharacterSet(charactersIn: "/")).split(separator: "/")
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return "\(route.method.rawValue) /\(path)"
        })
        let yaml = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("SyncProtocol/openapi.yaml"), encoding: .utf8)
        var documented = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let path, line.hasPrefix("    "), !line.hasPrefix("     "), ["get:", "head:", "post:", "put:", "delete:", "patch:"].contains(trimmed) {
                documented.insert("\(trimmed.dropLast().uppercased()) \(path)")
            }
        }
        #expect(!documented.isEmpty)
        #expect(registered == documented, "registered but undocumented: \(registered.subtracting(documented)); documented but missing: \(documented.subtracting(registered))")
    }

    @Test("two server instances on one database: a push through one is pulled through the other")
    func twoInstances() async throws {
        let url = try await TestPostgres.makeDatabase("instances")
        let first = try PostgresPool(.init(connectionString: url))
        let second = try PostgresPool(.init(connectionString: url))  // another process would have its own pool
        try await Migrator.migrate(first)
        let data = DemoGenerator().generate()
        try await data.load(into: first)
        let tenant = try #require(data.tenant)
        let rep = RecordID(try #require(data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let token = try await tokens.issue(user: rep, tenant: tenant, role: .init("rep"))
        let clock = ManualWallClock(1_796_065_200_000)
        let appA = Application(router: FieldSyncServer.makeRouter(pool: first, tokens: tokens, wallClock: clock))
        let appB = Application(router: FieldSyncServer.makeRouter(pool: second, tokens: tokens, wallClock: clock))
        try await appA.test(.router) { a in
            try await appB.test(.router) { b in
                let registered = try await SyncRoutesTests.post(a, "/v1/register", .registerRequest(RegisterRequest(installation: RecordID(high: 3, low: 3), appVersion: "1", platform: "t", schemaRevision: 1)), token: token)
                guard case .registerResponse(let registration)? = registered.message else { throw SyncRoutesTests.TestFailure("register") }
                let territory = try #require(registration.buckets.first { $0.prefix == "territory" })
                let customers = try #require(data["customers"])
                let customer = RecordID(try #require(customers.rows.first { "territory:\($0[customers.columns.firstIndex(of: "territory_id")!]!)" == territory })[0]!)!
                // Prime through B, push through A, pull the change through B.
                let primed = try await SyncRoutesTests.post(b, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: 0)], recordsMax: 5_000)), token: token)
                guard case .pullResponse(let snapshot)? = primed.message, let page = snapshot.pages.first else { throw SyncRoutesTests.TestFailure("prime") }
                let change = Change(id: ChangeID(RecordID(high: 4, low: 1)), table: "customers", record: customer, operation: .write([FieldWrite("phone", .text("+1-212-555-0123"))]),
                                    version: Version(clock: HLC(milliseconds: clock.now()), replica: registration.replica))
                let pushed = try await SyncRoutesTests.post(a, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 4, low: 2), changeSets: [ChangeSet(id: ChangeID(RecordID(high: 4, low: 3)), changes: [change])])), token: token)
                guard case .pushResponse(let outcomes)? = pushed.message else { throw SyncRoutesTests.TestFailure("push") }
                #expect(outcomes.outcomes.map(\.result) == [.applied])
                var served: [ChangeSet] = []
                for _ in 0..<200 where served.isEmpty {
                    let pulled = try await SyncRoutesTests.post(b, "/v1/pull", .pullRequest(PullRequest(cursors: [BucketCursor(bucket: territory, sequence: page.cursor)])), token: token)
                    if case .pullResponse(let answer)? = pulled.message { served = answer.pages.flatMap(\.changeSets) }
                    if served.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                }
                #expect(served.flatMap(\.changes).map(\.id) == [change.id])
                // Instance A counted the push; instance B did not.
                let metricsA = try await a.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(metricsA.contains("fieldsync_changes_total{outcome=\"applied\"} 1"))
                #expect(metricsA.contains("fieldsync_push_requests_total 1"))
                #expect(metricsA.contains("fieldsync_request_duration_seconds_bucket{route=\"push\""))
                let metricsB = try await b.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(metricsB.contains("fieldsync_pull_requests_total"))
                #expect(!metricsB.contains("fieldsync_push_requests_total 1"))
                // The vitals, read when scraped: the pool's use, the feed's lag, a phone a day behind.
                #expect(metricsB.contains("fieldsync_db_pool_connections{state=\"max\"} \(second.configuration.connectionsMax)"), "\(metricsB)")
                #expect(metricsB.contains("fieldsync_feed_lag_seconds ") && metricsB.contains("fieldsync_devices_behind 0.0"), "\(metricsB)")
                try await first.query("UPDATE devices SET registered_at = now() - interval '2 days' WHERE tenant_id = $1", [tenant.uuidString])
                try await first.query("UPDATE device_cursors SET seen_at = now() - interval '2 days' WHERE tenant_id = $1", [tenant.uuidString])
                let later = try await b.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(later.contains("fieldsync_devices_behind 1.0"), "\(later)")
            }
        }
    }

    @Test("a user deactivated elsewhere (the operator's command, another instance) is refused by a running instance at once, not after its cache's 30 s")
    func deactivationReachesEveryInstance() async throws {
        let world = try await LiveAndCompactionTests.world("deactivation")
        let (url, pool, tenant, rep, token) = (world.url, world.pool, world.tenant, world.rep, world.token)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_065_200_000)))
        try await app.test(.router) { client in
            let register = Message.registerRequest(RegisterRequest(installation: RecordID(high: 5, low: 5), appVersion: "1", platform: "t", schemaRevision: 1))
            #expect(try await SyncRoutesTests.post(client, "/v1/register", register, token: token).status == .ok)  // the instance now holds the rep as active
            // Another process deactivates the rep: a store of its own, as `fieldsync-server admin user-deactivate` has.
            let elsewhere = try PostgresPool(.init(connectionString: url))
            try await SyncStore(pool: elsewhere, domain: FieldSalesDomain()).deactivateUser(rep, tenant: tenant, by: nil)
            await elsewhere.close()
            var refused = false
            let deadline = ContinuousClock.now + .seconds(5)
            while !refused, ContinuousClock.now < deadline {
                let answer = try await SyncRoutesTests.post(client, "/v1/register", register, token: token)
                if case .error(let error)? = answer.message, error.code == ErrorResponse.Code.userDeactivated { refused = true } else { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(refused, "the running instance still honoured the deactivated rep after 5 s")
        }
        await pool.close()
    }

    @Test("GET /ready: ready only on a reachable database at this build's schema revision")
    func ready() async throws {
        let url = try await TestPostgres.makeDatabase("ready")
        let pool = try PostgresPool(.init(connectionString: url))
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool))
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("fieldsync-server migrate"))
            }
            try await Migrator.migrate(pool)
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"status\":\"ready\""))
            }
        }
    }

    @Test("a new phone priming a large working set (100,000 rows in pages of 2,000) is never held back by the default limits")
    func primingFitsTheBurst() {
        let clock = ManualWallClock(1_796_065_200_000)
        let limiter = RateLimiter(limits: RateLimiter.Limits(), wallClock: clock)
        let user = RecordID(high: 1, low: 1)
        var held = 0
        for _ in 0..<5 { if limiter.take(for: user) != nil { held += 1 } }  // register and the first pulls
        for _ in 0..<50 {
            if limiter.take(for: user) != nil { held += 1 }
            limiter.charge(2_000 / RateLimiter.Cost.rowsPerToken, for: user)
            clock.advance(by: 50)  // a page served and applied in 50 ms
        }
        #expect(held == 0, "\(held) of the priming's requests were answered 429")
    }

    @Test("a user past the request rate is answered 429 with when to retry")
    func rateLimit() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("rate")))
        try await Migrator.migrate(pool)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let clock = ManualWallClock(1_796_065_200_000)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock, requestsPerSecond: 1))
        // A token is honoured only for a user of its tenant in that user's role.
        _ = try await pool.query("INSERT INTO users (tenant_id, id, role, name) VALUES ($1, $2, 'rep', 'Rate Limited')",
                                 [RecordID(high: 2, low: 2).uuidString, RecordID(high: 1, low: 1).uuidString])
        let token = try await tokens.issue(user: RecordID(high: 1, low: 1), tenant: RecordID(high: 2, low: 2), role: .init("rep"))
        try await app.test(.router) { client in
            let pull = Message.pullRequest(PullRequest(cursors: []))
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<10 { statuses.append(try await SyncRoutesTests.post(client, "/v1/pull", pull, token: token).status) }
            #expect(statuses.prefix(10).allSatisfy { $0 == .ok }, "a burst of ten")
            let limited = try await SyncRoutesTests.post(client, "/v1/pull", pull, token: token)
            #expect(limited.status == .tooManyRequests)
            if case .error(let error)? = limited.message {
                #expect(error.code == "rate_limited" && (error.retryAfterMilliseconds ?? 0) > 0)
            } else {
                Issue.record("expected rate_limited")
            }
            clock.advance(by: 1_000)
            #expect(try await SyncRoutesTests.post(client, "/v1/pull", pull, token: token).status == .ok)
        }
    }
}
