import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// Orders out (issue 20, item 2) against a real PostgreSQL: a confirmed order reaches the ERP's
/// export feed once, with its lines, prices and tax; the cursor resumes exactly and never passes
/// a transaction still running; the ERP's answers move the order forward (late ones change
/// nothing), reach the rep's phone, and keep the customer's balance, which the credit check uses.
@Suite("ERP exports")
struct ERPExportTests {
    typealias W = StoryWorld

    @Test("a confirmed order is exported once with lines, prices and tax; the ERP releases, delivers and invoices it; payments and invoices keep the balance; the credit check counts it")
    func ordersOut() async throws {
        try await W.run("erp-orders") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let customer = visits[0].customerID
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            let order = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: order, product: product, quantity: 3)
            _ = try await rep.store.submitOrder(order)
            try await rep.sync()
            let confirmed = try await world.server("sales_orders", order)
            #expect(confirmed.state()?.name == "confirmed")
            let total = try #require(confirmed.integer("total_minor"))
            // The export: the order once, with its line priced and taxed; nothing after its cursor.
            let (entries, more) = try await Self.settled(1) { try await world.store.exportOrders(after: .start, limit: 100, by: manager) }
            #expect(!more && entries.map(\.order.id) == [order] && entries[0].event == "confirmed", "\(entries)")
            let exported = try #require(entries.first?.order)
            #expect(exported.totalMinor == total && exported.customer == customer && exported.lines.count == 1)
            #expect(exported.lines[0].quantity == 3 && exported.lines[0].product == product && exported.lines[0].unitPriceMinor != nil && exported.lines[0].taxRateThousandths != nil)
            #expect(try await world.store.exportOrders(after: entries[0].cursor, limit: 100, by: manager).entries.isEmpty)
            await #expect(throws: SyncStore.OfficeError.self) { _ = try await world.store.exportOrders(after: .start, limit: 10, by: try world.office(.dispatcher)) }
            // The ERP answers: released with its number; invoiced before "delivered" arrives; then the late "delivered" changes nothing.
            #expect(try await world.store.answerFromERP(order: order, status: "released_to_erp", erpReference: "SO-1001", invoicedMinor: nil, by: manager) == "released_to_erp")
            let before = try await world.server("customers", customer).integer("outstanding_minor") ?? 0
            #expect(try await world.store.answerFromERP(order: order, status: "invoiced", erpReference: nil, invoicedMinor: nil, by: manager) == "invoiced")
            #expect(try await world.store.answerFromERP(order: order, status: "delivered", erpReference: nil, invoicedMinor: nil, by: manager) == "invoiced")
            await #expect(throws: SyncStore.OfficeError.self) {
                _ = try await world.store.answerFromERP(order: order, status: "confirmed", erpReference: nil, invoicedMinor: nil, by: manager)
            }
            let invoiced = try await world.server("sales_orders", order)
            #expect(invoiced.state()?.name == "invoiced" && invoiced.text("erp_reference") == "SO-1001")
            #expect(try await world.server("customers", customer).integer("outstanding_minor") == before + total)
            // The phone sees the ERP's number; a payment it collects lowers the balance, once.
            try await rep.sync(until: { try await $0.record("sales_orders", order)?.text("erp_reference") == "SO-1001" })
            _ = try await rep.store.recordPayment(order: order, amountMinor: 1_000, method: "cash", receiptNumber: "R-ERP-1", collectedAt: W.at(10))
            try await rep.sync()
            #expect(try await world.server("customers", customer).integer("outstanding_minor") == before + total - 1_000)
            // An order released but not yet invoiced still counts against the credit limit; the balance too.
            let second = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: second, product: product, quantity: 3)
            _ = try await rep.store.submitOrder(second)
            try await rep.sync()
            _ = try await world.store.answerFromERP(order: second, status: "released_to_erp", erpReference: "SO-1002", invoicedMinor: nil, by: manager)
            try await world.store.edit([.init("customers", customer, [("credit_limit_minor", .integer(before + 2 * total - 1_000 + total / 2))])], by: manager, tenant: world.tenant)
            let third = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: third, product: product, quantity: 3)
            _ = try await rep.store.submitOrder(third)
            let outcomes = try await rep.sync()
            #expect(outcomes.contains { $0.record == third && $0.findings.contains("credit_limit_exceeded") }, "\(outcomes)")
            // The export now holds the three confirmations in order, the third not (it is held).
            _ = try await Self.settled(2) { try await world.store.exportOrders(after: .start, limit: 10, by: manager) }
            let all = try await world.store.exportOrders(after: .start, limit: 1, by: manager)
            #expect(all.hasMore && all.entries.map(\.order.id) == [order])
            let rest = try await world.store.exportOrders(after: all.entries[0].cursor, limit: 10, by: manager)
            #expect(rest.entries.map(\.order.id) == [second] && !rest.hasMore, "\(rest.entries.map(\.order.id))")
        }
    }

    /// The export page once it holds `count` entries: the feed serves only transactions older than
    /// every one still running in the cluster, and other suites' transactions run alongside.
    static func settled(_ count: Int, _ read: () async throws -> (entries: [SyncStore.ExportEntry], hasMore: Bool)) async throws
        -> (entries: [SyncStore.ExportEntry], hasMore: Bool) {
        var page = try await read()
        for _ in 0..<300 where page.entries.count < count {
            try await Task.sleep(for: .milliseconds(100))
            page = try await read()
        }
        return page
    }

    @Test("the cursor never passes a transaction still running: an order confirmed by a long transaction is served after it commits, before what came later")
    func watermark() async throws {
        try await W.run("erp-watermark") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            var orders: [RecordID] = []
            for visit in visits.prefix(2) {
                let order = try await rep.store.createOrder(customer: visit.customerID).record
                _ = try await rep.store.addOrderLine(order: order, product: product, quantity: 1, discountBP: 2_500)
                _ = try await rep.store.submitOrder(order)
                orders.append(order)
            }
            try await rep.sync()
            #expect(try await world.server("sales_orders", orders[0]).state()?.name == "pending_approval")
            // A long transaction confirms the first order and stays open; the manager approves the second, which commits.
            let long = try await PostgresConnection.connect(world.database)
            try await long.query("BEGIN")
            try await long.query("UPDATE sales_orders SET status = 'confirmed' WHERE tenant_id = $1 AND id = $2::uuid", [world.tenant.uuidString, orders[0].uuidString])
            try await world.store.decide(.approve, order: orders[1], comment: nil, by: manager)
            let waiting = try await world.store.exportOrders(after: .start, limit: 10, by: manager)
            #expect(waiting.entries.isEmpty, "served past a running transaction: \(waiting.entries.map(\.order.id))")
            try await long.query("COMMIT")
            let served = try await Self.settled(2) { try await world.store.exportOrders(after: .start, limit: 10, by: manager) }
            #expect(served.entries.map(\.order.id) == orders, "\(served.entries.map(\.order.id))")
        }
    }

    @Test("entries come in transaction order across a power of ten (xid 999 before 1000, not after it as text)")
    func numericOrder() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("erp-xid-order")
        let manager = SyncStore.OfficeUser(user: world.user("manager"), role: .manager, tenant: world.tenant)
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain())
        let customer = RecordID(try #require(world.data["customers"]?.rows.first?[0] ?? nil))!
        func confirm(_ n: UInt64) async throws -> RecordID {
            let order = RecordID(high: 0xE5, low: n)
            try await store.edit([.init("sales_orders", order, [("customer_id", .id(customer)), ("created_by", .id(world.user("rep"))), ("currency", .text("USD")),
                                                                ("tax_inclusive", .bool(false)), ("order_date", .timestamp(1_796_014_800_000)),
                                                                ("status", .state(StateValue("confirmed")))])], by: nil, tenant: world.tenant)
            return order
        }
        let first = try await confirm(1)
        // Burn transaction ids (one per subtransaction that writes) past the next power of ten.
        let now = try await world.pool.query("SELECT pg_current_xact_id()::text")[0].read(0, as: String.self)
        let target = Int(pow(10, Double(now.count)))
        try await world.pool.query("CREATE TABLE burn (n integer)")
        try await world.pool.query("""
            DO $$ BEGIN FOR i IN 1..\(target - Int(now)! + 10) LOOP BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$
            """)
        let second = try await confirm(2)
        let page = try await Self.settled(2) { try await store.exportOrders(after: .start, limit: 10, by: manager) }
        #expect(page.entries.map(\.order.id) == [first, second], "\(page.entries.map(\.cursor))")
        let one = try await store.exportOrders(after: .start, limit: 1, by: manager)
        #expect(one.entries.map(\.order.id) == [first] && one.hasMore)
        #expect(try await store.exportOrders(after: one.entries[0].cursor, limit: 1, by: manager).entries.map(\.order.id) == [second])
    }

    @Test("the office routes: the export page with its cursor, the ERP's answer, and their refusals")
    func routes() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("erp-routes")
        let order = RecordID(high: 0xE4, low: 1)
        let customer = RecordID(try #require(world.data["customers"]?.rows.first?[0] ?? nil))!
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain())
        try await store.edit([.init("sales_orders", order, [("customer_id", .id(customer)), ("created_by", .id(world.user("rep"))), ("currency", .text("USD")),
                                                            ("tax_inclusive", .bool(false)), ("order_date", .timestamp(1_796_014_800_000)),
                                                            ("status", .state(StateValue("confirmed")))])], by: nil, tenant: world.tenant)
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_014_800_000), requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            var page = try await OfficeRoutesTests.call(client, .get, "/v1/office/exports/orders?limit=10", token: world.manager)
            // The feed serves settled transactions only: on a busy cluster, wait for one to settle.
            for _ in 0..<300 {
                if case .array(let listed)? = page.member("orders"), !listed.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
                page = try await OfficeRoutesTests.call(client, .get, "/v1/office/exports/orders?limit=10", token: world.manager)
            }
            #expect(page.status == .ok, "\(page.json?.printed ?? "")")
            guard case .array(let entries)? = page.member("orders"), case .string(let next)? = page.member("next") else {
                Issue.record("no page: \(page.json?.printed ?? "")"); return
            }
            #expect(entries.count == 1 && entries[0]["order"]?["id"] == .string(order.uuidString))
            let after = try await OfficeRoutesTests.call(client, .get, "/v1/office/exports/orders?after=\(next)", token: world.manager)
            if case .array(let none)? = after.member("orders") { #expect(none.isEmpty) } else { Issue.record("no page after \(next)") }
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/exports/orders?after=yesterday", token: world.manager).status == .badRequest)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/exports/orders", token: world.dispatcher).status == .forbidden)
            let answered = try await OfficeRoutesTests.call(client, .post, "/v1/office/orders/\(order.uuidString)/erp", #"{"status": "released_to_erp", "erp_reference": "SO-7"}"#,
                                                            token: world.manager)
            #expect(answered.status == .ok && answered.member("status") == .string("released_to_erp"), "\(answered.json?.printed ?? "")")
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/orders/\(order.uuidString)/erp", #"{"status": "shipped"}"#, token: world.manager).status == .badRequest)
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/orders/\(order.uuidString)/erp", #"{"status": "invoiced", "colour": 1}"#,
                                                     token: world.manager).status == .badRequest)
        }
    }
}
