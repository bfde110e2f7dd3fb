import FieldModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncWire
import Testing

@testable import SyncServer

/// Issue 14, items 9 and 11: limits on every route by cost, blob quotas and who may read a blob,
/// and bounded parse memory.
@Suite("Hostile limits and blobs")
struct HostileLimitsTests {
    @Test("every route is rate-limited by cost: office reads, blobs and /health answer 429 with when to retry")
    func everyRouteLimited() async throws {
        let world = try await HostileWorld.make("hostile-limits")
        let dispatcher = try await world.tokens.issue(user: try world.users(.dispatcher)[0], tenant: world.tenant, role: .dispatcher)
        // 2 tokens a second, bursts of 20: an office read costs 5, so the fifth is refused.
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: world.clock, requestsPerSecond: 2))
        try await app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 { statuses.append(try await OfficeRoutesTests.call(client, .get, "/v1/office/reviews", token: dispatcher).status) }
            #expect(statuses.prefix(4).allSatisfy { $0 == .ok } && statuses.last == .tooManyRequests, "\(statuses)")
            let limited = try await OfficeRoutesTests.call(client, .get, "/v1/office/reviews", token: dispatcher)
            #expect(limited.member("retry_after_ms") != nil)
            // Blobs share the user's budget.
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/blobs/\(String(repeating: "0", count: 64))", token: dispatcher).status == .tooManyRequests)
            // The unauthenticated routes share one bucket of their own.
            var health: [HTTPResponse.Status] = []
            for _ in 0..<1_100 { health.append(try await OfficeRoutesTests.call(client, .get, "/health", token: nil).status) }
            #expect(health.contains(.tooManyRequests) && health.first == .ok)
        }
    }

    /// Item 8, in the office: U+0000 in any office string is a 400, never a 503 "retry later".
    @Test("U+0000 in an office string is refused as invalid")
    func officeNUL() async throws {
        let world = try await HostileWorld.make("hostile-office-nul")
        let dispatcher = try await world.tokens.issue(user: try world.users(.dispatcher)[0], tenant: world.tenant, role: .dispatcher)
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: world.clock, requestsPerSecond: 1_000))
        try await app.test(.router) { client in
            let plan = try await OfficeRoutesTests.call(client, .post, "/v1/office/visit-plans", """
                {"rep_id": "\(try world.rep.uuidString)", "name": "a\\u0000b", "period_start": "2026-11-30T00:00:00Z", "period_end": "2026-12-05T00:00:00Z"}
                """, token: dispatcher)
            #expect(plan.status == .badRequest && plan.member("error") == .string("invalid"), "\(plan.status)")
            let resolve = try await OfficeRoutesTests.call(client, .post, "/v1/office/reviews/decision:1/resolve", """
                {"action": "accept", "comment": "\\u0000"}
                """, token: dispatcher)
            #expect(resolve.status == .badRequest, "\(resolve.status)")
        }
    }

    @Test("a pull is charged by the rows it served")
    func pullCost() async throws {
        let world = try await HostileWorld.make("hostile-pull-cost")
        let service = SyncService(store: world.store, tokens: world.tokens, wallClock: world.clock, requestsPerSecond: 1)
        let phone = try await world.phone(try world.rep, .rep)
        // A burst of 10 tokens: ten bare pulls fit, but each snapshot page of 5,000 rows costs
        // 1 + 5,000 / 2,500 = 3 tokens, so the fifth pull waits.
        let request = Message.pullRequest(PullRequest(cursors: [BucketCursor(bucket: "catalog", sequence: 0)], recordsMax: 5_000))
        var admitted = 0
        var rows = 0
        for _ in 0..<10 {
            let answer = await service.respond(route: "/v1/pull", authorization: "Bearer \(phone.token)", body: try Frame.encode(request))
            guard answer.status == 200 else {
                #expect(answer.status == 429)
                break
            }
            admitted += 1
            if case .pullResponse(let response) = try Frame.decode(answer.body) { rows = response.pages.reduce(0) { $0 + $1.snapshots.count } }
        }
        #expect(rows == 5_000)
        let cost = 1 + Double(rows) / RateLimiter.Cost.rowsPerToken
        #expect(admitted == Int((10 - 1) / cost) + 1, "\(admitted) pulls of \(rows) rows admitted")
    }

    @Test("a JSON body past its limit is refused before it is parsed")
    func jsonBodyLimit() async throws {
        let world = try await HostileWorld.make("hostile-json-size")
        let phone = try await world.phone(try world.rep, .rep)
        let big = Array("{\"type\": \"push_request\", \"padding\": \"\(String(repeating: "x", count: WireLimits.jsonBodyBytesMax))\"}".utf8)
        let answer = try await world.send("/v1/push", bytes: big, token: phone.token, json: true)
        #expect(answer.status == 413)
    }

    @Test("blobs: quotas per user and day, read only by who may see them, never served as a page")
    func blobs() async throws {
        let world = try await HostileWorld.make("hostile-blobs")
        let reps = try world.users(.rep)
        let token = { (user: RecordID, role: Role) in try await world.tokens.issue(user: user, tenant: world.tenant, role: role) }
        let (mine, theirs, dispatcher) = (try await token(reps[0], .rep), try await token(reps[2], .rep), try await token(try world.users(.dispatcher)[0], .dispatcher))
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: world.clock, requestsPerSecond: 1_000))
        let page = Array("<script>alert(1)</script>".utf8)
        let sha = try await Self.sha256(page, world)
        try await app.test(.router) { client in
            let put = try await OfficeRoutesTests.call(client, .put, "/v1/blobs/\(sha)", token: mine, contentType: "text/html", bytes: page)
            #expect(put.status == .ok)
            // Another rep neither sees it nor learns that it exists; the office does.
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/blobs/\(sha)", token: theirs).status == .notFound)
            try await client.execute(uri: "/v1/blobs/\(sha)", method: .get, headers: [.authorization: "Bearer \(dispatcher)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/octet-stream")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/blobs/\(sha)", token: mine).status == .ok)
            // A day's quota used up (recorded as one large upload): the next upload is refused.
            try await world.pool.query("INSERT INTO blobs (tenant_id, sha256, size_bytes, media_type, bytes, uploaded_by) VALUES ($1, $2, $3, 'image/jpeg', '\\x00', $4)",
                                       [world.tenant.uuidString, String(repeating: "a", count: 64), SyncStore.blobBytesPerUserPerDayMax, reps[0].uuidString])
            let photo: [UInt8] = [0xFF, 0xD8, 0xFF, 0x01]
            let photoSHA = try await Self.sha256(photo, world)
            let refused = try await OfficeRoutesTests.call(client, .put, "/v1/blobs/\(photoSHA)", token: mine, contentType: "image/jpeg", bytes: photo)
            #expect(refused.status == .tooManyRequests && refused.member("error") == .string("quota_exceeded"))
            #expect(try await OfficeRoutesTests.call(client, .put, "/v1/blobs/\(photoSHA)", token: theirs, contentType: "image/jpeg", bytes: photo).status == .ok)
        }
    }

    /// SHA-256 in lower-case hex, by PostgreSQL's own function (the server checks uploads with it).
    static func sha256(_ bytes: [UInt8], _ world: HostileWorld) async throws -> String {
        try await world.pool.query("SELECT encode(sha256($1::bytea), 'hex')", [bytes])[0].read(0, as: String.self)
    }
}
