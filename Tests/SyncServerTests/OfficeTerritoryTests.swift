import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// A dispatcher's region (DOMAIN.md §1): a dispatcher who owns territories sees and plans only
/// the customers of those, on every list, page, board, map, report and review, and is refused
/// (403) a write elsewhere; a dispatcher who owns none sees the tenant.
@Suite("Office: a dispatcher's territories")
struct OfficeTerritoryTests {
    @Test("a dispatcher with territories sees only their customers' rows everywhere and may not plan outside them")
    func regionalDispatcher() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-region")
        let tenant = world.tenant.uuidString, dispatcher = world.user("dispatcher")
        // The dispatcher's region: one territory of the demo.
        let territory = try await world.pool.query("SELECT id::text FROM territories WHERE tenant_id = $1 ORDER BY id LIMIT 1", [tenant])[0].read(0, as: String.self)
        _ = try await world.pool.query("""
            INSERT INTO territory_owners (tenant_id, id, territory_id, user_id, valid_from) VALUES ($1, gen_random_uuid(), $2::uuid, $3::uuid, 0)
            """, [tenant, territory, dispatcher.uuidString])
        let inside = try await world.pool.query("SELECT id::text FROM customers WHERE tenant_id = $1 AND territory_id = $2::uuid ORDER BY id", [tenant, territory])
            .map { try $0.read(0, as: String.self) }
        let outside = try await world.pool.query("SELECT id::text FROM customers WHERE tenant_id = $1 AND territory_id <> $2::uuid ORDER BY id LIMIT 1", [tenant, territory])[0]
            .read(0, as: String.self)
        #expect(!inside.isEmpty)
        // A visit, an order and an exception at a customer inside, and the same outside, on a day past the demo's.
        let day: Int64 = 1_803_859_200_000 + 9 * 3_600_000
        var visits: [String: RecordID] = [:]
        for (index, customer) in [inside[0], outside].enumerated() {
            let visit = RecordID(high: 0xC0, low: UInt64(index)), order = RecordID(high: 0xC1, low: UInt64(index))
            visits[customer] = visit
            _ = try await world.pool.query("""
                INSERT INTO visits (tenant_id, id, customer_id, assignee_id, visit_type, status, planned_start, planned_end)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'routine', 'planned', $5::bigint, $5::bigint + 3600000)
                """, [tenant, visit.uuidString, customer, world.user("rep").uuidString, day])
            _ = try await world.pool.query("""
                INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, order_date, status, total_minor, currency)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5, 'confirmed', 1000, 'USD')
                """, [tenant, order.uuidString, customer, world.user("rep").uuidString, day])
            _ = try await world.pool.query("""
                INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, server_time, review)
                VALUES ($1, 'order_lines', $2::uuid, 'price_mismatch', 'rejected', $3, $4::uuid, 'rep', 1, 'open')
                """, [tenant, RecordID(high: 0xC2, low: UInt64(index)).uuidString, "item \(index)", world.user("rep").uuidString])
            _ = try await world.pool.query("""
                INSERT INTO order_lines (tenant_id, id, order_id, product_id, quantity, discount_bp)
                VALUES ($1, $2::uuid, $3::uuid, (SELECT id FROM products WHERE tenant_id = $1 LIMIT 1), 1, 0)
                """, [tenant, RecordID(high: 0xC2, low: UInt64(index)).uuidString, order.uuidString])
        }
        let mine = visits[inside[0]]!, theirs = visits[outside]!
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_803_900_000_000),
                                                                 requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let customers = try await OfficeRoutesTests.pageThrough(client, "/v1/office/customers", "customers", size: 200, token: world.dispatcher)
            #expect(Set(customers) == Set(inside), "the region's customers, and only those")
            let orders = try await OfficeRoutesTests.pageThrough(client, "/v1/office/orders?from=2027-03-01T00:00:00Z", "orders", size: 50, token: world.dispatcher)
            #expect(orders == [RecordID(high: 0xC1, low: 0).uuidString])
            let listed = try await OfficeRoutesTests.pageThrough(client, "/v1/office/visits?from=2027-03-01T00:00:00Z", "visits", size: 50, token: world.dispatcher)
            #expect(listed == [mine.uuidString])
            let board = try await OfficeRoutesTests.call(client, .get, "/v1/office/board?day=2027-03-01", token: world.dispatcher)
            #expect(board.json?.printed.contains(mine.uuidString) == true && board.json?.printed.contains(theirs.uuidString) == false)
            let map = try await OfficeRoutesTests.call(client, .get, "/v1/office/map?day=2027-03-01", token: world.dispatcher)
            #expect(map.json?.printed.contains(inside[0]) == true && map.json?.printed.contains(outside) == false)
            let reviews = try await OfficeRoutesTests.call(client, .get, "/v1/office/reviews?table=order_lines", token: world.dispatcher)
            #expect(OfficeRoutesTests.rows(reviews, "reviews").map { OfficeRoutesTests.text($0["message"]) } == ["item 0"], "\(reviews.json?.printed ?? "")")
            let sales = try await OfficeRoutesTests.call(client, .get, "/v1/office/reports/sales?by=customer&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z",
                                                         token: world.dispatcher)
            #expect(OfficeRoutesTests.rows(sales, "rows").map { OfficeRoutesTests.text($0["customer"]) } == [inside[0]])
            // Pages and writes outside the region are refused with the reason; inside they work.
            for path in ["/v1/office/customers/\(outside)", "/v1/office/orders/\(RecordID(high: 0xC1, low: 1).uuidString)"] {
                let refused = try await OfficeRoutesTests.call(client, .get, path, token: world.dispatcher)
                #expect(refused.status == .forbidden, "\(path): \(refused.status)")
            }
            let cancel = try await OfficeRoutesTests.call(client, .post, "/v1/office/visits/\(theirs.uuidString)/cancel", "{}", token: world.dispatcher)
            #expect(cancel.status == .forbidden && OfficeRoutesTests.text(cancel.member("message"))?.contains("territories") == true)
            let plan = """
                {"customer_id": "\(outside)", "assignee_id": "\(world.user("rep").uuidString)", "planned_start": "2027-03-02T09:00:00Z", "planned_end": "2027-03-02T10:00:00Z"}
                """
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/visits", plan, token: world.dispatcher).status == .forbidden)
            let planned = try await OfficeRoutesTests.call(client, .post, "/v1/office/visits", plan.replacingOccurrences(of: outside, with: inside[0]), token: world.dispatcher)
            #expect(planned.status == .ok, "\(planned.json?.printed ?? "")")
            let cancelled = try await OfficeRoutesTests.call(client, .post, "/v1/office/visits/\(OfficeRoutesTests.text(planned.member("id")) ?? "")/cancel", "{}",
                                                             token: world.dispatcher)
            #expect(cancelled.status == .ok, "\(cancelled.json?.printed ?? "")")
            // The admin still sees the tenant.
            let all = try await OfficeRoutesTests.pageThrough(client, "/v1/office/orders?from=2027-03-01T00:00:00Z", "orders", size: 50, token: world.manager)
            #expect(all.count == 2, "the manager's team took both")
        }
    }
}
