import DemoData
import FieldModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// The office API over HTTP: JSON in and out, strict bodies, roles, and every error code it documents.
@Suite("Office routes")
struct OfficeRoutesTests {
    struct Answer {
        var status: HTTPResponse.Status
        var json: JSONValue?
        var bytes: [UInt8]
        func member(_ key: String) -> JSONValue? {
            guard case .object(let members)? = json else { return nil }
            return members.first { $0.key == key }?.value
        }
    }

    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String?,
                     contentType: String = "application/json", bytes: [UInt8]? = nil) async throws -> Answer {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        let payload = bytes ?? body.map { Array($0.utf8) }
        return try await client.execute(uri: path, method: method, headers: headers, body: payload.map { ByteBuffer(bytes: $0) }) { response in
            let bytes = Array(response.body.readableBytesView)
            return Answer(status: response.status, json: try? JSONValue.parse(bytes), bytes: bytes)
        }
    }

    /// A new database with the schema and the demo data.
    static func demoDatabase(_ name: String) async throws -> (PostgresPool, DemoDataSet, RecordID) {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name)))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        return (pool, data, try #require(data.tenant))
    }

    @Test("the office lists orders newest first, filtered and paged with a cursor; a manager sees their team's; bad filters answer 400")
    func orderList() async throws {
        let (pool, data, tenant) = try await Self.demoDatabase("office-orders")
        let users = try #require(data["users"]).rows
        @Sendable func user(_ role: String) -> RecordID { RecordID(users.first { $0[2] == role }![0]!)! }
        let customers = try #require(data["customers"]).rows.prefix(2).map { $0[0]! }
        // Five orders the first rep took, a day apart, and one by someone outside the manager's team.
        let outsider = RecordID(high: 0xAB, low: 1)
        for index in 0..<6 {
            _ = try await pool.query("""
                INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, order_date, status, total_minor, currency)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 'USD')
                """, [tenant.uuidString, RecordID(high: 0xA0, low: UInt64(index)).uuidString, customers[index % 2],
                      (index == 5 ? outsider : user("rep")).uuidString, Int64(1_796_014_800_000 + Int64(index) * 86_400_000),
                      index % 2 == 0 ? "submitted" : "confirmed", Int64(1_000 * (index + 1))])
        }
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let dispatcher = try await tokens.issue(user: user("dispatcher"), tenant: tenant, role: .dispatcher)
        let manager = try await tokens.issue(user: user("manager"), tenant: tenant, role: .manager)
        let rep = try await tokens.issue(user: user("rep"), tenant: tenant, role: .rep)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: ManualWallClock(1_796_050_800_000)))
        @Sendable func text(_ value: JSONValue?) -> String? { if case .string(let text)? = value { text } else { nil } }
        @Sendable func ids(_ answer: Answer) -> [String] {
            guard case .array(let orders)? = answer.member("orders") else { return [] }
            return orders.compactMap { order in if case .object(let members) = order { text(members.first { $0.key == "id" }?.value) } else { nil } }
        }
        try await app.test(.router) { client in
            // Every page in turn, by the cursor.
            var seen: [String] = []
            var path = "/v1/office/orders?limit=2"
            for _ in 0..<5 {
                let page = try await Self.call(client, .get, path, token: dispatcher)
                #expect(page.status == .ok, "\(page.json?.printed ?? "")")
                seen += ids(page)
                guard let next = text(page.member("next")) else { break }
                path = "/v1/office/orders?limit=2&after=\(next)"
            }
            #expect(seen == (0..<6).reversed().map { RecordID(high: 0xA0, low: UInt64($0)).uuidString }, "newest first, each once")

            let confirmed = try await Self.call(client, .get, "/v1/office/orders?status=confirmed", token: dispatcher)
            #expect(ids(confirmed).count == 3 && confirmed.json?.printed.contains("\"submitted\"") == false)
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders?rep=\(user("rep").uuidString)", token: dispatcher)).count == 5)
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders?customer=\(customers[0])", token: dispatcher)).count == 3)
            let window = try await Self.call(client, .get, "/v1/office/orders?from=2026-12-01T00:00:00Z&to=2026-12-03T05:00:00Z", token: dispatcher)
            #expect(ids(window).count == 2, "\(window.json?.printed ?? "")")

            // A manager sees their team's orders; a rep none.
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders", token: manager)).count == 5)
            #expect(try await Self.call(client, .get, "/v1/office/orders", token: rep).status == .forbidden)
            for bad in ["status=shipped", "limit=0", "limit=501", "limit=ten", "after=nonsense", "rep=not-a-uuid", "from=yesterday"] {
                let answer = try await Self.call(client, .get, "/v1/office/orders?\(bad)", token: dispatcher)
                #expect(answer.status == .badRequest && text(answer.member("error")) == "invalid", "\(bad)")
            }
        }
    }

    @Test("a dispatcher plans through JSON; the board shows it; strict bodies, roles and states answer with their codes")
    func officeSurface() async throws {
        let (pool, data, tenant) = try await Self.demoDatabase("office-routes")
        let users = try #require(data["users"]).rows
        @Sendable func user(_ role: String) -> RecordID { RecordID(users.first { $0[2] == role }![0]!)! }
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let dispatcher = try await tokens.issue(user: user("dispatcher"), tenant: tenant, role: .dispatcher)
        let manager = try await tokens.issue(user: user("manager"), tenant: tenant, role: .manager)
        let rep = try await tokens.issue(user: user("rep"), tenant: tenant, role: .rep)
        let customer = try #require(data["customers"]).rows[0][0]!
        let clock = ManualWallClock(1_796_050_800_000)  // Monday 2026-11-30 09:00 in New York
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock))
        try await app.test(.router) { client in
            let plan = try await Self.call(client, .post, "/v1/office/visit-plans", """
                {"rep_id": "\(user("rep").uuidString)", "name": "Extra week", "period_start": "2026-11-30T00:00:00Z", "period_end": "2026-12-05T00:00:00Z"}
                """, token: dispatcher)
            #expect(plan.status == .ok)
            guard case .string(let planID)? = plan.member("id") else { Issue.record("no plan id: \(plan.json?.printed ?? "")"); return }
            let visit = try await Self.call(client, .post, "/v1/office/visits", """
                {"plan_id": "\(planID)", "customer_id": "\(customer)", "assignee_id": "\(user("rep").uuidString)", "visit_type": "audit",
                 "planned_start": "2026-11-30T13:00:00Z", "planned_end": "2026-11-30T13:30:00Z", "tasks": [{"task_type": "photo", "required": true}]}
                """, token: dispatcher)
            #expect(visit.status == .ok)
            guard case .string(let visitID)? = visit.member("id") else { Issue.record("no visit id: \(visit.json?.printed ?? "")"); return }
            let board = try await Self.call(client, .get, "/v1/office/board?day=2026-11-30&user=\(user("rep").uuidString)", token: dispatcher)
            #expect(board.status == .ok)
            #expect(board.json?.printed.contains(visitID) == true)
            #expect(board.json?.printed.contains("late_minutes") == true)

            // Strict bodies.
            let unknown = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/assign", #"{"assignee_id": "\#(user("rep").uuidString)", "urgent": true}"#, token: dispatcher)
            #expect(unknown.status == .badRequest)
            #expect(unknown.member("error") == .string("invalid"))
            #expect(unknown.member("message").map { $0.printed.contains("urgent") } == true)
            let badTime = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/reschedule", #"{"planned_start": "Monday 9am", "planned_end": 1}"#, token: dispatcher)
            #expect(badTime.status == .badRequest)
            let malformed = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", "{", token: dispatcher)
            #expect(malformed.status == .badRequest)
            // Roles.
            #expect(try await Self.call(client, .get, "/v1/office/reviews", token: rep).status == .forbidden)
            #expect(try await Self.call(client, .get, "/v1/office/reviews", token: nil).status == .unauthorized)
            let managerAssigns = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/assign", #"{"assignee_id": "\#(user("rep").uuidString)"}"#, token: manager)
            #expect(managerAssigns.status == .conflict)
            #expect(managerAssigns.member("error") == .string("rejected"))
            // States.
            #expect(try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", token: dispatcher).status == .ok)
            let again = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", token: dispatcher)
            #expect(again.status == .conflict)
            #expect(again.member("error") == .string("invalid_state"))
            #expect(try await Self.call(client, .post, "/v1/office/visits/0190f000-0000-7000-8000-000000000099/cancel", token: dispatcher).status == .notFound)
            #expect(try await Self.call(client, .get, "/v1/office/team", token: manager).status == .ok)

            // Blobs: the name must be the bytes' SHA-256.
            let bytes = Array("signature strokes".utf8)
            let digest = try await pool.query("SELECT encode(sha256($1::bytea), 'hex')", [bytes])[0].read(0, as: String.self)
            let wrong = try await Self.call(client, .put, "/v1/blobs/\(String(repeating: "0", count: 64))", token: rep, contentType: "image/png", bytes: bytes)
            #expect(wrong.status == .badRequest)
            #expect(try await Self.call(client, .put, "/v1/blobs/\(digest)", token: rep, contentType: "image/png", bytes: bytes).status == .ok)
            let fetched = try await Self.call(client, .get, "/v1/blobs/\(digest)", token: dispatcher)
            #expect(fetched.status == .ok)
            #expect(fetched.bytes == bytes)
        }
    }
}
