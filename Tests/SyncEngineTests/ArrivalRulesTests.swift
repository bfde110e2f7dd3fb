import DemoData
import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncWire
import Testing

@testable import SyncEngine

/// The rules on arrival at the store layer, with hand-made change sets: what each rule decides,
/// what the server writes back, and the audit.
@Suite("Rules on arrival")
struct ArrivalRulesTests {
    typealias S = SyncStoreTests
    static let time: UInt64 = 1_796_100_000_000

    static func write(_ n: UInt64, _ table: String, _ record: RecordID, _ fields: [(String, FieldValue)], replica: UInt32 = 21, at offset: UInt64 = 0) -> Change {
        Change(id: ChangeID(S.id(1_000 + n)), table: table, record: record, operation: .write(fields.map { FieldWrite($0.0, $0.1) }),
               version: Version(clock: HLC(milliseconds: time + offset, counter: UInt16(n % 1_000)), replica: ReplicaID(replica)))
    }

    @Test("two transactions writing one record at once merge one after the other: every field survives")
    func concurrentWriters() async throws {
        let setup = try await S.setup("rules-concurrent")
        let customer = RecordID(try #require(setup.data["customers"]).rows[0][0]!)!
        let fields = ["phone", "street_address", "city", "postal_code", "tax_number", "name"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, field) in fields.enumerated() {
                group.addTask {
                    let change = Self.write(UInt64(index), "customers", customer, [(field, .text("v\(index)"))], replica: UInt32(30 + index))
                    _ = try await setup.store.push(ChangeSet(id: ChangeID(S.id(2_000 + UInt64(index))), changes: [change]), batch: S.id(3_000 + UInt64(index)),
                                                   replica: ReplicaID(UInt32(30 + index)), tenant: setup.tenant)
                }
            }
            try await group.waitForAll()
        }
        let state = try await setup.store.record("customers", customer, tenant: setup.tenant)
        for (index, field) in fields.enumerated() { #expect(state.text(field) == "v\(index)", "\(field) was overwritten by a concurrent merge") }
        // The server derived the normalized name from the name it kept.
        #expect(state.text("normalized_name") == "v5")
    }

    @Test("a submitted order is priced by the server, routed, audited; receipts and payments are judged; refusals never block the rest")
    func ordersAndPayments() async throws {
        let setup = try await S.setup("rules-orders")
        let users = try #require(setup.data["users"])
        let rep = RecordID(users.rows.first { $0[2] == "rep" }![0]!)!
        let customers = try #require(setup.data["customers"])
        let customer = RecordID(customers.rows[0][0]!)!
        let priceList = RecordID(customers.rows[0][customers.columns.firstIndex(of: "price_list_id")!]!)!
        let products = try #require(setup.data["products"])
        let product = RecordID(products.rows[0][0]!)!
        let entries = try #require(setup.data["price_list_entries"])
        let price = Int64(try #require(entries.rows.first { $0[0] == priceList.uuidString && $0[1] == product.uuidString })[2]!)!
        let taxRate = try await setup.pool.query("SELECT tax_rate_percent FROM products WHERE id = $1", [product.uuidString])[0].read(0, as: Int64.self)
        let inclusive = try await setup.pool.query("SELECT tax_inclusive FROM price_lists WHERE id = $1", [priceList.uuidString])[0].read(0, as: Bool.self)
        let order = S.id(10), line = S.id(11)
        let author = SyncStore.Author(role: .rep, user: rep, now: Self.time + 60_000)
        let created = ChangeSet(id: ChangeID(S.id(12)), changes: [
            Self.write(1, "sales_orders", order, [("customer_id", .id(customer)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)),
                                                  ("currency", .text("USD")), ("tax_inclusive", .bool(inclusive)), ("order_date", .timestamp(Int64(Self.time))),
                                                  ("status", .state(StateValue("draft")))]),
            Self.write(2, "order_lines", line, [("order_id", .id(order)), ("product_id", .id(product)), ("quantity", .integer(3)), ("discount_bp", .integer(0))]),
            Self.write(3, "sales_orders", order, [("status", .state(StateValue("submitted"))), ("device_total_minor", .integer(1))], at: 1),
        ])
        let applied = try await setup.store.push(created, batch: S.id(13), replica: ReplicaID(21), author: author, tenant: setup.tenant)
        #expect(applied.outcomes.map(\.result) == [.applied, .applied, .appliedWithException])
        #expect(applied.outcomes[2].findings.map(\.rule) == ["total_mismatch"])
        let expected = try Pricing.price([Pricing.LineInput(quantity: 3, listPriceMinor: price, taxRateMillipercent: taxRate)], taxInclusive: inclusive)
        let server = try await setup.store.record("sales_orders", order, tenant: setup.tenant)
        #expect(server.integer("total_minor") == expected.totalMinor)
        #expect(server.state()?.name == "confirmed")
        #expect(try await setup.store.record("order_lines", line, tenant: setup.tenant).integer("line_total_minor") == expected.lines[0].totalMinor)
        let lastPrice = try await setup.pool.query("SELECT unit_price_minor FROM last_prices WHERE customer_id = $1 AND product_id = $2",
                                                   [customer.uuidString, product.uuidString])
        #expect(try lastPrice.first?.read(0, as: Int64.self) == expected.lines[0].unitPriceMinor)

        // A late line edit is refused; the payment in the same change set still applies; a
        // repeated receipt is refused; payments over the total are flagged.
        let payments = ChangeSet(id: ChangeID(S.id(20)), changes: [
            Self.write(10, "order_lines", line, [("quantity", .integer(30))], at: 2),
            Self.write(11, "payments", S.id(21), [("order_id", .id(order)), ("amount_minor", .integer(expected.totalMinor)), ("method", .text("cash")),
                                                   ("receipt_number", .text("R-1")), ("collected_by", .id(rep)), ("collected_at", .timestamp(Int64(Self.time)))], at: 3),
            Self.write(12, "payments", S.id(22), [("order_id", .id(order)), ("amount_minor", .integer(500)), ("method", .text("cash")),
                                                   ("receipt_number", .text("R-1")), ("collected_by", .id(rep)), ("collected_at", .timestamp(Int64(Self.time)))], at: 4),
            Self.write(13, "payments", S.id(23), [("order_id", .id(order)), ("amount_minor", .integer(500)), ("method", .text("card")),
                                                   ("receipt_number", .text("R-2")), ("collected_by", .id(rep)), ("collected_at", .timestamp(Int64(Self.time)))], at: 5),
        ])
        let paid = try await setup.store.push(payments, batch: S.id(24), replica: ReplicaID(21), author: author, tenant: setup.tenant)
        #expect(paid.outcomes.map(\.result) == [.rejected, .applied, .rejected, .appliedWithException])
        #expect(paid.outcomes.map { $0.reason } == ["order_locked", nil, "duplicate_receipt", nil])
        #expect(paid.outcomes[0].serverState?.integer("quantity") == 3)
        #expect(paid.outcomes[3].findings.map(\.rule) == ["payments_over_total"])
        // The audit: who, device time, server time, rule.
        let audit = try await setup.pool.query("""
            SELECT rule, result, author_id::text, device_time, server_time, review FROM decisions WHERE tenant_id = $1 AND change_id = $2
            """, [setup.tenant.uuidString, ChangeID(S.id(1_010)).uuid.uuidString])
        #expect(audit.count == 1)
        #expect(try audit[0].read(0, as: String.self) == "order_locked")
        #expect(try audit[0].read(2, as: String.self) == rep.uuidString)
        #expect(try audit[0].read(3, as: Int64.self) == Int64(Self.time + 2))
        #expect(try audit[0].read(4, as: Int64.self) == Int64(Self.time + 60_000))
        #expect(try audit[0].read(5, as: String.self) == "open")
        // A replay gets the same answers and records nothing twice.
        let replay = try await setup.store.push(payments, batch: S.id(24), replica: ReplicaID(21), author: author, tenant: setup.tenant)
        #expect(replay.outcomes.map(\.result) == paid.outcomes.map(\.result))
        let decisions = try await setup.pool.query("SELECT count(*) FROM decisions WHERE change_id = $1", [ChangeID(S.id(1_010)).uuid.uuidString])[0].read(0, as: Int.self)
        #expect(decisions == 1)
    }

    /// A setting the rules read once per push (a role's discount maximum) is read again after a
    /// change set of the same push writes its table, as it would be if each change set were its
    /// own transaction. Before, the first order's answer was kept for the whole push.
    @Test("a discount policy written in a push applies to the orders after it in the same push")
    func settingWrittenInThePush() async throws {
        let setup = try await S.setup("rules-setting")
        let users = try #require(setup.data["users"])
        let rep = RecordID(users.rows.first { $0[2] == "rep" }![0]!)!
        let customers = try #require(setup.data["customers"])
        let customer = RecordID(customers.rows[0][0]!)!
        let priceList = RecordID(customers.rows[0][customers.columns.firstIndex(of: "price_list_id")!]!)!
        let product = RecordID(try #require(setup.data["products"]).rows[0][0]!)!
        let inclusive = try await setup.pool.query("SELECT tax_inclusive FROM price_lists WHERE id = $1", [priceList.uuidString])[0].read(0, as: Bool.self)
        // An order of one line at 10 % off, submitted.
        func order(_ n: UInt64) -> ChangeSet {
            let order = S.id(100 + n), line = S.id(200 + n)
            return ChangeSet(id: ChangeID(S.id(300 + n)), changes: [
                Self.write(10 * n, "sales_orders", order, [("customer_id", .id(customer)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)),
                                                           ("currency", .text("USD")), ("tax_inclusive", .bool(inclusive)), ("order_date", .timestamp(Int64(Self.time))),
                                                           ("status", .state(StateValue("draft")))], at: 10 * n),
                Self.write(10 * n + 1, "order_lines", line, [("order_id", .id(order)), ("product_id", .id(product)), ("quantity", .integer(1)),
                                                             ("discount_bp", .integer(1_000))], at: 10 * n + 1),
                Self.write(10 * n + 2, "sales_orders", order, [("status", .state(StateValue("submitted")))], at: 10 * n + 2),
            ])
        }
        // The tenant has no discount policy: a rep may give none. The office then allows 20 %.
        let policy = ChangeSet(id: ChangeID(S.id(400)), changes: [
            Self.write(15, "discount_policies", S.id(401), [("role", .text("rep")), ("discount_max_bp", .integer(2_000))], at: 15),
        ])
        let applied = try await setup.store.push([order(1), policy, order(2)].map { SyncStore.Submission($0, replica: ReplicaID(21)) }, batch: S.id(402),
                                                 tenant: setup.tenant)
        let rules = applied.map { $0.outcomes.last!.findings.map(\.rule) }
        #expect(rules[0].contains("discount_over_policy"), "\(rules[0])")
        #expect(!rules[2].contains("discount_over_policy"), "the second order was judged by the policy before the push: \(rules[2])")
    }
}
