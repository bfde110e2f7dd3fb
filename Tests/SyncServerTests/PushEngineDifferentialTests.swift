import DemoData
import FieldModel
import Foundation
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// Issue 16, same answers: the set-based push engine applies a push's change sets in one
/// transaction through one working set, and must answer exactly as if each change set were its
/// own transaction. Seeded traffic — a rep's days (check-ins kilometres apart or at another
/// check-in's exact spot, orders submitted, payments, duplicate
/// receipts, check-outs, completions, corrections) and a technician's, mixed with hostile change
/// sets our phone never sends — goes in pushes of 1 to 40 change sets to two fresh worlds: one
/// whose store applies each change set alone (`pushBatchMax: 1`) and one that batches. Every
/// outcome (result, reason, findings), every decision, every bucket membership, and every
/// record's stored values must be the same.
///
/// `FIELDSYNC_DIFFERENTIAL_SEEDS` (default 3) and `FIELDSYNC_DIFFERENTIAL_PUSHES` (default 12)
/// scale it; `FIELDSYNC_DIFFERENTIAL_SEED=<n>` replays one seed.
@Suite("Push engine, differential")
struct PushEngineDifferentialTests {
    @Test("a push applied as one set answers and stores exactly what change set after change set does",
          .timeLimit(.minutes(30)), arguments: seeds("FIELDSYNC_DIFFERENTIAL", default: 3))
    func sameAnswers(seed: UInt64) async throws {
        let pushes = ProcessInfo.processInfo.environment["FIELDSYNC_DIFFERENTIAL_PUSHES"].flatMap(Int.init) ?? 12
        let alone = try await HostileWorld.make("differential-alone-\(seed)", pushBatchMax: 1)
        let together = try await HostileWorld.make("differential-together-\(seed)")
        let replay = "seed \(seed) (FIELDSYNC_DIFFERENTIAL_SEED=\(seed))"
        var traffic = try DayTraffic(seed: seed, world: alone)
        // The same devices in both worlds: registered in the same order, so with the same replicas.
        let rep = try alone.rep
        let technician = try alone.users(.technician)[0]
        let phones = [(try await alone.phone(rep, .rep), try await together.phone(rep, .rep)),
                      (try await alone.phone(technician, .technician), try await together.phone(technician, .technician))]
        try #require(phones.allSatisfy { $0.0.replica == $0.1.replica })
        var counts: [String: Int] = [:]
        for index in 0..<pushes {
            let actor = index % 3 == 2 ? 1 : 0
            let phone = phones[actor].0
            let changeSets = traffic.push(for: phone, role: actor == 0 ? .rep : .technician, now: alone.clock.now())
            alone.clock.advance(by: 60_000)
            together.clock.advance(by: 60_000)
            let author = SyncStore.Author(role: actor == 0 ? .rep : .technician, user: phone.user, now: alone.clock.now())
            let submissions = changeSets.map { SyncStore.Submission($0, replica: phone.replica) }
            let one = try await alone.store.push(submissions, batch: RecordID.random(), author: author, tenant: alone.tenant)
            let set = try await together.store.push(submissions, batch: RecordID.random(), author: author, tenant: together.tenant)
            for (position, (a, b)) in zip(one, set).enumerated() {
                let (left, right) = (a.outcomes.map(Self.summary), b.outcomes.map(Self.summary))
                let same = left == right
                #expect(same, "\(replay), push \(index), change set \(position) (\(traffic.log[changeSets[position].id] ?? "")): \(left) against \(right)")
                for outcome in a.outcomes { counts[outcome.reason ?? outcome.result.name, default: 0] += 1 }
            }
        }
        // Rejections, exceptions and plain applies all occurred: the traffic exercised the rules.
        #expect((counts["applied"] ?? 0) > 0 && (counts["applied_with_exception"] ?? 0) > 0 && counts.keys.count > 3, "\(replay): \(counts)")
        for (name, query) in Self.digests {
            let a = try await Self.digest(query, alone)
            let b = try await Self.digest(query, together)
            let same = a == b
            #expect(same, "\(replay): \(name) differ: \(a.subtracting(b).sorted().prefix(3)) against \(b.subtracting(a).sorted().prefix(3))")
        }
        for table in FieldSalesSchema.schema.tables {
            let a = try await Self.records(table, alone)
            let b = try await Self.records(table, together)
            let same = a == b
            #expect(same, "\(replay): \(table.name) differs: \(a.subtracting(b).sorted().prefix(2)) against \(b.subtracting(a).sorted().prefix(2))")
        }
    }

