import FieldModel
import Foundation
import ServerStore
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// Sync at the edges (issue 15): what a client written from the spec sends, and ours did not.
@Suite("Sync at the edges")
struct SyncEdgesTests {
    /// The buckets `table`/`id` is in on the server.
    static func buckets(_ world: HostileWorld, _ table: String, _ id: RecordID) async throws -> Set<String> {
        Set(try await world.pool.query("SELECT bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = $3",
                                       [world.tenant.uuidString, table, id.uuidString]).map { try $0.read(0, as: String.self) })
    }

    /// Removes logged for `table`/`id` in any bucket.
    static func removes(_ world: HostileWorld, _ id: RecordID) async throws -> Int {
        try await world.pool.query("SELECT change_set FROM change_log WHERE tenant_id = $1 AND kind = 1", [world.tenant.uuidString])
            .filter { try BinaryDecoder.decode(RecordRef.self, from: try $0.read(0, as: [UInt8].self)).record == id }.count
    }

    /// Item 1: a child created in the same change set as its parent lands in its parent's
    /// buckets, whatever their order inside the set, and gets no remove.
    @Test("a parent and its child in one change set, in either order, are both placed and both applied", arguments: [false, true])
    func parentAndChild(childFirst: Bool) async throws {
        let world = try await HostileWorld.make("edges-parent-child-\(childFirst)")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let customer = try world.customers(of: rep).own
        let priceList = try world.row("price_lists", where: "currency", is: "USD")
        let product = try world.row("products", where: "active", is: "true")
        let (order, line) = (RecordID.random(), RecordID.random())
        let orderChange = phone.change("sales_orders", order, [
            ("customer_id", .id(customer)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)), ("currency", .text("USD")),
            ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(HostileWorld.now))), ("status", .state(StateValue("draft"))),
        ])
        let lineChange = phone.change("order_lines", line, [("order_id", .id(order)), ("product_id", .id(product)), ("quantity", .integer(2)), ("discount_bp", .integer(0))])
        let outcomes = try await phone.push(childFirst ? [lineChange, orderChange] : [orderChange, lineChange])
        #expect(outcomes.allSatisfy { $0.result != .rejected }, "\(outcomes)")
        let parentBuckets = try await Self.buckets(world, "sales_orders", order)
        #expect(!parentBuckets.isEmpty)
        #expect(try await Self.buckets(world, "order_lines", line) == parentBuckets)
        #expect(try await Self.removes(world, line) == 0)

        // A new customer and its contact.
        let (newCustomer, contact) = (RecordID.random(), RecordID.random())
        let territory = try world.territory(of: rep)
        let customerChange = phone.change("customers", newCustomer, [("territory_id", .id(RecordID(territory)!)), ("name", .text("Edge Deli")),
                                                                     ("phone", .text("+1-212-555-0142"))])
        let contactChange = phone.change("contacts", contact, [("customer_id", .id(newCustomer)), ("name", .text("Ana"))])
        let pair = try await phone.push(childFirst ? [contactChange, customerChange] : [customerChange, contactChange])
        #expect(pair.allSatisfy { $0.result != .rejected }, "\(pair)")
        let customerBuckets = try await Self.buckets(world, "customers", newCustomer)
        #expect(customerBuckets == ["territory:\(territory)"])
        #expect(try await Self.buckets(world, "contacts", contact) == customerBuckets)
        #expect(try await Self.removes(world, contact) == 0)
    }

    /// Item 2: the tasks the office plans with a visit reach the visit's buckets.
    @Test("a visit planned with tasks: the tasks are in the visit's buckets")
    func officeVisitTasks() async throws {
        let world = try await HostileWorld.make("edges-visit-tasks")
        let rep = try world.rep
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let visit = try await world.store.createVisit(SyncStore.NewVisit(customer: try world.customers(of: rep).own, assignee: rep, visitType: "routine",
                                                                         plannedStart: Int64(HostileWorld.now) + 3_600_000, plannedEnd: Int64(HostileWorld.now) + 5_400_000,
                                                                         tasks: [(type: "shelf_audit", required: true)]), by: dispatcher)
        let tasks = try await world.pool.query("SELECT id::text FROM visit_tasks WHERE tenant_id = $1 AND visit_id = $2", [world.tenant.uuidString, visit.uuidString])
            .map { RecordID(try $0.read(0, as: String.self))! }
        try #require(tasks.count == 1)
        let visitBuckets = try await Self.buckets(world, "visits", visit)
        #expect(visitBuckets.contains("user:\(rep.uuidString)"))
        #expect(try await Self.buckets(world, "visit_tasks", tasks[0]) == visitBuckets)
    }
}
