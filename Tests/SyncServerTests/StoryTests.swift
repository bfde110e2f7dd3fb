import DemoData
import DeviceStore
import FieldModel
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncClient
import SyncCore
import SyncWire
import Testing

/// DOMAIN.md's stories end to end: phones with real SQLite stores syncing over HTTP with the real
/// server on a real PostgreSQL, while the office plans, assigns and approves.
@Suite("Stories: late offline work against the office's decisions")
struct StoryTests {
    typealias W = StoryWorld

    @Test("a visit reassigned while the rep, offline, works it: the work is kept, attributed to the rep, flagged for the dispatcher")
    func reassignedWhileWorked() async throws {
        try await W.run("story-reassign") { world in
            let reps = try world.users(.rep)
            let rep = try await world.phone(reps[0], role: .rep)
            let visit = try #require(try await rep.mondayVisits().first)
            _ = try await rep.store.checkIn(visit: visit.id, fix: try rep.fix(at: visit.location, time: W.at(9, 5)))
            world.clock.set(UInt64(W.at(9, 10)))
            let dispatcher = try world.office(.dispatcher)
            try await world.store.assignVisit(visit.id, to: reps[3], by: dispatcher)  // a rep of another territory
            _ = try await rep.store.checkOut(visit: visit.id, fix: try rep.fix(at: visit.location, time: W.at(9, 30)))
            _ = try await rep.store.completeVisit(visit: visit.id)
            world.clock.set(UInt64(W.at(12)))
            let outcomes = try await rep.sync()
            #expect(outcomes.allSatisfy { $0.result != "rejected" })
            let server = try await world.server("visits", visit.id)
            #expect(server.state()?.name == "completed")
            #expect(server.id("executed_by") == reps[0])
            #expect(server.id("assignee_id") == reps[3])
            let flags = try await world.decisions(visit.id).filter { $0.review == "open" }.map(\.rule)
            #expect(flags.contains("reassigned_while_executed"))
            // The dispatcher sees it, and accepts it with a comment.
            let item = try #require(try await world.store.reviews(limit: SyncStore.listPageMax, by: dispatcher).items.first { $0.record == visit.id && $0.rule == "reassigned_while_executed" })
            try await world.store.resolve(item.id, .accept, comment: "Ana covered it; fine", by: dispatcher)
            #expect(try await world.store.reviews(limit: SyncStore.listPageMax, by: dispatcher).items.contains { $0.id == item.id } == false)
        }
    }

