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

/// The office's detail pages over HTTP: an order with its lines, payments and the customer's
/// exposure; a work order with its asset and parts; a customer with its contacts; each with its
/// history, and each refused to a manager outside the team.
@Suite("Office details")
struct OfficeDetailTests {
    typealias Answer = OfficeRoutesTests.Answer

    static func object(_ value: JSONValue?) -> [String: JSONValue] {
        guard case .object(let members)? = value else { return [:] }
        return Dictionary(members.map { ($0.key, $0.value) }) { first, _ in first }
    }

    static func number(_ value: JSONValue?) -> String? { if case .number(let text)? = value { text } else { nil } }

    static func array(_ value: JSONValue?) -> [[String: JSONValue]] {
        guard case .array(let items)? = value else { return [] }
        return items.map { object($0) }
    }

    @Test("an order's page has its lines, payments, the customer's exposure and history; a manager outside the team gets 403, an unknown order 404")
    func orderDetail() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-order-detail")
        let tenant = world.tenant.uuidString
        let customer = try #require(try await world.pool.query("SELECT id::text FROM customers WHERE tenant_id = $1 ORDER BY id LIMIT 1", [tenant]).first)
            .read(0, as: String.self)
        let products = try await world.pool.query("SELECT id::text, name FROM products WHERE tenant_id = $1 ORDER BY name LIMIT 2", [tenant])
        _ = try await world.pool.query("UPDATE customers SET credit_limit_minor = 100000, outstanding_minor = 25000 WHERE tenant_id = $1 AND id = $2::uuid",
                                       [tenant, customer])
        let order = RecordID(high: 0xD0, low: 1), other = RecordID(high: 0xD0, low: 2), cancelled = RecordID(high: 0xD0, low: 3)
        let outsiders = RecordID(high: 0xD0, low: 4)
        for (id, status, total, author) in [(order, "pending_approval", 40_000, world.user("rep")), (other, "confirmed", 30_000, world.user("rep")),
                                            (cancelled, "cancelled", 99_000, world.user("rep")), (outsiders, "submitted", 1, RecordID(high: 0xAB, low: 1))] {
            _ = try await world.pool.query("""
                INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, order_date, status, total_minor, subtotal_minor, currency, tax_inclusive)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 1796014800000, $5, $6, $6, 'USD', false)
                """, [tenant, id.uuidString, customer, author.uuidString, status, Int64(total)])
        }
        for (index, row) in products.enumerated() {
            _ = try await world.pool.query("""
                INSERT INTO order_lines (tenant_id, id, order_id, product_id, quantity, discount_bp, list_price_minor, unit_price_minor, tax_rate_percent,
                                         line_total_minor)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5, 1500, 1000, 850, 13000, $6)
                """, [tenant, RecordID(high: 0xD1, low: UInt64(index)).uuidString, order.uuidString, try row.read(0, as: String.self),
                      Int64(index + 1), Int64(850 * (index + 1))])
        }
        _ = try await world.pool.query("""
            INSERT INTO payments (tenant_id, id, order_id, amount_minor, method, receipt_number, collected_by, collected_at)
            VALUES ($1, $2::uuid, $3::uuid, 5000, 'cash', 'R-1', $4::uuid, 1796018400000)
            """, [tenant, RecordID(high: 0xD2, low: 1).uuidString, order.uuidString, world.user("rep").uuidString])
        _ = try await world.pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, server_time, review)
            VALUES ($1, 'sales_orders', $2::uuid, 'discount_over_policy', 'applied_with_exception', 'a line''s discount of 1500 bp', $3::uuid, 'rep', 1796018400000, 'open')
            """, [tenant, order.uuidString, world.user("rep").uuidString])
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_050_800_000),
                                                                 requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            for token in [world.dispatcher, world.manager] {
                let answer = try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/\(order.uuidString)", token: token)
                #expect(answer.status == .ok, "\(answer.json?.printed ?? "")")
                let lines = Self.array(answer.member("lines"))
                #expect(lines.count == 2)
                #expect(lines.map { OfficeRoutesTests.text($0["product_name"]) } == (try products.map { try $0.read(1, as: String?.self) }))
                #expect(Self.number(lines.first?["tax_rate_percent"]) == "13.000" && Self.number(lines.first?["discount_bp"]) == "1500")
                #expect(Self.array(answer.member("payments")).map { OfficeRoutesTests.text($0["receipt_number"]) } == ["R-1"])
                let exposure = Self.object(answer.member("exposure"))
                // Outstanding 250.00, the other open order 300.00 (the cancelled one does not count), this one 400.00.
                #expect(Self.number(exposure["outstanding_minor"]) == "25000" && Self.number(exposure["open_orders_minor"]) == "30001")
                #expect(Self.number(exposure["order_minor"]) == "40000" && Self.number(exposure["exposure_minor"]) == "95001")
                #expect(Self.number(exposure["available_minor"]) == "4999" && Self.number(exposure["open_orders"]) == "2")
                #expect(Self.array(answer.member("history")).map { OfficeRoutesTests.text($0["rule"]) } == ["discount_over_policy"])
                #expect(OfficeRoutesTests.text(Self.object(answer.member("order"))["status"]) == "pending_approval")
            }
            // Another team's order is not the manager's to see; the dispatcher sees it.
            let foreign = try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/\(outsiders.uuidString)", token: world.manager)
            #expect(foreign.status == .forbidden && OfficeRoutesTests.text(foreign.member("error")) == "forbidden")
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/\(outsiders.uuidString)", token: world.dispatcher).status == .ok)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/\(RecordID(high: 0xEE, low: 1).uuidString)", token: world.dispatcher).status == .notFound)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/not-a-uuid", token: world.dispatcher).status == .badRequest)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/orders/\(order.uuidString)", token: world.rep).status == .forbidden)
        }
    }

    @Test("a work order's page has its asset and parts used; a customer's its contacts, place and exposure; a manager outside the team or territory gets 403")
    func workOrderAndCustomerDetail() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-wo-detail")
        let tenant = world.tenant.uuidString
        let asset = try #require(try await world.pool.query("SELECT id::text, customer_id::text, serial FROM assets WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                                                            [tenant]).first)
        let product = try #require(try await world.pool.query("SELECT id::text FROM products WHERE tenant_id = $1 ORDER BY id LIMIT 1", [tenant]).first)
            .read(0, as: String.self)
        let van = RecordID(high: 0xE1, low: 1), order = RecordID(high: 0xE2, low: 1), foreign = RecordID(high: 0xE2, low: 2)
        _ = try await world.pool.query("INSERT INTO stock_locations (tenant_id, id, kind, name) VALUES ($1, $2::uuid, 'van', 'Van <7>')", [tenant, van.uuidString])
        for (id, assignee) in [(order, world.user("technician")), (foreign, RecordID(high: 0xAB, low: 1))] {
            _ = try await world.pool.query("""
                INSERT INTO work_orders (tenant_id, id, customer_id, asset_id, work_type, priority, status, assignee_id, description, resolution, rating,
                                         window_start, window_end)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'repair', 'high', 'completed', $5::uuid, 'Leaking valve', 'Replaced the seal', 5, 1796014800000, 1796022000000)
                """, [tenant, id.uuidString, try asset.read(1, as: String.self), try asset.read(0, as: String.self), assignee.uuidString])
        }
        _ = try await world.pool.query("""
            INSERT INTO parts_used (tenant_id, id, work_order_id, product_id, quantity, stock_location_id, used_at)
            VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 3, $5::uuid, 1796016000000)
            """, [tenant, RecordID(high: 0xE3, low: 1).uuidString, order.uuidString, product, van.uuidString])
        let customer = try asset.read(1, as: String.self)
        _ = try await world.pool.query("INSERT INTO contacts (tenant_id, id, customer_id, name, title) VALUES ($1, $2::uuid, $3::uuid, 'Mo Li', 'Buyer')",
                                       [tenant, RecordID(high: 0xE4, low: 1).uuidString, customer])
        // A customer in a territory nobody on the manager's team owns.
        let stray = RecordID(high: 0xE5, low: 1), nowhere = RecordID(high: 0xE5, low: 2)
        _ = try await world.pool.query("INSERT INTO territories (tenant_id, id, name) VALUES ($1, $2::uuid, 'Nowhere')", [tenant, nowhere.uuidString])
        _ = try await world.pool.query("""
            INSERT INTO customers (tenant_id, id, name, territory_id, customer_group, credit_limit_minor, payment_terms_days, status)
            VALUES ($1, $2::uuid, 'Stray', $3::uuid, 'retail', 0, 30, 'active')
            """, [tenant, stray.uuidString, nowhere.uuidString])
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_050_800_000),
                                                                 requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let answer = try await OfficeRoutesTests.call(client, .get, "/v1/office/work-orders/\(order.uuidString)", token: world.manager)
            #expect(answer.status == .ok, "\(answer.json?.printed ?? "")")
            #expect(OfficeRoutesTests.text(answer.member("asset_serial")) == (try asset.read(2, as: String?.self)))
            #expect(OfficeRoutesTests.text(answer.member("resolution")) == "Replaced the seal" && Self.number(answer.member("rating")) == "5")
            let parts = Self.array(answer.member("parts"))
            #expect(parts.count == 1 && OfficeRoutesTests.text(parts.first?["stock_location_name"]) == "Van <7>" && Self.number(parts.first?["quantity"]) == "3")
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/work-orders/\(foreign.uuidString)", token: world.manager).status == .forbidden)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/work-orders/\(foreign.uuidString)", token: world.dispatcher).status == .ok)

            let page = try await OfficeRoutesTests.call(client, .get, "/v1/office/customers/\(customer)", token: world.dispatcher)
            #expect(page.status == .ok, "\(page.json?.printed ?? "")")
            #expect(Self.array(page.member("contacts")).map { OfficeRoutesTests.text($0["name"]) } == ["Mo Li"])
            #expect(Self.number(page.member("geofence_radius_m")) != nil, "the customer's own radius or the tenant's")
            #expect(Self.object(page.member("exposure"))["exposure_minor"] != nil)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/customers/\(stray.uuidString)", token: world.manager).status == .forbidden)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/customers/\(stray.uuidString)", token: world.dispatcher).status == .ok)
        }
    }
}
