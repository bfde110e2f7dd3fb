import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServerStore
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
        let registered = Set(router.routes.map { "\($0.method.rawValue) /\(String(describing: $0.path).trimmingCharacters(in: CharacterSet(charactersIn: "/")))" })
        let yaml = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("SyncProtocol/openapi.yaml"), encoding: .utf8)
        var documented = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let path, line.hasPrefix("    "), !line.hasPrefix("     "), ["get:", "post:", "put:", "delete:", "patch:"].contains(trimmed) {
                documented.insert("\(trimmed.dropLast().uppercased()) \(path)")
            }
        }
        #expect(!documented.isEmpty)
        #expect(registered == documented, "registered but undocumented: \(registered.subtracting(documented)); documented but missing: \(documented.subtracting(registered))")
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

    @Test("a user past the request rate is answered 429 with when to retry")
    func rateLimit() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("rate")))
        try await Migrator.migrate(pool)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let clock = ManualWallClock(1_796_065_200_000)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock, requestsPerSecond: 1))
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