    @Test("a dispatcher cancels a visit the rep completed offline: the completion wins, flagged")
    func cancelLosesToCompletion() async throws {
        try await W.run("story-cancel") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visit = try #require(try await rep.mondayVisits().first)
            _ = try await rep.store.checkIn(visit: visit.id, fix: try rep.fix(at: visit.location, time: W.at(9, 2)))
            _ = try await rep.store.checkOut(visit: visit.id, fix: try rep.fix(at: visit.location, time: W.at(9, 20)))
            _ = try await rep.store.completeVisit(visit: visit.id)
            world.clock.set(UInt64(W.at(10)))
            try await world.store.cancelVisit(visit.id, by: try world.office(.dispatcher))
            #expect(try await world.server("visits", visit.id).state()?.name == "cancelled")
            world.clock.set(UInt64(W.at(13)))
            try await rep.sync()
            #expect(try await world.server("visits", visit.id).state()?.name == "completed")
            #expect(try await world.decisions(visit.id).contains { $0.rule == "executed_after_cancel" && $0.review == "open" })
            // The phone converged on the server's state.
            try await rep.sync(until: { try await $0.record("visits", visit.id)?.state()?.name == "completed" })
            #expect(try await rep.store.record("visits", visit.id)?.state()?.name == "completed")
        }
    }

    @Test("a technician's execution fields and the dispatcher's schedule merge per field: both survive, no conflict")
    func technicianAndDispatcher() async throws {
        try await W.run("story-workorder") { world in
            let technician = try world.users(.technician)[0]
            let orders = try #require(world.data["work_orders"])
            let column = { (name: String) in orders.columns.firstIndex(of: name)! }
            let row = try #require(orders.rows.first { $0[column("assignee_id")] == technician.uuidString && $0[column("status")] == "scheduled" })
            let order = RecordID(row[0]!)!
            let phone = try await world.phone(technician, role: .technician)
            _ = try await phone.store.moveWorkOrder(order, to: "en_route", at: W.at(9))
            _ = try await phone.store.moveWorkOrder(order, to: "on_site", at: W.at(9, 30))
            _ = try await phone.store.setResolution(workOrder: order, resolution: "Replaced the door seal.")
            try await world.store.scheduleWorkOrder(order, from: W.at(9), to: W.at(12), by: try world.office(.dispatcher))
            world.clock.set(UInt64(W.at(11)))
            let outcomes = try await phone.sync()
            #expect(outcomes.allSatisfy { $0.result == "applied" })
            let server = try await world.server("work_orders", order)
            #expect(server.state()?.name == "on_site")
            #expect(server.text("resolution") == "Replaced the door seal.")
            #expect(server.timestamp("actual_start") == W.at(9, 30))
            #expect(server.timestamp("window_end") == W.at(12))
            let conflicts = try await world.pool.query("SELECT count(*) FROM conflicts WHERE record = $1", [order.uuidString])[0].read(0, as: Int.self)
            #expect(conflicts == 0)
            try await phone.sync(until: { try await $0.record("work_orders", order)?.timestamp("window_end") == W.at(12) })
            #expect(try await phone.store.record("work_orders", order)?.timestamp("window_end") == W.at(12))
        }
    }

    @Test("a check-in arriving after the server marked the visit missed revives it, flagged")
    func lateCheckInRevives() async throws {
        try await W.run("story-missed") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visit = try #require(try await rep.mondayVisits().first)
            _ = try await rep.store.checkIn(visit: visit.id, fix: try rep.fix(at: visit.location, time: try #require(visit.plannedStart) + 5 * W.minute))
            world.clock.set(UInt64(W.at(23)))
            let marked = try await world.store.markMissedVisits(now: W.at(23), tenant: world.tenant)
            #expect(marked > 0)
            #expect(try await world.server("visits", visit.id).state()?.name == "missed")
            try await rep.sync()
            #expect(try await world.server("visits", visit.id).state()?.name == "in_progress")
            let rules = try await world.decisions(visit.id).map(\.rule)
            #expect(rules.contains("visit_missed"))
            #expect(rules.contains("revived_missed_visit"))
        }
    }

    @Test("a late edit to an order submitted and approved meanwhile is refused into quarantine with the server's version")
    func lateEditToApprovedOrder() async throws {
        try await W.run("story-locked") { world in
            let repID = try world.users(.rep)[0]
            let first = try await world.phone(repID, role: .rep, install: 1)
            let second = try await world.phone(repID, role: .rep, install: 2)
            let customer = try #require(try await first.mondayVisits().first).customerID
            let product = RecordID(try #require(world.data["products"]).rows[0][0]!)!
            let order = try await first.store.createOrder(customer: customer).record
            let line = try await first.store.addOrderLine(order: order, product: product, quantity: 4, discountBP: 500).record
            try await first.sync()
            try await second.sync(until: { try await $0.record("order_lines", line) != nil })
            _ = try await second.store.updateOrderLine(line, quantity: 40, discountBP: 500)  // offline, on the second phone
            _ = try await first.store.submitOrder(order)
            try await first.sync()
            #expect(try await world.server("sales_orders", order).state()?.name == "pending_approval")
            try await world.store.decide(.approve, order: order, comment: "seasonal promotion", by: try world.office(.manager))
            #expect(try await world.server("sales_orders", order).state()?.name == "confirmed")
            let outcomes = try await second.sync()
            let refused = try #require(outcomes.first { $0.record == line && $0.result == "rejected" })
            #expect(refused.reason == "order_locked")
            #expect(refused.serverState?.integer("quantity") == 4)
            #expect(try await world.server("order_lines", line).integer("quantity") == 4)
            #expect(try await world.decisions(line).contains { $0.rule == "order_locked" && $0.result == "rejected" && $0.review == "open" })
            // The office sees the quarantined change beside the server's value, and may let it stand — with a reason.
            let dispatcher = try world.office(.dispatcher)
            let item = try #require(try await world.store.reviews(limit: SyncStore.listPageMax, by: dispatcher).items.first { $0.record == line && $0.kind == "rejection" })
            #expect(item.serverState?.integer("quantity") == 4)
            #expect(item.change?.written("quantity") == .integer(40))
            await #expect(throws: SyncStore.OfficeError.self) { try await world.store.resolve(item.id, .override, comment: nil, by: dispatcher) }
            try await world.store.resolve(item.id, .override, comment: "the customer confirmed 40 by phone", by: dispatcher)
            #expect(try await world.server("order_lines", line).integer("quantity") == 40)
            await #expect(throws: SyncStore.OfficeError.self) { try await world.store.resolve(item.id, .accept, comment: nil, by: dispatcher) }
        }
    }

    @Test("over the credit limit goes to credit hold, a discount over policy to pending approval; a manager approves and releases")
    func creditAndDiscount() async throws {
        try await W.run("story-credit") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let manager = try world.office(.manager)
            try await world.store.edit([.init("customers", visits[0].customerID, [("credit_limit_minor", .integer(1_000))])], by: manager, tenant: world.tenant)
            try await rep.sync()
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            let held = try await rep.store.createOrder(customer: visits[0].customerID).record
            _ = try await rep.store.addOrderLine(order: held, product: product, quantity: 50)
            _ = try await rep.store.submitOrder(held)
            let discounted = try await rep.store.createOrder(customer: visits[1].customerID).record
            _ = try await rep.store.addOrderLine(order: discounted, product: product, quantity: 1, discountBP: 2_500)
            _ = try await rep.store.submitOrder(discounted)
            let outcomes = try await rep.sync()
            #expect(outcomes.contains { $0.record == held && $0.findings.contains("credit_limit_exceeded") })
            var server = try await world.server("sales_orders", held)
            #expect(server.state()?.name == "credit_hold")
            #expect(server.text("credit_state") == "hold")
            #expect((server.integer("total_minor") ?? 0) > 1_000)
            #expect(try await world.server("sales_orders", discounted).state()?.name == "pending_approval")
            // Only a manager approves.
            await #expect(throws: SyncStore.OfficeError.self) {
                try await world.store.decide(.approve, order: discounted, comment: nil, by: try world.office(.dispatcher))
            }
            try await world.store.decide(.approve, order: discounted, comment: "ok for this store", by: manager)
            try await world.store.decide(.release, order: held, comment: "paid by transfer", by: manager)
            server = try await world.server("sales_orders", held)
            #expect(server.state()?.name == "confirmed")
            #expect(server.text("credit_state") == "released")
            #expect(try await world.server("sales_orders", discounted).text("approval_state") == "approved")
            try await rep.sync(until: { try await $0.record("sales_orders", held)?.state()?.name == "confirmed" })
            #expect(try await rep.store.record("sales_orders", held)?.state()?.name == "confirmed")
        }
    }

    @Test("a rejected order is no dead end: the rep reopens it, fixes the discount and submits again; the server confirms it")
    func rejectedOrderReopened() async throws {
        try await W.run("story-reopen") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let manager = try world.office(.manager)
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            let order = try await rep.store.createOrder(customer: visits[0].customerID).record
            let line = try await rep.store.addOrderLine(order: order, product: product, quantity: 2, discountBP: 2_500).record
            _ = try await rep.store.submitOrder(order)
            try await rep.sync()
            #expect(try await world.server("sales_orders", order).state()?.name == "pending_approval")
            // The demo tenant lets a rep give no discount without a manager's approval.
            try await world.store.decide(.reject, order: order, comment: "no discount for this store", by: manager)
            try await rep.sync(until: { try await $0.record("sales_orders", order)?.state()?.name == "rejected" })
            // Lines of a rejected order cannot change until it is reopened.
            await #expect(throws: StoreError.self) { _ = try await rep.store.updateOrderLine(line, quantity: 2, discountBP: 0) }
            let reopened = try await rep.store.reopenOrder(order)
            #expect(reopened.changeSet != nil)
            #expect(try await rep.store.record("sales_orders", order)?.state() == StateValue("draft", epoch: 1))
            _ = try await rep.store.updateOrderLine(line, quantity: 3, discountBP: 0)
            _ = try await rep.store.submitOrder(order)
            let outcomes = try await rep.sync()
            #expect(outcomes.allSatisfy { $0.result != "rejected" }, "\(outcomes)")
            let server = try await world.server("sales_orders", order)
            #expect(server.state() == StateValue("confirmed", epoch: 1))
            #expect(try await world.server("order_lines", line).integer("discount_bp") == 0)
            #expect(try await world.server("order_lines", line).integer("quantity") == 3)
            // Only a rejected order reopens.
            await #expect(throws: StoreError.self) { _ = try await rep.store.reopenOrder(order) }
            // Next week, the same again: a repeat copies the confirmed order's lines, without discounts, into one change set.
            let repeated = try await rep.store.repeatLastOrder(customer: visits[0].customerID)
            #expect(repeated.changeSet?.changes.map(\.table) == ["sales_orders", "order_lines"])
            let copy = try #require(try await rep.store.read(.order(repeated.record)))
            #expect(copy.lines.map(\.quantity) == [3] && copy.lines.allSatisfy { ($0.discountBP ?? 0) == 0 })
            _ = try await rep.store.submitOrder(repeated.record)
            try await rep.sync()
            #expect(try await world.server("sales_orders", repeated.record).state()?.name == "confirmed")
            await #expect(throws: StoreError.self) { _ = try await rep.store.repeatLastOrder(customer: visits[1].customerID) }
        }
    }

    @Test("parts used drive a van's stock negative: accepted, flagged")
    func vanGoesNegative() async throws {
        try await W.run("story-van") { world in
            let technician = try world.users(.technician)[0]
            let product = RecordID(try #require(world.data["products"]).rows[2][0]!)!
            let van = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0001)
            let level = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0002)
            let seeded = Version(clock: HLC(milliseconds: UInt64(W.monday)), replica: .server)
            func field(_ value: FieldValue) -> FieldState { FieldState(value: value, version: seeded) }
            try await world.store.seed([
                ("stock_locations", van, RecordState(fields: ["kind": field(.text("van")), "name": field(.text("Van 1")), "owner_id": field(.id(technician))])),
                ("stock_levels", level, RecordState(fields: ["stock_location_id": field(.id(van)), "product_id": field(.id(product)),
                                                            "quantity": field(.counter(CounterValue([.server: .init(total: 1, clock: seeded.clock)])))])),
            ], tenant: world.tenant)
            let orders = try #require(world.data["work_orders"])
            let order = RecordID(try #require(orders.rows.first { $0[orders.columns.firstIndex(of: "assignee_id")!] == technician.uuidString })[0]!)!
            let phone = try await world.phone(technician, role: .technician)
            let part = try await phone.store.recordPartUsed(workOrder: order, product: product, quantity: 3, from: van, at: W.at(10))
            #expect(part.warnings.map(\.rule) == [.vanStockNegative])
            let outcomes = try await phone.sync()
            let outcome = try #require(outcomes.first { $0.record == part.record })
            #expect(outcome.result == "applied_with_exception")
            #expect(outcome.findings.contains("van_stock_negative"))
            let quantity = try await world.pool.query("SELECT quantity FROM stock_levels WHERE id = $1", [level.uuidString])[0].read(0, as: Int64.self)
            #expect(quantity == -2)
        }
    }

    @Test("the customer rates the service on the technician's phone: a low rating is flagged for the office, shows on the work order's page and in the service report")
    func serviceRating() async throws {
        try await W.run("story-rating") { world in
            let technician = try world.users(.technician)[0]
            let dispatcher = try world.office(.dispatcher)
            let customer = RecordID(try #require(world.data["customers"]).rows[0][0]!)!
            let order = try await world.store.createWorkOrder(.init(customer: customer, workType: "repair", priority: "high", windowStart: W.at(9),
                                                                    windowEnd: W.at(12), assignee: technician), by: dispatcher)
            let phone = try await world.phone(technician, role: .technician)
            // Not before the technician is there.
            await #expect(throws: StoreError.self) { _ = try await phone.store.rateWorkOrder(order, stars: 5) }
            _ = try await phone.store.moveWorkOrder(order, to: "en_route", at: W.at(9, 30))
            _ = try await phone.store.moveWorkOrder(order, to: "on_site", at: W.at(10))
            await #expect(throws: StoreError.self) { _ = try await phone.store.rateWorkOrder(order, stars: 6) }
            let rated = try await phone.store.rateWorkOrder(order, stars: 2, comment: "Came late and left a mess")
            #expect(rated.warnings.map(\.rule) == [.lowRating])
            _ = try await phone.store.moveWorkOrder(order, to: "completed", at: W.at(10, 45))
            world.clock.set(UInt64(W.at(11)))
            let outcomes = try await phone.sync()
            #expect(outcomes.contains { $0.record == order && $0.findings.contains("low_rating") }, "\(outcomes)")
            let server = try await world.server("work_orders", order)
            #expect(server.integer("rating") == 2 && server.text("rating_comment") == "Came late and left a mess")
            #expect(try await world.decisions(order).contains { $0.rule == "low_rating" && $0.review == "open" })
            #expect(try await world.store.workOrder(order, by: dispatcher).ratingComment == "Came late and left a mess")
            let report = try await world.store.report(.service, from: W.at(0), to: W.at(23), now: W.at(23), by: dispatcher)
            let columns = report.columns.map(\.name)
            let row = try #require(report.rows.first { $0[0] == .text(technician.uuidString) })
            #expect(row[columns.firstIndex(of: "ratings")!] == .integer(1) && row[columns.firstIndex(of: "low_ratings")!] == .integer(1))
            #expect(row[columns.firstIndex(of: "mean_rating_tenths")!] == .integer(20))
        }
    }

    @Test("a technician's arrival on site is located and judged like a check-in: at the store verified, 2 km away flagged, never refused")
    func locatedArrival() async throws {
        try await W.run("story-arrival") { world in
            let technician = try world.users(.technician)[0]
            let dispatcher = try world.office(.dispatcher)
            let place = try await world.pool.query("""
                SELECT id::text, latitude_e6, longitude_e6 FROM customers WHERE tenant_id = $1 AND latitude_e6 IS NOT NULL ORDER BY id LIMIT 1
                """, [world.tenant.uuidString])[0]
            let customer = RecordID(try place.read(0, as: String.self))!
            let store = Coordinate(latitudeE6: try place.read(1, as: Int64.self), longitudeE6: try place.read(2, as: Int64.self))
            func create(at hour: Int64) async throws -> RecordID {
                try await world.store.createWorkOrder(.init(customer: customer, workType: "repair", windowStart: W.at(hour), windowEnd: W.at(hour + 2),
                                                            assignee: technician), by: dispatcher)
            }
            let orders = [try await create(at: 9), try await create(at: 13)]
            let phone = try await world.phone(technician, role: .technician)
            _ = try await phone.store.moveWorkOrder(orders[0], to: "en_route", at: W.at(9))
            let there = try await phone.store.arriveOnSite(orders[0], fix: try phone.fix(at: store, time: W.at(9, 20)))
            #expect(there.warnings.isEmpty)
            _ = try await phone.store.moveWorkOrder(orders[1], to: "en_route", at: W.at(13))
            // About 2 km north of the store (0.018°).
            let far = try await phone.store.arriveOnSite(orders[1], fix: try phone.fix(at: store, time: W.at(13, 20), northE6: 18_000))
            #expect(far.warnings.map(\.rule) == [.outsideGeofence])
            world.clock.set(UInt64(W.at(14)))
            let outcomes = try await phone.sync()
            #expect(outcomes.allSatisfy { $0.result != "rejected" }, "\(outcomes)")
            #expect(outcomes.contains { $0.record == orders[1] && $0.findings.contains("outside_geofence") })
            let verified = try await world.server("work_orders", orders[0])
            #expect(verified.state()?.name == "on_site" && verified.text("arrival_verification") == "verified" && verified.integer("arrival_distance_m") == 0)
            let flagged = try await world.server("work_orders", orders[1])
            #expect(flagged.state()?.name == "on_site" && flagged.text("arrival_verification") == "outside_radius")
            #expect((1_900...2_100).contains(flagged.integer("arrival_distance_m") ?? 0))
            #expect(try await world.decisions(orders[1]).contains { $0.rule == "outside_geofence" && $0.review == "open" })
            // The verdict reaches the phone.
            try await phone.sync(until: { try await $0.record("work_orders", orders[1])?.text("arrival_verification") == "outside_radius" })
        }
    }

    @Test("a rep's new customer duplicating an existing one is merged, and later edits follow merged_into")
    func duplicateCustomerMerged() async throws {
        try await W.run("story-dedupe") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let existing = try #require(try await rep.mondayVisits().first)
            let state = try #require(try await rep.store.record("customers", existing.customerID))
            let name = try #require(state.text("name"))
            let created = try await rep.store.createCustomer(name: name.uppercased() + ", Inc.", territory: try #require(state.id("territory_id")),
                                                             phone: state.text("phone"), location: existing.location).record
            try await rep.sync()
            #expect(try await world.server("customers", created).id("merged_into") == existing.customerID)
            #expect(try await world.decisions(created).contains { $0.rule == "duplicate_customer" && $0.review == "open" })
            try await rep.sync(until: { try await $0.record("customers", created)?.id("merged_into") == existing.customerID })
            #expect(try await rep.store.record("customers", created)?.id("merged_into") == existing.customerID)
            // A visit the rep starts at the new record lands on the surviving customer.
            let adHoc = try await rep.store.startAdHocVisit(customer: created, fix: try rep.fix(at: existing.location, time: W.at(15))).record
            try await rep.sync()
            #expect(try await world.server("visits", adHoc).id("customer_id") == existing.customerID)
            #expect(try await world.decisions(adHoc).contains { $0.rule == "followed_merge" })
        }
    }

    @Test("a check-in's photo: kept with it, uploaded once the check-in is answered, complete everywhere; never sent twice; fetched again on demand")
    func photoUploadsAfterItsRecord() async throws {
        try await W.run("story-photo") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array("a shelf photo, in JPEG for real".utf8) + (0..<4_000).map { UInt8($0 % 251) }
            let photo = AttachmentFile(bytes: bytes, mediaType: AttachmentFile.mediaType(sniffing: bytes), kind: .photo)
            #expect(photo.mediaType == "image/jpeg")
            let checkIn = try await rep.store.checkIn(visit: visits[0].id, fix: try rep.fix(at: visits[0].location, time: W.at(9, 3)), photos: [photo])
            let event = try #require(checkIn.changeSet?.changes.first { $0.table == "attachments" })
            #expect(try await rep.store.attachments().map(\.status) == [.waitingForRecord])
            #expect(try await rep.store.dueUploads().isEmpty, "the bytes wait for their record")

            // The record goes up first; the server holds it as pending.
            var report = SyncClient.Report()
            try await rep.client.pushAll(&report)
            #expect(try await world.server("attachments", event.record).text("upload_state") == "pending")
            #expect(try await world.server("visits", visits[0].id).state()?.name == "in_progress")
            #expect(try await rep.store.dueUploads().map(\.sha256) == [photo.sha256])

            // Then the bytes: the server completes the attachment, and the phone hears of it.
            try await rep.client.uploadAttachments(&report)
            #expect(report.uploaded == 1 && report.uploadedBytes == bytes.count && report.alreadyUploaded == 0)
            #expect(try await world.server("attachments", event.record).text("upload_state") == "complete")
            #expect(try await world.store.blob(sha256: photo.sha256, for: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)?.bytes == bytes)
            try await rep.sync(until: { try await $0.record("attachments", event.record)?.text("upload_state") == "complete" })
            #expect(try await rep.store.attachments().map(\.status) == [.uploaded])

            // The rep's second phone takes the same photo: the server has it, so no bytes go up.
            let second = try await world.phone(rep.user, role: .rep, install: 1)
            #expect(try await second.store.attachments().map(\.status) == [.onServer], "the record came, the bytes stay on the server")
            _ = try await second.store.checkIn(visit: visits[1].id, fix: try second.fix(at: visits[1].location, time: W.at(10, 3)), photos: [photo])
            let again = try await second.client.sync()
            #expect(again.uploaded == 0 && again.alreadyUploaded == 1)

            // A third phone fetches the bytes on demand and checks them.
            let third = try await world.phone(rep.user, role: .rep, install: 2)
            #expect(try await third.client.attachmentBytes(event.record) == bytes)
            #expect(try await third.store.attachments().first { $0.id == event.record }?.bytesHere == true)

            // Bytes that do not hash to their name are refused.
            await #expect(throws: SyncStore.OfficeError.self) {
                try await world.store.storeBlob(sha256: String(repeating: "ab", count: 32), mediaType: "image/jpeg", bytes: bytes, by: rep.user, tenant: world.tenant)
            }
        }
    }

    @Test("a check-in 2 km from the store and one with the mock-location flag are flagged, not rejected")
    func geofenceAndMockLocation() async throws {
        try await W.run("story-geofence") { world in
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let far = try await rep.store.checkIn(visit: visits[0].id, fix: try rep.fix(at: visits[0].location, time: W.at(9, 1), northE6: 18_000))
            _ = try await rep.store.checkOut(visit: visits[0].id, fix: try rep.fix(at: visits[0].location, time: W.at(9, 20), northE6: 18_000))
            _ = try await rep.store.completeVisit(visit: visits[0].id)
            let mocked = try await rep.store.checkIn(visit: visits[1].id, fix: try rep.fix(at: visits[1].location, time: W.at(10, 1), mock: true))
            #expect(far.warnings.map(\.rule).contains(.outsideGeofence))
            let outcomes = try await rep.sync()
            #expect(outcomes.allSatisfy { $0.result != "rejected" })
            #expect(outcomes.contains { $0.findings.contains("outside_geofence") })
            #expect(outcomes.contains { $0.findings.contains("suspicious_location") })
            let events = try await world.pool.query("""
                SELECT visit_id::text, verification, distance_m FROM geo_events WHERE tenant_id = $1 AND kind = 'check_in' ORDER BY device_time
                """, [world.tenant.uuidString])
            #expect(try events.map { try $0.read(1, as: String.self) } == ["outside_radius", "suspicious"])
            #expect((try events[0].read(2, as: Int64.self)) > 1_900)
            #expect(try await world.server("visits", far.record).state()?.name == "completed")
            #expect(try await world.server("visits", mocked.record).state()?.name == "in_progress")
            #expect(try await rep.store.record("visits", visits[0].id)?.state()?.name == "completed")
        }
    }
}