    /// What must match of an outcome: the result, the reason and each finding's rule.
    static func summary(_ outcome: ChangeOutcome) -> String {
        "\(outcome.result.name) \(outcome.reason ?? "-") \(outcome.findings.map(\.rule).joined(separator: ","))"
    }

    /// Bookkeeping compared as sets of rows (server-minted ids left out).
    static let digests: [(String, String)] = [
        ("memberships", "SELECT count(*) || ' ' || bucket || ' ' || tbl || ' ' || \(Self.unminted) FROM row_buckets WHERE tenant_id = $1 GROUP BY bucket, tbl, \(Self.unminted)"),
        ("departures", "SELECT count(*) || ' ' || bucket || ' ' || tbl || ' ' || \(Self.unminted) FROM row_departures WHERE tenant_id = $1 GROUP BY bucket, tbl, \(Self.unminted)"),
        ("decisions", "SELECT count(*) || ' ' || tbl || ' ' || rule || ' ' || result || ' ' || coalesce(review, '-') FROM decisions WHERE tenant_id = $1 GROUP BY tbl, rule, result, review"),
        ("answers", "SELECT change_id::text FROM applied_changes WHERE tenant_id = $1"),
        ("conflicts", "SELECT count(*) || ' ' || tbl || ' ' || field FROM conflicts WHERE tenant_id = $1 GROUP BY tbl, field"),
    ]

    /// A row's id, or nothing for the tables whose ids the server mints.
    static let unminted = "CASE WHEN tbl IN ('stock_ledger', 'last_prices') THEN '' ELSE id::text END"

    static func digest(_ query: String, _ world: HostileWorld) async throws -> Set<String> {
        Set(try await world.pool.query(query, [world.tenant.uuidString]).map { try $0.read(0, as: String.self) })
    }

    /// Every row's field values (not their versions, which carry the server's clock), keyed by
    /// id unless the server minted the id (a stock ledger entry, a new last price).
    static func records(_ table: TableSchema, _ world: HostileWorld) async throws -> Set<String> {
        let columns = table.fields.map { "coalesce(\($0.name)::text, '∅')" }.joined(separator: " || '|' || ")
        let minted = ["stock_ledger", "last_prices"].contains(table.name)
        let rows = try await world.pool.query("SELECT \(minted ? "''" : "id::text") || ' ' || \(columns) || ' ' || _deleted::text FROM \(table.name) WHERE tenant_id = $1",
                                              [world.tenant.uuidString])
        var seen: [String: Int] = [:]
        return Set(try rows.map { row in
            let text = try row.read(0, as: String.self)
            seen[text, default: 0] += 1
            return "\(text) #\(seen[text]!)"
        })
    }
}

/// Seeded pushes of a rep's and a technician's day: valid work in the order a phone makes it,
/// with a hostile change set now and then.
struct DayTraffic {
    var random: SplitMix64
    var hostile: HostileTraffic
    let visits: [(id: RecordID, customer: RecordID)]
    let products: [RecordID]
    let priceList: RecordID
    let workOrders: [RecordID]
    /// What each user may and may not see, for the hostile change sets.
    let targets: [RecordID: Target]
    var orders: [RecordID] = []
    /// The latitudes of earlier check-ins: one check-in in four stands exactly where an earlier
    /// one stood (another store's coordinates, when at another visit).
    var latitudes: [Int64] = []
    /// What each change set is, for a failure's message.
    var log: [ChangeID: String] = [:]

