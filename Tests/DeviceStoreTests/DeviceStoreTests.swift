import DemoData
import FieldModel
import Foundation
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

@Suite("DeviceStore")
struct DeviceStoreTests {
    /// A swarm seed spent 5 % of its CPU compiling statements again: a phone runs close to 200
    /// distinct statements, and a cache of 64 emptied itself every few tables.
    @Test("the statement cache holds a phone's working set: a second day compiles nothing new")
    func statementsStayCompiled() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visits = try await fixture.store.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 86_400_000)
        try #require(visits.count >= 2)
        let product = try #require(try fixture.anyProduct())
        let workOrder = RecordID(try #require(fixture.data["work_orders"]).rows[0][0]!)!
        let schema = fixture.store.schema
        var cursor: UInt64 = 100
        /// A phone's day: the server's pages over every table, a visit done with an order taken,
        /// every typed read.
        func day(_ visit: DeviceStore.VisitSummary, at start: Int64) async throws {
            cursor = try await DeviceStoreFixture.applyDemo(fixture.data, kind: .changes, after: cursor, to: fixture.store)
            let here = try #require(visit.location)
            _ = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: here, accuracyMeters: 8, deviceTime: start))
            let order = try await fixture.store.createOrder(customer: visit.customerID, visit: visit.id).record
            _ = try await fixture.store.addOrderLine(order: order, product: product, quantity: 2)
            _ = try await fixture.store.checkOut(visit: visit.id, fix: Geofence.Fix(coordinate: here, accuracyMeters: 8, deviceTime: start + 900_000))
            _ = try await fixture.store.completeVisit(visit: visit.id)
            for query in Self.typedReads(visit: visit.id, customer: visit.customerID, product: product, order: order, workOrder: workOrder) {
                try await fixture.store.database.transaction { db in try query(db, schema) }
            }
        }
        try await day(visits[0], at: DeviceStoreFixture.monday + 14 * 3_600_000)
        let compiled = await fixture.store.database.statementsCompiled
        try await day(visits[1], at: DeviceStoreFixture.monday + 16 * 3_600_000)
        #expect(await fixture.store.database.statementsCompiled == compiled)
    }

    @Test("today's visits come in plan order with their customers")
    func todaysVisits() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visits = try await fixture.store.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 86_400_000)
        #expect(visits.count == 20)
        #expect(visits.map(\.sequence) == (1...20).map { Int64($0) })
        #expect(visits.allSatisfy { $0.status == "planned" && !$0.customerName.isEmpty && $0.location != nil })
    }

    @Test("a check-in far from the store is recorded, with a warning, as one change set")
    func checkInOutsideGeofence() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let store = try #require(visit.location)
        let twoKilometersNorth = Coordinate(latitudeE6: store.latitudeE6 + 18_000, longitudeE6: store.longitudeE6)
        let report = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: twoKilometersNorth, accuracyMeters: 15, deviceTime: DeviceStoreFixture.monday + 14 * 3_600_000))
        #expect(report.warnings.map(\.rule) == [.outsideGeofence])
        #expect(report.changeSet?.changes.map(\.table) == ["geo_events", "visits"])
        #expect(try await fixture.store.outboxCount() == 1)
        let state = try #require(try await fixture.store.record("visits", visit.id))
        #expect(state.fields["status"]?.value == .state(StateValue("in_progress")))
        #expect(state.fields["status"]?.version.replica == ReplicaID(21))
    }

    @Test("invalid actions throw a typed error and change nothing")
    func invalidActions() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let fix = Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: DeviceStoreFixture.monday)
        let unknown = await #expect(throws: StoreError.self) { try await fixture.store.checkIn(visit: RecordID(high: 1, low: 1), fix: fix) }
        #expect(unknown?.code == .unknownRecord)
        let forbidden = await #expect(throws: StoreError.self) { try await fixture.store.completeVisit(visit: visit.id) }
        #expect(forbidden?.code == .forbiddenTransition, "a planned visit cannot be completed without a check-in")
        let order = try await fixture.store.createOrder(customer: visit.customerID, visit: nil)
        let product = RecordID(try #require(fixture.data["products"]).rows[0][0]!)!
        let negative = await #expect(throws: StoreError.self) { try await fixture.store.addOrderLine(order: order.record, product: product, quantity: -1) }
        #expect(negative?.code == .invalidArgument)
        let notRep = await #expect(throws: StoreError.self) {
            try await fixture.store.correctCustomer(visit.customerID, ["credit_limit_minor": .integer(1)])
        }
        #expect(notRep?.code == .invalidArgument)
        #expect(try await fixture.store.outboxCount() == 1, "only the order's creation was recorded")
    }

    @Test("an order: priced from the local price list like the server prices it, submitted, then locked")
    func orderFlow() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let order = try await fixture.store.createOrder(customer: visit.customerID, visit: visit.id)
        #expect(order.warnings.map(\.rule) == [.noCheckIn])
        let products = try #require(fixture.data["products"]).rows.prefix(3).map { RecordID($0[0]!)! }
        for (index, product) in products.enumerated() {
            _ = try await fixture.store.addOrderLine(order: order.record, product: product, quantity: Int64(index + 2), discountBP: 250)
        }
        let preview = try await fixture.store.orderPreview(order.record)
        #expect(preview.lines.count == 3)
        #expect(preview.totalMinor == preview.subtotalMinor + preview.taxMinor)
        let submitted = try await fixture.store.submitOrder(order.record)
        #expect(submitted.warnings.map(\.rule) == [.discountOverPolicy], "the demo has no discount policy: any discount needs approval")
        let state = try #require(try await fixture.store.record("sales_orders", order.record))
        #expect(state.fields["status"]?.value == .state(StateValue("submitted")))
        #expect(state.fields["device_total_minor"]?.value == .integer(preview.totalMinor))
        let locked = await #expect(throws: StoreError.self) { try await fixture.store.addOrderLine(order: order.record, product: products[0], quantity: 1) }
        #expect(locked?.code == .forbiddenTransition)
        // Two payments; a repeated receipt number is recorded with a warning.
        _ = try await fixture.store.recordPayment(order: order.record, amountMinor: 1_000, method: "cash", receiptNumber: "R-1", collectedAt: 0)
        let repeated = try await fixture.store.recordPayment(order: order.record, amountMinor: 1_000, method: "cash", receiptNumber: "R-1", collectedAt: 0)
        #expect(repeated.warnings.map(\.rule) == [.duplicateReceipt])
        let history = try await fixture.store.orderHistory(customer: visit.customerID)
        #expect(history.first?.id == order.record)
    }

    @Test("a visit from check-in through check-out to completion")
    func execution() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let here = try #require(visit.location)
        let start = DeviceStoreFixture.monday + 14 * 3_600_000
        let checkIn = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: here, accuracyMeters: 8, deviceTime: start))
        #expect(checkIn.warnings.isEmpty)
        _ = try await fixture.store.checkOut(visit: visit.id, fix: Geofence.Fix(coordinate: here, accuracyMeters: 8, deviceTime: start + 900_000))
        let completed = try await fixture.store.completeVisit(visit: visit.id)
        #expect(completed.warnings.isEmpty)
        #expect(try await fixture.store.record("visits", visit.id)?.fields["status"]?.value == .state(StateValue("completed")))
        let abandonEmpty = await #expect(throws: StoreError.self) { try await fixture.store.abandonVisit(visit: visit.id, reason: "  ") }
        #expect(abandonEmpty?.code == .invalidArgument)
        #expect(try await fixture.store.outboxCount() == 3)
    }

    @Test("a technician works an order: forward moves only, and parts drive the van's stock negative with a warning")
    func technician() async throws {
        let fixture = try await DeviceStoreFixture.make(role: .technician)
        defer { fixture.remove() }
        let workOrders = try #require(fixture.data["work_orders"])
        let mine = try #require(workOrders.rows.first { $0[workOrders.columns.firstIndex(of: "assignee_id")!] == fixture.rep.uuidString })
        let workOrder = RecordID(mine[0]!)!
        let product = RecordID(try #require(fixture.data["products"]).rows[1][0]!)!
        // The server sends the technician's van with two units of the part.
        let van = RecordID(high: 0x0190_0000_0000_7777, low: 0x8000_0000_0000_0001)
        let level = RecordID(high: 0x0190_0000_0000_7778, low: 0x8000_0000_0000_0002)
        let server = Version(clock: DeviceStoreFixture.serverClock, replica: .server)
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .changes, snapshots: [
            RecordSnapshot(ref: RecordRef(table: "stock_locations", record: van), state: RecordState(fields: [
                "kind": FieldState(value: .text("van"), version: server), "name": FieldState(value: .text("Van 2"), version: server),
                "owner_id": FieldState(value: .id(fixture.rep), version: server)])),
            RecordSnapshot(ref: RecordRef(table: "stock_levels", record: level), state: RecordState(fields: [
                "stock_location_id": FieldState(value: .id(van), version: server), "product_id": FieldState(value: .id(product), version: server),
                "quantity": FieldState(value: .counter(CounterValue([.server: .init(total: 2, clock: server.clock)])), version: server)])),
        ], cursor: 50, hasMore: false), serverClock: server.clock)

        let skip = await #expect(throws: StoreError.self) { try await fixture.store.moveWorkOrder(workOrder, to: "completed", at: 1) }
        #expect(skip?.code == .forbiddenTransition)
        _ = try await fixture.store.moveWorkOrder(workOrder, to: "en_route", at: 1)
        _ = try await fixture.store.moveWorkOrder(workOrder, to: "on_site", at: 2)
        let used = try await fixture.store.recordPartUsed(workOrder: workOrder, product: product, quantity: 3, from: van, at: 3)
        #expect(used.warnings.map(\.rule) == [.vanStockNegative])
        let stock = try #require(try await fixture.store.record("stock_levels", level)?.fields["quantity"]?.value)
        guard case .counter(let counter) = stock else { Issue.record("not a counter"); return }
        #expect(counter.sum == -1)
        let done = try await fixture.store.moveWorkOrder(workOrder, to: "completed", at: 4)
        #expect(Set(done.warnings.map(\.rule)).isSubset(of: [.signatureMissing]), "arrived on site; a repair or installation also needs a signature")
    }

    @Test("each action's change set lies in the outbox, in order, until the server answers it")
    func outboxAndOutcomes() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let customer = visit.customerID
        let corrected = try await fixture.store.correctCustomer(customer, ["phone": .text("+1-212-555-0100")])
        let order = try await fixture.store.createOrder(customer: customer)
        let pending = try await fixture.store.pendingChangeSets()
        #expect(pending.map(\.id) == [corrected.changeSet!.id, order.changeSet!.id])

        // The server applies the correction and rejects the order, returning its own state.
        let serverVersion = Version(clock: HLC(milliseconds: UInt64(DeviceStoreFixture.monday) + 15 * 3_600_000), replica: .server)
        let serverOrder = RecordState(fields: ["status": FieldState(value: .state(StateValue("cancelled")), version: serverVersion)])
        let outcomes = pending.flatMap(\.changes).map { change in
            change.table == "sales_orders"
                ? ChangeOutcome(change: change.id, result: .rejected, reason: "forbidden_field", serverState: serverOrder)
                : ChangeOutcome(change: change.id, result: .applied)
        }
        try await fixture.store.recordOutcomes(PushResponse(batch: RecordID(high: 5, low: 5), serverClock: serverVersion.clock, outcomes: outcomes))
        #expect(try await fixture.store.outboxCount() == 0)
        let quarantine = try await fixture.store.outcomes(result: "rejected")
        #expect(quarantine.count == 1)
        #expect(quarantine.first?.reason == "forbidden_field")
        #expect(quarantine.first?.serverState == serverOrder)
        #expect(try await fixture.store.record("sales_orders", order.record)?.fields["status"]?.value == .state(StateValue("cancelled")),
                "the rejected write gave way to the server's value")
        #expect(try await fixture.store.record("customers", customer)?.fields["phone"]?.value == .text("+1-212-555-0100"))
        #expect(try await fixture.store.clock() >= serverVersion.clock, "the device received the server's clock")
    }

    /// After a week offline the outbox holds hundreds of change sets; each push's answer is read
    /// against the outbox a page at a time, up to the last answered change set.
    @Test("answers leave the outbox wherever they stand in it, across pages, and what is unanswered stays", arguments: [[0, 1, 2], [1], [0, 150, 249], [249]])
    func answersAcrossTheOutbox(answeredAt positions: [Int]) async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        for note in 0..<250 { _ = try await fixture.store.addContactRecord(customer: visit.customerID, channel: "phone", notes: "note \(note)") }
        let pending = try await fixture.store.pendingChangeSets(limit: 250)
        try #require(pending.count == 250)
        let outcomes = positions.flatMap { pending[$0].changes.map { ChangeOutcome(change: $0.id, result: .applied) } }
        try await fixture.store.recordOutcomes(PushResponse(batch: pending[positions[0]].id.uuid, serverClock: DeviceStoreFixture.serverClock, outcomes: outcomes))
        let left = try await fixture.store.pendingChangeSets(limit: 250).map(\.id)
        #expect(left == pending.enumerated().filter { !positions.contains($0.offset) }.map(\.element.id))
        #expect(try await fixture.store.outcomes(result: "applied").count == positions.count)
    }

    @Test("evicting a bucket keeps rows with unanswered changes until the server answers")
    func eviction() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let edit = try await fixture.store.correctCustomer(visit.customerID, ["phone": .text("+1-212-555-0199")])
        try await fixture.store.evict(bucket: "demo")
        #expect(try await fixture.store.record("customers", visit.customerID) != nil, "the pending edit keeps the row")
        #expect(try await fixture.store.record("visits", visit.id) == nil, "rows without pending edits are gone")
        let outcomes = edit.changeSet!.changes.map { ChangeOutcome(change: $0.id, result: .applied) }
        try await fixture.store.recordOutcomes(PushResponse(batch: RecordID(high: 6, low: 6), serverClock: DeviceStoreFixture.serverClock, outcomes: outcomes))
        #expect(try await fixture.store.record("customers", visit.customerID) == nil, "answered, then evicted")
    }

    @Test("starting a bucket over forgets its rows, except those another held bucket has and those with unanswered changes; the cursor goes to 0")
    func reprimeCollects() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visits = try await fixture.store.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 7 * 86_400_000)
        let (edited, shared, forgotten) = (visits[0], visits[1], visits[2])
        _ = try await fixture.store.correctCustomer(edited.customerID, ["phone": .text("+1-212-555-0199")])
        // A second bucket holds one visit too.
        try await fixture.store.setBuckets(["demo", "other"])
        let server = Version(clock: DeviceStoreFixture.serverClock, replica: .server)
        try await fixture.store.apply(BucketPage(bucket: "other", kind: .snapshot, snapshots: [
            RecordSnapshot(ref: RecordRef(table: "visits", record: shared.id), state: try #require(try await fixture.store.record("visits", shared.id))),
        ], cursor: 1, hasMore: false), serverClock: server.clock)
        let before = try await fixture.store.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + 7 * 86_400_000).count

        try await fixture.store.reprime(bucket: "demo")
        #expect(try await fixture.store.cursors().first { $0.bucket == "demo" }?.sequence == 0)
        #expect(try await fixture.store.record("customers", edited.customerID) != nil, "the pending edit keeps its row")
        #expect(try await fixture.store.record("visits", shared.id) != nil, "the other bucket keeps its row")
        #expect(try await fixture.store.record("visits", forgotten.id) == nil)
        for visit in visits where visit.id != shared.id {
            #expect(try await fixture.store.record("visits", visit.id) == nil, "of \(before) visits only the shared one stays")
        }
        try await fixture.store.evict(bucket: "other")
        #expect(try await fixture.store.record("visits", shared.id) == nil, "evicted with its last bucket")
        #expect(try await fixture.store.record("customers", edited.customerID) != nil, "still waiting for its answer")
    }

    @Test("a page's changes, snapshots, removes and cursor apply together; conflicts are kept")
    func applyPage() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        _ = try await fixture.store.correctCustomer(visit.customerID, ["phone": .text("rep's number")])
        let dispatcher = Version(clock: HLC(rawValue: DeviceStoreFixture.serverClock.rawValue + 500 << 16), replica: .server)
        let change = Change(id: ChangeID(RecordID(high: 9, low: 1)), table: "customers", record: visit.customerID,
                            operation: .write([FieldWrite("phone", .text("office's number"), base: Version(clock: DeviceStoreFixture.serverClock, replica: .server))]),
                            version: dispatcher)
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .changes, changeSets: [ChangeSet(id: ChangeID(RecordID(high: 9, low: 2)), changes: [change])],
                                                 removes: [RecordRef(table: "visits", record: visit.id)], cursor: 99, hasMore: false),
                                      serverClock: dispatcher.clock)
        #expect(try await fixture.store.cursors() == [BucketCursor(bucket: "demo", sequence: 99)])
        #expect(try await fixture.store.record("visits", visit.id) == nil)
        // The rep's edit is newer (its clock moved past the server's when it registered), so it stands; the conflict is kept.
        #expect(try await fixture.store.record("customers", visit.customerID)?.fields["phone"]?.value == .text("rep's number"))
        let conflicts = try await fixture.store.conflicts()
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.loser.value == .text("office's number"))
    }

    @Test("the rest of a rep's day: an ad hoc visit, a shelf count, a contact record, a new customer, a cancelled order")
    func otherActions() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let here = Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 5, deviceTime: DeviceStoreFixture.monday + 10 * 3_600_000)
        let adHoc = try await fixture.store.startAdHocVisit(customer: visit.customerID, fix: here)
        let adHocState = try #require(try await fixture.store.record("visits", adHoc.record))
        #expect(adHocState.fields["status"]?.value == .state(StateValue("in_progress")))
        #expect(adHocState.fields["creation_mode"]?.value == .text("ad_hoc"))
        #expect(adHoc.changeSet?.changes.map(\.table) == ["visits", "geo_events"])

        let product = RecordID(try #require(fixture.data["products"]).rows[0][0]!)!
        _ = try await fixture.store.recordShelfCount(visit: adHoc.record, product: product, quantity: 14, countedAt: here.deviceTime)
        let negative = await #expect(throws: StoreError.self) { try await fixture.store.recordShelfCount(visit: adHoc.record, product: product, quantity: -1, countedAt: 0) }
        #expect(negative?.code == .invalidArgument)
        _ = try await fixture.store.addContactRecord(customer: visit.customerID, visit: adHoc.record, channel: "visit", notes: "Wants the winter promotion.")

        let territory = RecordID(try #require(fixture.data["territories"]).rows[0][0]!)!
        let newCustomer = try await fixture.store.createCustomer(name: "Brand New Deli", territory: territory, phone: "+1-212-555-0111",
                                                                location: Coordinate(latitude: 40.75, longitude: -73.99))
        let customerState = try #require(try await fixture.store.record("customers", newCustomer.record))
        #expect(customerState.fields["name"]?.value == .text("Brand New Deli"))
        let order = try await fixture.store.createOrder(customer: visit.customerID)
        _ = try await fixture.store.cancelOrder(order.record)
        #expect(try await fixture.store.record("sales_orders", order.record)?.fields["status"]?.value == .state(StateValue("cancelled")))
        // Six actions, six change sets, in order.
        #expect(try await fixture.store.outboxCount() == 6)
    }

    @Test("a store's out-of-stock list: the products its shelf was empty of at their latest count, over the phone's visits there")
    func outOfStockList() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let at = DeviceStoreFixture.monday + 10 * 3_600_000
        let adHoc = try await fixture.store.startAdHocVisit(customer: visit.customerID,
                                                           fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 5, deviceTime: at))
        let products = try #require(fixture.data["products"]).rows.prefix(3).map { RecordID($0[0]!)! }
        // Empty, then restocked; empty at the latest count; counted full only.
        _ = try await fixture.store.recordShelfCount(visit: visit.id, product: products[0], quantity: 0, countedAt: at - 3_600_000)
        _ = try await fixture.store.recordShelfCount(visit: adHoc.record, product: products[0], quantity: 6, countedAt: at)
        _ = try await fixture.store.recordShelfCount(visit: visit.id, product: products[1], quantity: 4, countedAt: at - 3_600_000)
        _ = try await fixture.store.recordShelfCount(visit: adHoc.record, product: products[1], quantity: 0, countedAt: at)
        _ = try await fixture.store.recordShelfCount(visit: adHoc.record, product: products[2], quantity: 9, countedAt: at)
        let empty = try await fixture.store.outOfStock(customer: visit.customerID)
        #expect(empty.map(\.product) == [products[1]])
        #expect(empty.first?.visit == adHoc.record && empty.first?.countedAt == at)
        #expect(try await fixture.store.outOfStock(customer: RecordID(high: 1, low: 1)).isEmpty)
    }

    /// Every typed read the app-facing API offers, as a body to run on the database.
    static func typedReads(visit: RecordID, customer: RecordID, product: RecordID, order: RecordID, workOrder: RecordID)
        -> [@Sendable (isolated SQLiteDatabase, DeviceSchema) throws -> Void] {
        func run<Value>(_ query: DeviceQuery<Value>) -> @Sendable (isolated SQLiteDatabase, DeviceSchema) throws -> Void {
            { db, schema in _ = try query.body(db, schema) }
        }
        return [run(.visits(from: 0, to: 1)), run(.plan(from: 0, to: Int64.max)), run(.visit(visit)), run(.customers(search: "deli", limit: 5)), run(.products(search: "bar", limit: 5)),
                run(.lastPrice(customer: customer, product: product)), run(.customer(customer)), run(.order(order)), run(.workOrders(from: 0, to: 1)),
                run(.workOrder(workOrder)), run(.outOfStock(customer: customer))]
    }

    @Test("everyday queries use indexes, not table scans")
    func queryPlans() async throws {
        let fixture = try await DeviceStoreFixture.make(prime: false)
        defer { fixture.remove() }
        let id: [UInt8] = Array(repeating: 1, count: 16)
        let queries: [(String, [any SQLiteBindable])] = [
            ("SELECT v.id FROM visits v JOIN customers c ON c.id = v.customer_id WHERE v.assignee_id = ? AND v.planned_start >= ? AND v.planned_start < ? AND v._deleted = 0 ORDER BY v.planned_start, v.sequence", [id, 0, 1]),
            ("SELECT id FROM sales_orders WHERE customer_id = ? AND _deleted = 0 ORDER BY order_date DESC LIMIT 20", [id]),
            ("SELECT * FROM order_lines WHERE order_id = ? AND _deleted = 0", [id]),
            ("SELECT * FROM price_list_entries WHERE price_list_id = ? AND product_id = ?", [id, id]),
            ("SELECT receipt_number FROM payments WHERE order_id = ?", [id]),
            ("SELECT 1 FROM visits WHERE assignee_id = ? AND status = 'in_progress' LIMIT 1", [id]),
            ("SELECT id FROM stock_levels WHERE stock_location_id = ? AND product_id = ?", [id, id]),
            ("SELECT kind FROM geo_events WHERE visit_id = ?", [id]),
        ]
        for (sql, values) in queries {
            try await Self.expectIndexed(sql, values, fixture.store)
        }
    }

    @Test("every statement of every typed read uses an index")
    func typedReadPlans() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let order = try await fixture.store.createOrder(customer: visit.customerID).record
        let product = RecordID(try #require(fixture.data["products"]).rows[0][0]!)!
        _ = try await fixture.store.addOrderLine(order: order, product: product, quantity: 2)
        let workOrder = RecordID(try #require(fixture.data["work_orders"]).rows[0][0]!)!
        let schema = fixture.store.schema
        var statements: [String] = []
        for query in Self.typedReads(visit: visit.id, customer: visit.customerID, product: product, order: order, workOrder: workOrder) {
            statements += try await fixture.store.database.transaction { db in try db.recordingSQL { db in try query(db, schema) } }
        }
        #expect(Set(statements).count >= 20, "every statement ran: \(statements.count)")
        // store_meta is the store's handful of settings, read whole.
        for sql in Set(statements).sorted() where !sql.hasSuffix("FROM store_meta") {
            try await Self.expectIndexed(sql, [], fixture.store)
        }
    }

    /// The answered change sets are kept two weeks (to go up again after the server's database
    /// is restored): pruning them after every push read all of them, 2.4 ms of a 100-change sync
    /// once the bench's phone had kept 20,000.
    @Test("pruning the answered change sets after a push goes through an index")
    func pruningAnsweredPlan() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        try await Self.expectIndexed(DeviceSchema.pruneAnswered, [0], fixture.store)
    }

    static func expectIndexed(_ sql: String, _ values: [any SQLiteBindable], _ store: DeviceStore) async throws {
        let plan = try await store.database.query("EXPLAIN QUERY PLAN " + sql, values).map { try $0.read(3, as: String.self) }
        // A full-text index is a virtual table, searched through its MATCH constraint ("M").
        #expect(plan.allSatisfy { !$0.hasPrefix("SCAN") || ($0.contains("VIRTUAL TABLE INDEX") && $0.contains(":M")) }, "\(sql): \(plan)")
        #expect(plan.contains { ["USING INDEX", "USING PRIMARY KEY", "USING COVERING INDEX", "USING INTEGER PRIMARY KEY"].contains(where: $0.contains) }, "\(sql): \(plan)")
    }
}
