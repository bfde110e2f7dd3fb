import DemoData
import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncWire
import Testing

@testable import SyncEngine
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
        try await world.pool.query("SELECT kind, change_set FROM change_log WHERE tenant_id = $1", [world.tenant.uuidString])
            .flatMap { try FeedEntry.entries(kind: try $0.read(0, as: Int.self), body: try $0.read(1, as: [UInt8].self)) }
            .filter { if case .remove(let ref) = $0 { ref.record == id } else { false } }.count
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
                                                                         tasks: [.init(type: "shelf_audit", required: true)]), by: dispatcher)
        let tasks = try await world.pool.query("SELECT id::text FROM visit_tasks WHERE tenant_id = $1 AND visit_id = $2", [world.tenant.uuidString, visit.uuidString])
            .map { RecordID(try $0.read(0, as: String.self))! }
        try #require(tasks.count == 1)
        let visitBuckets = try await Self.buckets(world, "visits", visit)
        #expect(visitBuckets.contains("user:\(rep.uuidString)"))
        #expect(try await Self.buckets(world, "visit_tasks", tasks[0]) == visitBuckets)
    }

    /// Pulls `cursors` once as `phone`.
    static func pull(_ world: HostileWorld, _ phone: HostileWorld.Phone, _ cursors: [BucketCursor], recordsMax: UInt64 = 5_000) async throws -> PullResponse {
        let answer = try await world.send("/v1/pull", .pullRequest(PullRequest(cursors: cursors, recordsMax: recordsMax)), token: phone.token)
        guard case .pullResponse(let response) = answer.message else { throw HostileFailure("pull answered \(answer.status)") }
        return response
    }

    /// Primes `bucket` for `phone` and reads its feed to the end; the cursor after it.
    static func primed(_ world: HostileWorld, _ phone: HostileWorld.Phone, _ bucket: Bucket) async throws -> BucketCursor {
        var cursor = BucketCursor(bucket: bucket, sequence: 0)
        for _ in 0..<100 {
            guard let page = try await pull(world, phone, [cursor]).pages.first(where: { $0.bucket == bucket }) else { return cursor }
            cursor = BucketCursor(bucket: bucket, sequence: page.cursor, resume: page.resume)
            if !page.hasMore, page.kind == .changes || page.resume == nil, page.kind == .changes { return cursor }
        }
        return cursor
    }

    /// Pulls `cursor` until a page arrives (the feed serves what is older than every running
    /// transaction, so a write can take a moment to become visible).
    static func nextPage(_ world: HostileWorld, _ phone: HostileWorld.Phone, _ cursor: BucketCursor) async throws -> BucketPage? {
        for _ in 0..<50 {
            if let page = try await pull(world, phone, [cursor]).pages.first(where: { $0.bucket == cursor.bucket }) { return page }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// A technician's work order (with an asset) and the other technician.
    static func workOrder(_ world: HostileWorld) throws -> (order: RecordID, from: RecordID, to: RecordID) {
        let technicians = try world.users(.technician)
        let orders = try #require(world.data["work_orders"])
        let column = { (name: String) in orders.columns.firstIndex(of: name)! }
        let row = try #require(orders.rows.first { $0[column("assignee_id")] == technicians[0].uuidString && $0[column("asset_id")] != nil })
        return (RecordID(row[0]!)!, technicians[0], technicians[1])
    }

    /// A technician primed on their `user:` bucket, one of whose work orders the dispatcher is
    /// about to hand to the other technician.
    struct Handover {
        let world: HostileWorld
        let order: RecordID, from: RecordID, to: RecordID
        let phone: HostileWorld.Phone
        let bucket: Bucket
        let cursor: BucketCursor
        let dispatcher: SyncStore.OfficeUser

        init(_ name: String) async throws {
            world = try await HostileWorld.make(name)
            (order, from, to) = try SyncEdgesTests.workOrder(world)
            phone = try await world.phone(from, .technician)
            bucket = "user:\(from.uuidString)"
            cursor = try await SyncEdgesTests.primed(world, phone, bucket)
            dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        }
    }

    /// Item 3: a row that leaves a bucket is a remove there, delivered; the live channel then rests.
    @Test("a work order reassigned away is removed from the first technician's bucket, and live does not spin")
    func reassignedAway() async throws {
        let handover = try await Handover("edges-reassigned-away")
        let (world, order, phone, bucket, cursor) = (handover.world, handover.order, handover.phone, handover.bucket, handover.cursor)
        try await world.store.assignWorkOrder(order, to: handover.to, by: handover.dispatcher)
        let page = try #require(try await Self.nextPage(world, phone, cursor), "no page after the reassignment")
        #expect(page.removes.contains { $0.table == "work_orders" && $0.record == order }, "\(page.removes)")
        // The pull moved the cursor past the removes: live has nothing more to say.
        let after = BucketCursor(bucket: bucket, sequence: page.cursor)
        let live = try await world.send("/v1/live", .pullRequest(PullRequest(cursors: [after])), token: phone.token)
        guard case .liveNotice(let notice) = live.message else { Issue.record("live answered \(live.status)"); return }
        #expect(!notice.buckets.contains(bucket), "live answered at once with \(notice.buckets)")
    }

    /// Item 4: away and back within one page: the row ends present, never removed after its arrival.
    @Test("a work order reassigned away and back within one page is present at the end of the page")
    func awayAndBack() async throws {
        let handover = try await Handover("edges-away-and-back")
        let (world, order, phone, bucket, cursor) = (handover.world, handover.order, handover.phone, handover.bucket, handover.cursor)
        try await world.store.assignWorkOrder(order, to: handover.to, by: handover.dispatcher)
        try await world.store.assignWorkOrder(order, to: handover.from, by: handover.dispatcher)
        // Wait until both moves are visible, then read them in one page.
        var page: BucketPage?
        for _ in 0..<50 {
            page = try await Self.pull(world, phone, [cursor]).pages.first { $0.bucket == bucket }
            if let page, page.changeSets.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let served = try #require(page)
        #expect(!served.removes.contains { $0.record == order }, "a remove of a row that arrived again in the same page: \(served.removes)")
        #expect(served.snapshots.contains { $0.ref.record == order } || served.changeSets.contains { $0.changes.contains { $0.record == order } })
    }

    /// Spec and server agree: `records_max` bounds the whole response, and 0 is the server's maximum.
    @Test("records_max bounds the whole response, and 0 asks for the server's maximum")
    func recordsMax() async throws {
        let world = try await HostileWorld.make("edges-records-max")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let cursors = ["catalog", "user:\(rep.uuidString)", "territory:\(try world.territory(of: rep))"].map { BucketCursor(bucket: $0, sequence: 0) }
        func rows(_ response: PullResponse) -> Int { response.pages.reduce(0) { $0 + $1.snapshots.count + $1.changeSets.count + $1.removes.count } }
        let bounded = try await Self.pull(world, phone, cursors, recordsMax: 2_000)
        #expect(rows(bounded) == 2_000)
        #expect(bounded.pages.last?.hasMore == true)
        let maximum = try await Self.pull(world, phone, cursors, recordsMax: 0)
        #expect(rows(maximum) == WireLimits.recordsPerPageMax)
    }

    /// Spec and server agree: registering an installation again uses up no replica number.
    @Test("replica numbers stay compact: registering again takes no new number")
    func compactReplicas() async throws {
        let world = try await HostileWorld.make("edges-compact-replicas")
        let rep = try world.rep
        let installation = RecordID.random()
        let first = try await world.phone(rep, .rep, installation: installation)
        for _ in 0..<3 { #expect(try await world.phone(rep, .rep, installation: installation).replica == first.replica) }
        let next = try await world.phone(rep, .rep)
        #expect(next.replica.rawValue == first.replica.rawValue + 1)
    }

    /// The spec's `schema_revision`, `app_version` and `stale_app_version`, enforced.
    @Test("an app too old, built for another schema revision, or with a malformed version is told so at registration")
    func appVersions() async throws {
        let world = try await HostileWorld.make("edges-app-versions")
        let token = try await world.tokens.issue(user: try world.rep, tenant: world.tenant, role: .rep)
        func register(_ version: String, _ revision: UInt64) async throws -> (Int, String?) {
            let answer = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: version, platform: "test",
                                                                                               schemaRevision: revision)), token: token)
            if case .error(let error) = answer.message { return (answer.status, error.code) }
            return (answer.status, nil)
        }
        let current = UInt64(FieldSalesSchema.revision)
        #expect(try await register("1.0.0", current) == (200, nil))
        #expect(try await register("2.3", current) == (200, nil))
        #expect(try await register("0.9.9", current) == (426, "stale_app_version"))
        #expect(try await register("1.0.0", current - 1) == (426, "stale_app_version"))
        #expect(try await register("1.0.0", current + 1) == (400, "unsupported_version"))
        #expect(try await register("one", current) == (400, "malformed"))
    }

    /// Pages cut at every size: a transaction with more entries in a bucket than a page may hold
    /// is served whole, never cut (its cursor would skip the rest).
    @Test("pages of one record at a time still deliver every entry of a reassignment", arguments: [UInt64(1), 2, 3])
    func tinyPages(recordsMax: UInt64) async throws {
        let world = try await HostileWorld.make("edges-tiny-pages-\(recordsMax)")
        let (order, from, to) = try Self.workOrder(world)
        var replica = ModelReplica(try await world.phone(from, .technician))
        try await replica.sync(world, recordsMax: 5_000)
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        try await world.store.assignWorkOrder(order, to: to, by: dispatcher)
        var fresh = ModelReplica(replica.phone)
        for _ in 0..<50 {
            try await replica.sync(world, recordsMax: recordsMax)
            fresh = ModelReplica(replica.phone)
            try await fresh.sync(world, recordsMax: 5_000)
            if Set(replica.rows.keys) == Set(fresh.rows.keys) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!fresh.rows.keys.contains { $0.record == order })
        #expect(Set(replica.rows.keys) == Set(fresh.rows.keys),
                "held out of scope: \(Set(replica.rows.keys).subtracting(fresh.rows.keys).map(\.table)), missing: \(Set(fresh.rows.keys).subtracting(replica.rows.keys).map(\.table))")
    }
}