    init(seed: UInt64, world: HostileWorld) throws {
        random = SplitMix64(seed: seed)
        hostile = HostileTraffic(seed: seed, schema: FieldSalesSchema.schema)
        let rep = try world.rep
        let visits = try #require(world.data["visits"])
        let customer = try #require(visits.columns.firstIndex(of: "customer_id"))
        let assignee = try #require(visits.columns.firstIndex(of: "assignee_id"))
        self.visits = visits.rows.filter { $0[assignee] == rep.uuidString }.prefix(40).map { (RecordID($0[0]!)!, RecordID($0[customer]!)!) }
        products = try #require(world.data["products"]).rows.prefix(30).map { RecordID($0[0]!)! }
        priceList = try world.row("price_lists", where: "currency", is: "USD")
        let technician = try world.users(.technician)[0]
        let workOrders = try #require(world.data["work_orders"])
        let workAssignee = try #require(workOrders.columns.firstIndex(of: "assignee_id"))
        self.workOrders = workOrders.rows.filter { $0[workAssignee] == technician.uuidString }.prefix(10).map { RecordID($0[0]!)! }
        targets = [rep: try HostileTrafficTests.target(world, rep, .rep), technician: try HostileTrafficTests.target(world, technician, .technician)]
        try #require(!self.visits.isEmpty && !self.workOrders.isEmpty)
    }

    mutating func id() -> RecordID { RecordID(high: (random.next() & ~0xF000) | 0x7000, low: random.next()) }

    /// The change sets of one push: 1 to 40, a day's work in order.
    mutating func push(for phone: HostileWorld.Phone, role: Role, now: UInt64) -> [ChangeSet] {
        let count = Int(random.next() % 40) + 1
        var sets: [ChangeSet] = []
        var clock = now
        for _ in 0..<count {
            clock += 1_000
            let (changes, what) = role == .rep ? repWork(phone, at: clock) : technicianWork(phone, at: clock)
            let changeSet = ChangeSet(id: ChangeID(id()), changes: changes)
            // What the routes refuse before the store — a clock ahead of the server's (409), a NUL
            // in a name — never reaches it.
            guard changes.allSatisfy({ $0.version.clock.milliseconds <= now + 300_000 }) else { continue }
            guard (try? Frame.decode(Frame.encode(.pushRequest(PushRequest(batch: changeSet.id.uuid, changeSets: [changeSet]))))) != nil else { continue }
            log[changeSet.id] = what
            sets.append(changeSet)
        }
        return sets
    }

    mutating func change(_ phone: HostileWorld.Phone, _ table: String, _ record: RecordID, _ fields: [(String, FieldValue)], at clock: UInt64, _ counter: Int = 0) -> Change {
        Change(id: ChangeID(id()), table: table, record: record, operation: .write(fields.map { FieldWrite($0.0, $0.1) }),
               version: Version(clock: HLC(milliseconds: clock, counter: UInt16(counter)), replica: phone.replica))
    }

