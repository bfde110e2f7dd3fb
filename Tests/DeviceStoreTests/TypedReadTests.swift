import DemoData
import FieldModel
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

/// The typed reads behind a rep's and a technician's screens, on a primed phone.
@Suite("Typed reads")
struct TypedReadTests {
    /// Rows the server sends, as one snapshot page.
    static func arrive(_ rows: [(String, RecordID, [String: FieldValue])], on fixture: DeviceStoreFixture, cursor: UInt64) async throws {
        let version = Version(clock: DeviceStoreFixture.serverClock, replica: .server)
        let snapshots = rows.map { table, id, fields in
            RecordSnapshot(ref: RecordRef(table: table, record: id), state: RecordState(fields: fields.mapValues { FieldState(value: $0, version: version) }))
        }
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .snapshot, snapshots: snapshots, cursor: cursor, hasMore: false), serverClock: DeviceStoreFixture.serverClock)
    }

    @Test("a customer with contacts, last prices, open orders and recent visits; an order with lines, payments and no answer yet")
    func customerAndOrder() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let product = RecordID(try #require(fixture.data["products"]).rows[0][0]!)!
        let order = try await fixture.store.createOrder(customer: visit.customerID, visit: visit.id).record
        _ = try await fixture.store.addOrderLine(order: order, product: product, quantity: 3)
        let cancelled = try await fixture.store.createOrder(customer: visit.customerID).record
        _ = try await fixture.store.cancelOrder(cancelled)

        try await Self.arrive([
            ("contacts", RecordID(high: 0xC0, low: 1), ["customer_id": .id(visit.customerID), "name": .text("Zoe Park"), "phone": .text("+1-212-555-0101")]),
            ("contacts", RecordID(high: 0xC0, low: 2), ["customer_id": .id(visit.customerID), "name": .text("Abe Ruiz"), "title": .text("Store manager")]),
            ("last_prices", RecordID(high: 0xC1, low: 1), ["customer_id": .id(visit.customerID), "product_id": .id(product),
                                                           "unit_price_minor": .integer(1_250), "ordered_at": .timestamp(1_790_000_000_000)]),
        ], on: fixture, cursor: 99)

        let customer = try #require(try await fixture.store.read(.customer(visit.customerID)))
        #expect(customer.summary.name == visit.customerName)
        #expect(customer.openOrders.map(\.id) == [order], "the cancelled order is not open")
        #expect(customer.recentVisits.contains { $0.id == visit.id })
        #expect(customer.contacts.map(\.name) == ["Abe Ruiz", "Zoe Park"])
        #expect(customer.lastPrices.map(\.unitPriceMinor) == [1_250] && customer.lastPrices[0].productID == product && !customer.lastPrices[0].productName.isEmpty)
        #expect(try await fixture.store.read(.customer(RecordID(high: 1, low: 1))) == nil)

        let total = try await fixture.store.orderPreview(order).totalMinor
        _ = try await fixture.store.submitOrder(order)
        _ = try await fixture.store.recordPayment(order: order, amountMinor: total, method: "cash", receiptNumber: "R-1", collectedAt: Int64(fixture.clock.now()))
        let detail = try #require(try await fixture.store.read(.order(order)))
        #expect(detail.summary.status == "submitted" && detail.summary.customerID == visit.customerID)
        #expect(detail.lines.map(\.productID) == [product] && detail.lines[0].quantity == 3)
        #expect(!detail.lines[0].productName.isEmpty)
        #expect(detail.payments.map(\.amountMinor) == [total] && detail.payments[0].receiptNumber == "R-1")
        #expect(detail.outcomes.isEmpty, "nothing pushed yet")
        #expect(detail.summary.totalMinor == total, "the phone's preview until the server prices it")
    }

    @Test("a day's plan: the visits in order, each with its tasks")
    func plan() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        try await Self.arrive([
            ("visit_tasks", RecordID(high: 0xC3, low: 1), ["visit_id": .id(visit.id), "task_type": .text("photo"), "required": .bool(false),
                                                          "status": .state(StateValue("pending", epoch: 0))]),
            ("visit_tasks", RecordID(high: 0xC3, low: 2), ["visit_id": .id(visit.id), "task_type": .text("shelf_count"), "required": .bool(true),
                                                          "status": .state(StateValue("pending", epoch: 0))]),
        ], on: fixture, cursor: 99)
        let day = try await fixture.store.read(.plan(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 86_400_000))
        #expect(day.map(\.summary) == (try await fixture.store.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 86_400_000)))
        #expect(day.first { $0.summary.id == visit.id }?.tasks.map(\.taskType) == ["shelf_count", "photo"])
    }

    @Test("a technician's work orders by window; one with its asset and the parts used")
    func workOrders() async throws {
        let fixture = try await DeviceStoreFixture.make(role: .technician)
        defer { fixture.remove() }
        let week = try await fixture.store.read(.workOrders(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 7 * 86_400_000))
        let table = try #require(fixture.data["work_orders"])
        let assignee = try #require(table.columns.firstIndex(of: "assignee_id"))
        let expected = table.rows.filter { $0[assignee] == fixture.rep.uuidString }.count
        #expect(!week.isEmpty && week.count <= expected)
        #expect(zip(week, week.dropFirst()).allSatisfy { ($0.windowStart ?? 0) <= ($1.windowStart ?? 0) })
        let first = try #require(week.first)
        let product = RecordID(try #require(fixture.data["products"]).rows[0][0]!)!
        let van = RecordID(high: 0xC2, low: 1)
        try await Self.arrive([("stock_locations", van, ["kind": .text("van"), "name": .text("Van 7"), "owner_id": .id(fixture.rep)])], on: fixture, cursor: 99)
        _ = try await fixture.store.recordPartUsed(workOrder: first.id, product: product, quantity: 2, from: van, at: Int64(fixture.clock.now()))
        let detail = try #require(try await fixture.store.read(.workOrder(first.id)))
        #expect(detail.summary == first)
        #expect(detail.parts.map(\.quantity) == [2] && detail.parts[0].productID == product)
        let assetColumn = try #require(table.columns.firstIndex(of: "asset_id"))
        let asset = table.rows.first { $0[0] == first.id.uuidString }?[assetColumn]
        #expect(detail.asset?.id.uuidString == asset ?? nil)
    }

    @Test("search goes through the index for three characters or more, and takes any text")
    func search() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let fragment = String(visit.customerName.dropFirst(1).prefix(4)).uppercased()
        #expect(try await fixture.store.customers(search: fragment).contains { $0.id == visit.customerID })
        // A rename is found at once: the index is rebuilt on the first search after a write.
        _ = try await fixture.store.correctCustomer(visit.customerID, ["name": .text("Quixotic Grocer")])
        #expect(try await fixture.store.customers(search: "xotic gro").map(\.id) == [visit.customerID])
        for odd in ["\"", "a\"b", "*", "NEAR(", "--", "ab"] { _ = try await fixture.store.customers(search: odd) }
    }
}
