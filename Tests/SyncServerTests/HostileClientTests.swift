import DemoData
import FieldModel
import Foundation
import JWTKit
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncWire
import Testing

@testable import SyncServer

/// The server against clients that are not our phone (issue 14): each test sends what a
/// careless or hostile client sent, and asserts a documented answer, nothing applied that should
/// not be, and no state of a row outside the caller's scope.
@Suite("Hostile clients")
struct HostileClientTests {
    static let ms = HostileWorld.now

    /// Item 1: device values at the extremes. Each used to trap in the rules' arithmetic (and a
    /// stored `actual_start` of Int64.min killed every board read); now each is refused with
    /// `out_of_range` before any rule computes.
    /// Found by the differential test's hostile traffic (seed 8, 30 pushes): a check-in without
    /// coordinates, then another check-in of the same rep, made the next judge read NULL as a
    /// number, and every retry of the push answered 500.
    @Test("a check-in without coordinates does not break the next one's travel check")
    func checkInWithoutCoordinates() async throws {
        let world = try await HostileWorld.make("hostile-no-coordinates")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let visits = try #require(world.data["visits"])
        let assignee = try #require(visits.columns.firstIndex(of: "assignee_id"))
        let mine = visits.rows.filter { $0[assignee] == rep.uuidString }.prefix(2).map { RecordID($0[0]!)! }
        try #require(mine.count == 2)
        let first = try await phone.push("geo_events", RecordID.random(), [("visit_id", .id(mine[0])), ("user_id", .id(rep)), ("kind", .text("check_in")),
                                                                        ("device_time", .timestamp(Int64(Self.ms)))])
        #expect(first.result != .rejected, "\(first)")
        world.clock.advance(by: 60_000)
        let second = try await phone.push("geo_events", RecordID.random(), [("visit_id", .id(mine[1])), ("user_id", .id(rep)), ("kind", .text("check_in")),
                                                                         ("device_time", .timestamp(Int64(Self.ms) + 60_000)), ("latitude_e6", .integer(40_750_000)),
                                                                         ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(15))],
                                          at: Self.ms + 60_000)
        #expect(second.result != .rejected, "\(second)")
    }

    @Test("a check-in that names no user is judged, not a server fault (seed 4 of the hostile traffic found it answering 503 on every retry)")
    func checkInWithoutUser() async throws {
        let world = try await HostileWorld.make("hostile-no-user")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let visit = try world.row("visits", where: "assignee_id", is: rep.uuidString)
        for _ in 0..<2 {
            let outcome = try await phone.push("geo_events", RecordID.random(), [("visit_id", .id(visit)), ("kind", .text("check_in")),
                                                                              ("device_time", .timestamp(Int64(Self.ms))), ("latitude_e6", .integer(40_750_000)),
                                                                              ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(15))])
            #expect(outcome.result != .rejected || outcome.reason != "server_fault", "\(outcome)")
        }
    }

    @Test("integer and time extremes are refused out_of_range, and the server keeps answering")
    func extremes() async throws {
        let world = try await HostileWorld.make("hostile-extremes")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let visit = try world.row("visits", where: "assignee_id", is: rep.uuidString)
        func checkIn(_ fields: [(String, FieldValue)]) -> [(String, FieldValue)] {
            var event: [(String, FieldValue)] = [("visit_id", .id(visit)), ("user_id", .id(rep)), ("kind", .text("check_in")), ("device_time", .timestamp(Int64(Self.ms))),
                                                 ("latitude_e6", .integer(40_750_000)), ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(15)),
                                                 ("provider", .text("gps")), ("mock_location", .bool(false))]
            for (field, value) in fields { event.removeAll { $0.0 == field }; event.append((field, value)) }
            return event
        }
        for extreme in [("longitude_e6", FieldValue.integer(.max)), ("latitude_e6", .integer(.min)), ("device_time", .timestamp(.min)), ("device_time", .timestamp(.max)),
                        ("accuracy_m", .integer(-1))] {
            let outcome = try await phone.push("geo_events", RecordID.random(), checkIn([extreme]))
            #expect(outcome.result == .rejected && outcome.reason == "out_of_range", "\(extreme.0) = \(extreme.1): \(outcome)")
        }
        // A visit's actual start at Int64.min is refused; the board reads fine.
        let start = try await phone.push("visits", visit, [("actual_start", .timestamp(.min))])
        #expect(start.reason == "out_of_range")
        // Money: a device total and a payment at the extremes.
        let order = RecordID.random()
        let draft = try await phone.push("sales_orders", order, [("customer_id", .id(try world.customers(of: rep).own)), ("created_by", .id(rep)),
                                                                 ("price_list_id", .id(try world.row("price_lists", where: "currency", is: "USD"))),
                                                                 ("currency", .text("USD")), ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(Self.ms))),
                                                                 ("status", .state(StateValue("draft"))), ("device_total_minor", .integer(.min))])
        #expect(draft.reason == "out_of_range")
        let payment = try await phone.push("payments", RecordID.random(), [("order_id", .id(order)), ("amount_minor", .integer(.max)), ("method", .text("cash")),
                                                                           ("receipt_number", .text("R-1")), ("collected_by", .id(rep)), ("collected_at", .timestamp(Int64(Self.ms)))])
        #expect(payment.reason == "out_of_range")
    }

    /// Item 1, persisted: a row written before ranges were checked may hold any 64-bit time;
    /// the board computes lateness in 128 bits.
    /// Found while reading admission for issue 19: a delete skipped the field-access check, so a
    /// rep's phone could delete any row in its scope — a product of the catalogue, its own planned
    /// visit, a price list — and the delete reached every phone.
    @Test("a delete needs the right to write the row: a rep deletes no product, visit or customer; a contact, yes")
    func deletes() async throws {
        let world = try await HostileWorld.make("hostile-deletes")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        func delete(_ table: String, _ record: RecordID) async throws -> ChangeOutcome {
            try await phone.push([Change(id: ChangeID(RecordID.random()), table: table, record: record, operation: .delete,
                                         version: Version(clock: HLC(milliseconds: world.clock.now() + 1), replica: phone.replica))])[0]
        }
        let product = RecordID(try #require(world.data["products"]).rows[0][0]!)!
        let visit = try world.row("visits", where: "assignee_id", is: rep.uuidString)
        let customer = try world.customers(of: rep).own
        let priceList = RecordID(try #require(world.data["price_lists"]).rows[0][0]!)!
        for (table, record) in [("products", product), ("visits", visit), ("customers", customer), ("price_lists", priceList)] {
            let outcome = try await delete(table, record)
            #expect(outcome.result == .rejected && outcome.reason == "forbidden_field", "\(table): \(outcome)")
            #expect(try await world.server(table, record) != nil, "\(table) still there")
        }
        // A rep edits a customer's contacts, so a rep may delete one.
        let contact = RecordID.random()
        #expect(try await phone.push("contacts", contact, [("customer_id", .id(customer)), ("name", .text("Ana Ruiz"))]).result == .applied)
        let outcome = try await delete("contacts", contact)
        #expect(outcome.result == .applied, "\(outcome)")
        #expect(try await world.server("contacts", contact) == nil)
    }

    @Test("a visit stored with actual_start = Int64.min does not stop the board")
    func boardWithLegacyExtremes() async throws {
        let world = try await HostileWorld.make("hostile-board")
        let visit = try world.row("visits", where: "assignee_id", is: try world.rep.uuidString)
        try await world.pool.query("UPDATE visits SET actual_start = $3 WHERE tenant_id = $1 AND id = $2", [world.tenant.uuidString, visit.uuidString, Int64.min])
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let board = try await world.store.board(from: Int64(Self.ms) - 14 * 3_600_000, to: Int64(Self.ms) + 10 * 3_600_000, user: nil, now: Int64(Self.ms), by: dispatcher)
        #expect(board.flatMap(\.visits).contains { $0.visit == visit })
    }

    /// Item 2: state machines on pushed changes, per role.
    @Test("a role's pushed state moves are checked: no confirming, no skipping, no creating past the start")
    func stateMoves() async throws {
        let world = try await HostileWorld.make("hostile-states")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let customer = try world.customers(of: rep).own
        let priceList = try world.row("price_lists", where: "currency", is: "USD")
        func order(_ status: String) -> [(String, FieldValue)] {
            [("customer_id", .id(customer)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)), ("currency", .text("USD")),
             ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(Self.ms))), ("status", .state(StateValue(status)))]
        }
        // Orders the server put on hold or up for approval: the rep may not confirm them.
        for held in ["pending_approval", "credit_hold"] {
            let id = RecordID.random()
            try await world.seed("sales_orders", id, order(held))
            let outcome = try await phone.push("sales_orders", id, [("status", .state(StateValue("confirmed")))])
            #expect(outcome.reason == "forbidden_transition", "\(held) → confirmed: \(outcome)")
            #expect(try await world.server("sales_orders", id)?.state()?.name == held)
        }
        // Created directly invoiced.
        let invoiced = try await phone.push("sales_orders", RecordID.random(), order("invoiced"))
        #expect(invoiced.reason == "forbidden_transition")
        // A rep cancels a planned visit (the dispatcher's move).
        let visit = try world.row("visits", where: "assignee_id", is: rep.uuidString)
        let cancel = try await phone.push("visits", visit, [("status", .state(StateValue("cancelled")))])
        #expect(cancel.reason == "forbidden_transition")
        // A reopen epoch out of thin air.
        let epoch = try await phone.push("visits", visit, [("status", .state(StateValue("in_progress", epoch: 7)))])
        #expect(epoch.reason == "forbidden_transition")
        // A technician closes a scheduled work order, skipping every step.
        let technician = try world.users(.technician)[0]
        let workOrders = try #require(world.data["work_orders"])
        let column = { (name: String) in workOrders.columns.firstIndex(of: name)! }
        let scheduled = RecordID(try #require(workOrders.rows.first { $0[column("assignee_id")] == technician.uuidString && $0[column("status")] == "scheduled" })[0]!)!
        let tech = try await world.phone(technician, .technician)
        for skipped in ["closed", "completed", "on_site"] {
            let outcome = try await tech.push("work_orders", scheduled, [("status", .state(StateValue(skipped)))])
            #expect(outcome.reason == "forbidden_transition", "scheduled → \(skipped): \(outcome)")
        }
        // The moves a phone makes still apply: the rep checks in, the technician sets off.
        #expect(try await phone.push("visits", visit, [("status", .state(StateValue("in_progress")))]).result == .applied)
        #expect(try await tech.push("work_orders", scheduled, [("status", .state(StateValue("en_route")))]).result != .rejected)
    }

    /// Item 3: a refusal of a row outside the caller's scope carries no server state.
    @Test("writing a foreign customer's credit limit is refused without its row")
    func refusalLeaksNothing() async throws {
        let world = try await HostileWorld.make("hostile-leak")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let other = try world.customers(of: rep).other
        let outcome = try await phone.push("customers", other, [("credit_limit_minor", .integer(1))])
        #expect(outcome.result == .rejected && outcome.reason == "forbidden_record")
        #expect(outcome.serverState == nil)
        // Another rep's order, the manager's user row.
        let manager = try world.users(.manager)[0]
        let user = try await phone.push("users", manager, [("name", .text("x"))])
        #expect(user.result == .rejected && user.serverState == nil)
        // In scope, the refusal may show the row: the rep sees it anyway.
        let own = try await phone.push("customers", try world.customers(of: rep).own, [("credit_limit_minor", .integer(1))])
        #expect(own.reason == "forbidden_field" && own.serverState != nil)
    }

    @Test("a fetch serves only what the caller may see: another territory's customer, an unknown table or id come back missing; too many refs is refused")
    func fetchLeaksNothing() async throws {
        let world = try await HostileWorld.make("hostile-fetch")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let customers = try world.customers(of: rep)
        let refs = [RecordRef(table: "customers", record: customers.own), RecordRef(table: "customers", record: customers.other),
                    RecordRef(table: "users", record: try world.users(.manager)[0]), RecordRef(table: "no_such_table", record: RecordID.random()),
                    RecordRef(table: "visits", record: RecordID.random())]
        let answer = try await world.send("/v1/fetch", .fetchRequest(FetchRequest(refs: refs)), token: phone.token)
        guard case .fetchResponse(let fetched) = answer.message else { throw HostileFailure("fetch answered \(answer.status): \(answer.message)") }
        #expect(fetched.snapshots.map(\.ref) == [refs[0]])
        #expect(Set(fetched.missing) == Set(refs.dropFirst()))
        // The JSON form says the same.
        let json = try await world.send("/v1/fetch", bytes: Array(Frame.json(.fetchRequest(FetchRequest(refs: [refs[1]]))).printed.utf8), token: phone.token, json: true)
        guard case .fetchResponse(let viaJSON) = json.message else { throw HostileFailure("fetch answered \(json.status): \(json.message)") }
        #expect(viaJSON.snapshots.isEmpty && viaJSON.missing == [refs[1]])
        // Over the limit, and the wrong message on the route.
        let many = (0...WireLimits.fetchRefsMax).map { _ in RecordRef(table: "visits", record: RecordID.random()) }
        let tooMany = try await world.send("/v1/fetch", .fetchRequest(FetchRequest(refs: many)), token: phone.token)
        #expect(tooMany.status == 400)
        let wrong = try await world.send("/v1/fetch", .pullRequest(PullRequest(cursors: [])), token: phone.token)
        #expect(wrong.status == 400)
        let anonymous = try await world.send("/v1/fetch", .fetchRequest(FetchRequest(refs: [refs[0]])), token: nil)
        #expect(anonymous.status == 401)
    }

    /// Item 4: new rows under another territory's parent, or under none.
    @Test("references must name a record the author may see")
    func foreignParents() async throws {
        let world = try await HostileWorld.make("hostile-parents")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let (own, other) = try world.customers(of: rep)
        let priceList = try world.row("price_lists", where: "currency", is: "USD")
        func order(_ customer: RecordID) -> [(String, FieldValue)] {
            [("customer_id", .id(customer)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)), ("currency", .text("USD")),
             ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(Self.ms))), ("status", .state(StateValue("draft")))]
        }
        let foreignOrder = RecordID.random()
        #expect(try await phone.push("sales_orders", foreignOrder, order(other)).reason == "unknown_reference")
        #expect(try await world.server("sales_orders", foreignOrder) == nil)
        func adHoc(_ customer: RecordID) -> [(String, FieldValue)] {
            [("customer_id", .id(customer)), ("assignee_id", .id(rep)), ("visit_type", .text("routine")), ("status", .state(StateValue("in_progress"))),
             ("creation_mode", .text("ad_hoc"))]
        }
        #expect(try await phone.push("visits", RecordID.random(), adHoc(other)).reason == "unknown_reference")
        #expect(try await phone.push("visits", RecordID.random(), adHoc(RecordID.random())).reason == "unknown_reference")
        // The same rows in the rep's own territory apply.
        #expect(try await phone.push("sales_orders", RecordID.random(), order(own)).result != .rejected)
        #expect(try await phone.push("visits", RecordID.random(), adHoc(own)).result != .rejected)
    }

    /// Item 5: identity comes from the token.
    @Test("author fields name the token's user, and an installation stays its user's")
    func identity() async throws {
        let world = try await HostileWorld.make("hostile-identity")
        let reps = try world.users(.rep)
        let (rep, colleague) = (reps[0], reps[1])
        let phone = try await world.phone(rep, .rep)
        let own = try world.customers(of: rep).own
        let priceList = try world.row("price_lists", where: "currency", is: "USD")
        let order = try await phone.push("sales_orders", RecordID.random(), [
            ("customer_id", .id(own)), ("created_by", .id(colleague)), ("price_list_id", .id(priceList)), ("currency", .text("USD")),
            ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(Self.ms))), ("status", .state(StateValue("draft"))),
        ])
        #expect(order.reason == "foreign_identity")
        let visit = try await phone.push("visits", RecordID.random(), [("customer_id", .id(own)), ("assignee_id", .id(colleague)), ("visit_type", .text("routine")),
                                                                       ("status", .state(StateValue("in_progress"))), ("creation_mode", .text("ad_hoc"))])
        #expect(visit.reason == "foreign_identity")
        let planned = try world.row("visits", where: "assignee_id", is: rep.uuidString)
        let event = try await phone.push("geo_events", RecordID.random(), [
            ("visit_id", .id(planned)), ("user_id", .id(colleague)), ("kind", .text("check_in")), ("device_time", .timestamp(Int64(Self.ms))),
            ("latitude_e6", .integer(40_750_000)), ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(15)), ("provider", .text("gps")),
            ("mock_location", .bool(false)),
        ])
        #expect(event.reason == "foreign_identity")

        // The colleague's installation cannot be taken over; the colleague keeps pushing.
        let installation = RecordID.random()
        let victim = try await world.phone(colleague, .rep, installation: installation)
        let thiefToken = phone.token
        let stolen = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: installation, appVersion: "1.0.0", platform: "test", schemaRevision: 1)),
                                          token: thiefToken)
        #expect(stolen.status == 403)
        let victimVisit = try world.row("visits", where: "assignee_id", is: colleague.uuidString)
        #expect(try await victim.push("visits", victimVisit, [("status", .state(StateValue("in_progress")))]).result != .rejected)
    }

    @Test("previous_replica takes no number: not a colleague's, not one past the integer range, not the server's, not on a database no restore began")
    func previousReplica() async throws {
        let world = try await HostileWorld.make("hostile-previous-replica")
        let reps = try world.users(.rep)
        let colleague = try await world.phone(reps[1], .rep)
        let phone = try await world.phone(reps[0], .rep)
        let taken = colleague.replica
        for claimed in [taken, ReplicaID(UInt32.max), ReplicaID(UInt32(Int32.max) + 1), .server, ReplicaID(taken.rawValue + 1)] {
            let answer = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0", platform: "test",
                                                                                              schemaRevision: 1, previousReplica: claimed)), token: phone.token)
            guard case .registerResponse(let registered) = answer.message else { Issue.record("\(claimed): \(answer)"); continue }
            #expect(registered.replica != claimed, "\(claimed) was given")
        }
    }

    /// Item 6: a backdated clock does not restore what its author lost.
    @Test("changes stamped before what the replica already pushed, or before its registration, are refused")
    func backdatedClocks() async throws {
        let world = try await HostileWorld.make("hostile-clocks")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let own = try world.customers(of: rep).own
        #expect(try await phone.push("customers", own, [("phone", .text("+1-212-555-0100"))]).result == .applied)
        let month: UInt64 = 30 * 86_400_000
        let backdated = try await phone.push("customers", own, [("phone", .text("+1-212-555-0199"))], at: Self.ms - month)
        #expect(backdated.reason == "clock_behind")
        // A fresh install cannot stamp before it registered either.
        let fresh = try await world.phone(rep, .rep)
        #expect(try await fresh.push("customers", own, [("phone", .text("+1-212-555-0198"))], at: Self.ms - month).reason == "clock_behind")
        // Within the drift, a clock a little behind is fine.
        #expect(try await fresh.push("customers", own, [("phone", .text("+1-212-555-0197"))], at: Self.ms - 60_000).result == .applied)
    }

    /// Item 8: U+0000 in text.
    @Test("U+0000 in a field is refused invalid_text; in a name, the request is malformed")
    func nul() async throws {
        let world = try await HostileWorld.make("hostile-nul")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let outcome = try await phone.push("customers", try world.customers(of: rep).own, [("street_address", .text("1 Main St\u{0}"))])
        #expect(outcome.reason == "invalid_text")
        let token = phone.token
        let register = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1\u{0}", platform: "test", schemaRevision: 1)),
                                            token: token)
        #expect(register.status == 400)
        let table = try await world.send("/v1/push", .pushRequest(PushRequest(batch: RecordID.random(), changeSets: [ChangeSet(id: ChangeID(RecordID.random()), changes: [
            phone.change("customers\u{0}", RecordID.random(), [("name", .text("x"))]),
        ])])), token: token)
        #expect(table.status == 400)
    }
}