    mutating func repWork(_ phone: HostileWorld.Phone, at clock: UInt64) -> ([Change], String) {
        let visit = visits[Int(random.next() % UInt64(visits.count))]
        let time = Int64(clock)
        switch random.next() % 12 {
        case 0, 1:
            let event = id()
            // Kilometres apart, seconds apart: travel too fast to be true, judged against the
            // check-ins just before, in the same push or an earlier one.
            let latitude = !latitudes.isEmpty && random.next() % 4 == 0
                ? latitudes[Int(random.next() % UInt64(latitudes.count))] : 40_700_000 + Int64(random.next() % 100_000)
            latitudes.append(latitude)
            return ([change(phone, "geo_events", event, [("visit_id", .id(visit.id)), ("user_id", .id(phone.user)), ("kind", .text("check_in")),
                                                          ("device_time", .timestamp(time)), ("latitude_e6", .integer(latitude)),
                                                          ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(12)), ("provider", .text("gps")),
                                                          ("mock_location", .bool(false))], at: clock),
                     change(phone, "visits", visit.id, [("status", .state(StateValue("in_progress"))), ("actual_start", .timestamp(time)),
                                                        ("executed_by", .id(phone.user))], at: clock, 1)], "check-in")
        case 2, 3:
            let order = id()
            orders.append(order)
            var changes = [change(phone, "sales_orders", order, [("customer_id", .id(visit.customer)), ("visit_id", .id(visit.id)), ("created_by", .id(phone.user)),
                                                                 ("price_list_id", .id(priceList)), ("currency", .text("USD")), ("tax_inclusive", .bool(false)),
                                                                 ("order_date", .timestamp(time)), ("status", .state(StateValue("draft")))], at: clock)]
            for line in 0..<Int(random.next() % 4 + 1) {
                // Few products, so that orders of one customer share them: the last price one
                // confirm writes is the row the next confirm of the push updates.
                changes.append(change(phone, "order_lines", id(), [("order_id", .id(order)), ("product_id", .id(products[Int(random.next() % UInt64(min(products.count, 3)))])),
                                                                   ("quantity", .integer(Int64(random.next() % 9 + 1))),
                                                                   ("discount_bp", .integer(random.next() % 5 == 0 ? 2_500 : 0))], at: clock, line + 1))
            }
            return (changes, "an order with \(changes.count - 1) line(s)")
        case 4, 5:
            guard !orders.isEmpty else { return repWork(phone, at: clock) }
            // Mostly a recent order, so that an order is often created and submitted in one push.
            let order = random.next() % 2 == 0 ? orders[orders.count - 1 - Int(random.next() % UInt64(min(orders.count, 3)))]
                : orders[Int(random.next() % UInt64(orders.count))]
            return ([change(phone, "sales_orders", order, [("status", .state(StateValue("submitted"))), ("device_total_minor", .integer(Int64(random.next() % 100_000)))],
                            at: clock)], "a submit")
        case 6:
            guard !orders.isEmpty else { return repWork(phone, at: clock) }
            // A recent order, so that an order's payments often fall in one push.
            let order = orders[orders.count - 1 - Int(random.next() % UInt64(min(orders.count, 3)))]
            // Receipt numbers repeat now and then: the second is refused.
            return ([change(phone, "payments", id(), [("order_id", .id(order)), ("amount_minor", .integer(Int64(random.next() % 50_000 + 1))),
                                                      ("method", .text("cash")), ("receipt_number", .text("R-\(random.next() % 4)")),
                                                      ("collected_by", .id(phone.user)), ("collected_at", .timestamp(time))], at: clock)], "a payment")
        case 7:
            return ([change(phone, "geo_events", id(), [("visit_id", .id(visit.id)), ("user_id", .id(phone.user)), ("kind", .text("check_out")),
                                                        ("device_time", .timestamp(time)), ("latitude_e6", .integer(40_750_000)), ("longitude_e6", .integer(-73_990_000)),
                                                        ("accuracy_m", .integer(12)), ("provider", .text("gps")), ("mock_location", .bool(false))], at: clock),
                     change(phone, "visits", visit.id, [("actual_end", .timestamp(time))], at: clock, 1)], "check-out")
        case 8:
            return ([change(phone, "visits", visit.id, [("status", .state(StateValue("completed")))], at: clock)], "complete")
        case 9:
            return ([change(phone, "customers", visit.customer, [("phone", .text("+1-212-555-\(1_000 + random.next() % 9_000)"))], at: clock)], "a correction")
        default:
            let step = hostileStep(phone, at: clock)
            return (step.changeSet.changes, "hostile: \(step.description)")
        }
    }

    mutating func hostileStep(_ phone: HostileWorld.Phone, at clock: UInt64) -> HostileTraffic.Step {
        let target = targets[phone.user]!
        return hostile.next(for: HostileTraffic.Target(user: phone.user, replica: phone.replica, own: target.own, foreign: target.foreign, others: target.others), now: clock)
    }

    mutating func technicianWork(_ phone: HostileWorld.Phone, at clock: UInt64) -> ([Change], String) {
        let order = workOrders[Int(random.next() % UInt64(workOrders.count))]
        switch random.next() % 4 {
        case 0:
            return ([change(phone, "work_orders", order, [("status", .state(StateValue("on_site"))), ("actual_start", .timestamp(Int64(clock)))], at: clock)], "on site")
        case 1:
            return ([change(phone, "work_orders", order, [("status", .state(StateValue("completed")))], at: clock)], "work order completed")
        default:
            let step = hostileStep(phone, at: clock)
            return (step.changeSet.changes, "hostile: \(step.description)")
        }
    }
}