/// Issue 14, items 7, 10 and 11: the office's inputs, overrides and tokens.
@Suite("Hostile office and tokens")
struct HostileOfficeTests {
    /// Item 7: an over-long office text is refused up front, and nothing it stored can stop the
    /// review queue.
    @Test("an over-long office text is refused as invalid, and an unreadable stored change does not stop the reviews")
    func overLongText() async throws {
        let world = try await HostileWorld.make("hostile-office-text")
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let customer = try world.customers(of: try world.rep).own
        let visit = SyncStore.NewVisit(plan: nil, customer: customer, assignee: try world.rep, visitType: "routine", plannedStart: Int64(HostileWorld.now),
                                       plannedEnd: Int64(HostileWorld.now) + 1_800_000, instructions: String(repeating: "x", count: 5_000), tasks: [])
        await #expect { try await world.store.createVisit(visit, by: dispatcher) } throws: { ($0 as? SyncStore.OfficeError)?.code == .invalid }
        #expect(try await world.store.reviews(limit: SyncStore.listPageMax, by: dispatcher).items.allSatisfy { $0.change == nil || $0.change!.table != "visits" })
        // A decision stored by an older build with a change this build cannot read.
        try await world.pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, server_time, change, review)
            VALUES ($1, 'visits', $2, 'too_long', 'rejected', 'x', 0, $3, 'open')
            """, [world.tenant.uuidString, RecordID.random().uuidString, [UInt8](repeating: 0xFF, count: 64)])
        let reviews = try await world.store.reviews(limit: SyncStore.listPageMax, by: dispatcher).items
        #expect(reviews.contains { $0.rule == "too_long" && $0.change == nil })
    }

    /// Item 10: an override sets aside the rule that refused a change, never its author's rights.
    @Test("a manager's phone decides only its team's weekly plans and orders and comments only on its team's contacts: another team's is refused as forbidden_record, as the office API refuses it")
    func decisionsOutsideTheTeam() async throws {
        let world = try await HostileWorld.make("hostile-team")
        let rep = try world.rep
        let phone = try await world.phone(rep, .rep)
        let manager = try world.users(.manager)[0]
        // A second manager, with no one under them.
        let stranger = RecordID.random()
        try await world.seed("users", stranger, [("role", .text("manager")), ("name", .text("Sam Other")), ("email", .text("sam@example.com"))])
        let strangersPhone = try await world.phone(stranger, .manager)
        let managersPhone = try await world.phone(manager, .manager)

        // The rep's weekly plan, submitted.
        let plan = RecordID.random()
        let week = Int64(HostileWorld.now) + 7 * 86_400_000
        #expect(try await phone.push("week_plans", plan, [("rep_id", .id(rep)), ("week_start", .timestamp(week)), ("status", .state(StateValue("draft")))]).result == .applied)
        world.clock.advance(by: 1_000)
        #expect(try await phone.push("week_plans", plan, [("status", .state(StateValue("submitted")))]).result == .applied)
        world.clock.advance(by: 1_000)
        let plansRefusal = try await strangersPhone.push("week_plans", plan, [("status", .state(StateValue("approved"))), ("decided_by", .id(stranger))])
        #expect(plansRefusal.result == .rejected && plansRefusal.reason == "forbidden_record", "\(plansRefusal)")
        #expect(try await world.server("week_plans", plan)?.state()?.name == "submitted")

        // The rep's order, waiting for approval.
        let order = RecordID.random()
        let draft = try await phone.push("sales_orders", order, [("customer_id", .id(try world.customers(of: rep).own)), ("created_by", .id(rep)),
                                                                 ("price_list_id", .id(try world.row("price_lists", where: "currency", is: "USD"))),
                                                                 ("currency", .text("USD")), ("tax_inclusive", .bool(false)), ("order_date", .timestamp(Int64(HostileWorld.now))),
                                                                 ("status", .state(StateValue("draft")))])
        #expect(draft.result != .rejected, "\(draft)")
        try await world.seed("sales_orders", order, [("status", .state(StateValue("pending_approval")))])
        world.clock.advance(by: 1_000)
        let ordersRefusal = try await strangersPhone.push("sales_orders", order, [("status", .state(StateValue("confirmed"))), ("approval_state", .text("approved"))])
        #expect(ordersRefusal.result == .rejected && ordersRefusal.reason == "forbidden_record", "\(ordersRefusal)")
        #expect(try await world.server("sales_orders", order)?.state()?.name == "pending_approval")

        // The rep's contact record: no comment from another team's manager.
        let contact = RecordID.random()
        #expect(try await phone.push("contact_records", contact, [("customer_id", .id(try world.customers(of: rep).own)), ("author_id", .id(rep)),
                                                                  ("channel", .text("phone")), ("notes", .text("wants the new range"))]).result == .applied)
        let comment = RecordID.random()
        let commentsRefusal = try await strangersPhone.push("manager_comments", comment, [("contact_record_id", .id(contact)), ("author_id", .id(stranger)),
                                                                                          ("body", .text("call them back"))])
        #expect(commentsRefusal.result == .rejected && commentsRefusal.reason == "forbidden_record", "\(commentsRefusal)")
        #expect(try await world.server("manager_comments", comment) == nil)

        // The rep's own manager decides all three.
        world.clock.advance(by: 1_000)
        let approvals = try await managersPhone.push([
            managersPhone.change("week_plans", plan, [("status", .state(StateValue("approved"))), ("decided_by", .id(manager))]),
            managersPhone.change("sales_orders", order, [("status", .state(StateValue("confirmed"))), ("approval_state", .text("approved"))]),
            managersPhone.change("manager_comments", comment, [("contact_record_id", .id(contact)), ("author_id", .id(manager)), ("body", .text("call them back"))]),
        ])
        #expect(approvals.allSatisfy { $0.result != .rejected }, "\(approvals)")
        #expect(try await world.server("week_plans", plan)?.state()?.name == "approved")
        #expect(try await world.server("sales_orders", order)?.state()?.name == "confirmed")
    }

    @Test("a token issued before one of its user's phones was revoked registers no new installation, so whoever holds the lost phone's token cannot move to another; the user's other phones go on, and a token issued after registers")
    func revokedPhonesTokenRegistersNothingNew() async throws {
        let world = try await HostileWorld.make("hostile-revoked-token")
        let rep = try world.rep
        let lost = try await world.phone(rep, .rep)
        let otherInstallation = RecordID.random()
        let other = try await world.phone(rep, .rep, installation: otherInstallation)
        // The server lets a token issued within a second of the revocation pass (identity
        // providers give whole seconds): the revocation comes more than a second later.
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await world.store.revokeDevice(lost.replica, wipe: false, tenant: world.tenant))
        let elsewhere = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0", platform: "test",
                                                                                               schemaRevision: 1)), token: lost.token)
        #expect(elsewhere.status == 403, "\(elsewhere)")
        guard case .error(let error) = elsewhere.message else { throw HostileFailure("register answered \(elsewhere.message)") }
        #expect(error.code == "device_revoked", "\(error)")
        // The other phone, registered before, goes on with its token of the same age.
        let pulled = try await world.send("/v1/pull", .pullRequest(PullRequest(cursors: [], replica: other.replica)), token: other.token)
        #expect(pulled.status == 200, "\(pulled)")
        let again = try await world.send("/v1/register", .registerRequest(RegisterRequest(installation: otherInstallation, appVersion: "1.0.1", platform: "test", schemaRevision: 1)), token: other.token)
        #expect(again.status == 200, "\(again)")
        // Signed in again after the revocation: a new phone registers.
        try await Task.sleep(for: .milliseconds(1_100))
        let fresh = try await world.phone(rep, .rep)
        #expect(fresh.replica != lost.replica)
    }

    @Test("overriding a rep's refused assignment does not reassign the visit")
    func overrideKeepsRights() async throws {
        let world = try await HostileWorld.make("hostile-override")
        let reps = try world.users(.rep)
        let phone = try await world.phone(reps[0], .rep)
        let visit = try world.row("visits", where: "assignee_id", is: reps[0].uuidString)
        let refused = try await phone.push("visits", visit, [("assignee_id", .id(reps[1]))])
        #expect(refused.reason == "forbidden_field")
        let manager = SyncStore.OfficeUser(user: try world.users(.manager)[0], role: .manager, tenant: world.tenant)
        let item = try #require(try await world.store.reviews(limit: SyncStore.listPageMax, by: manager).items.first { $0.change?.id == refused.change })
        await #expect { try await world.store.resolve(item.id, .override, comment: "he asked", by: manager) } throws: {
            ($0 as? SyncStore.OfficeError)?.code == .rejected
        }
        #expect(try await world.server("visits", visit)?.id("assignee_id") == reps[0])
    }

    /// Item 11: tokens signed with the real secret but claiming the future or another algorithm.
    @Test("tokens valid only later, issued in the future, or claiming RS256 are refused")
    func tokens() async throws {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: SyncRoutesTests.secret), digestAlgorithm: .sha256)
        let authority = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let now = Date()
        func token(iat: Date = now, nbf: Date? = nil, alg: String? = nil) async throws -> String {
            var header = JWTHeader()
            header.alg = alg
            return try await keys.sign(ForgedPayload(sub: SubjectClaim(value: RecordID.random().uuidString), tid: RecordID.random().uuidString, role: "rep",
                                                     exp: ExpirationClaim(value: now.addingTimeInterval(3_600)), iat: IssuedAtClaim(value: iat),
                                                     nbf: nbf.map { NotBeforeClaim(value: $0) }), header: header)
        }
        _ = try await authority.verify(try await token())
        for (name, forged) in [("nbf a day ahead", try await token(nbf: now.addingTimeInterval(86_400))),
                               ("iat a year ahead", try await token(iat: now.addingTimeInterval(365 * 86_400))),
                               ("RS256 in the header", try await token(alg: "RS256"))] {
            await #expect(throws: TokenError.self, "\(name)") { try await authority.verify(forged) }
        }
        // An HMAC-signed token that claims RS256 or "none" is no identity provider's token either.
        for alg in ["RS256", "ES256", "none"] {
            let forged = try await token(alg: alg)
            await #expect(throws: TokenError.self, "\(alg)") { _ = try await authority.verifyAny(forged) }
        }
    }

    /// Issue 21, item 1 (its first part): a token must name a user of its tenant, in that user's role.
    @Test("a well-signed token for a user the tenant does not have, of another tenant, or in a role the user does not hold is refused")
    func tokensForNobody() async throws {
        let world = try await HostileWorld.make("hostile-nobody")
        let rep = try world.rep
        let register = try Frame.encode(.registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0", platform: "test",
                                                                         schemaRevision: UInt64(FieldSalesSchema.schema.revision))), compress: true)
        let refused = [("no such user", try await world.tokens.issue(user: RecordID.random(), tenant: world.tenant, role: .rep)),
                       ("another tenant", try await world.tokens.issue(user: rep, tenant: RecordID.random(), role: .rep)),
                       ("a role not the user's", try await world.tokens.issue(user: rep, tenant: world.tenant, role: .manager))]
        for (name, token) in refused {
            let (status, body) = await world.service.respond(route: "/v1/register", authorization: "Bearer \(token)", body: register)
            #expect(status == 401, "\(name)")
            guard case .error(let error) = try Frame.decode(body) else { Issue.record("\(name): not an error"); continue }
            #expect(error.code == "unauthorized", "\(name)")
            let blob = await world.service.respondBlob(method: "HEAD", sha256: String(repeating: "a", count: 64), authorization: "Bearer \(token)")
            #expect(blob.status == 401 && blob.errorCode == "unauthorized", "\(name)")
        }
        let honest = try await world.tokens.issue(user: rep, tenant: world.tenant, role: .rep)
        #expect(await world.service.respond(route: "/v1/register", authorization: "Bearer \(honest)", body: register).status == 200)
    }

    struct ForgedPayload: JWTPayload {
        var sub: SubjectClaim
        var tid: String
        var role: String
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nbf: NotBeforeClaim?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }
}
