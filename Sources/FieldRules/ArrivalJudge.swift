import FieldModel
import PostgresDriver
import SyncEngine
import SyncCore

/// The rules of DOMAIN.md §4, run on every change set as it arrives: facts captured on the phone
/// (time, place, photo, signature) are judged as of device time, money and stock as of arrival.
///
/// A judge lives for one pass over one change set (``FieldSalesRules`` makes one per call):
/// - ``screen(_:states:on:)`` before the merge, for the rules that refuse a change (an edit to a
///   submitted order, a receipt number already recorded): the change goes to quarantine with the
///   server's value and applies nothing (``refusals``);
/// - ``judge(_:original:merged:on:)`` after the merge, for the rules that flag a change
///   (`applied_with_exception`) and for the server's own consequent writes (a check-in's
///   verification, an order's prices and route, a customer's merge), collected in ``judgement``.
///
/// The engine records every decision; the judge only says what it decided. It reads records
/// through the push's ``ArrivalReads``, which sees every earlier change set of the push.
struct ArrivalJudge {
    /// The push's records and queries.
    let reads: any ArrivalReads
    var tenant: RecordID { reads.tenant }
    let author: SyncStore.Author?
    let replica: ReplicaID
    /// The arrival time, in milliseconds since the epoch.
    let now: Int64

    /// The changes refused by ``screen(_:states:on:)``, in order.
    private(set) var refusals: [Refusal] = []
    /// The flags, notes and derived writes of ``judge(_:original:merged:on:)``.
    private(set) var judgement = Judgement()
    /// The server's writes that follow from the rules, applied after the change set as one of its own.
    var derived: DerivedWrites {
        get { judgement.derived }
        set { judgement.derived = newValue }
    }
    /// The merged states of the change set's records, read first by ``record(_:_:on:)``.
    private var merged: [String: [RecordID: RecordState]] = [:]
    /// Customers merged away in this change set, and the customer each now points at.
    var mergedAway: [RecordID: RecordID] = [:]
    /// Payments of this change set not judged yet: a payment is judged against the ones before it.
    var unjudgedPayments: Set<RecordID> = []

    init(_ arrival: Arrival) {
        self.reads = arrival.reads
        self.author = arrival.author
        self.replica = arrival.replica
        self.now = arrival.now
    }

    /// Refuses `change`: it applies nothing and waits in quarantine.
    mutating func reject(_ change: Change, _ finding: RuleFinding, serverState: RecordState?) {
        refusals.append(Refusal(change, finding, serverState: serverState))
    }

    /// Flags `change`: it applies, with an exception for review.
    mutating func flag(_ change: Change, _ finding: RuleFinding) {
        judgement.flags.append((change.id, finding))
    }

    /// Records a decision that flags nothing.
    mutating func note(_ change: Change?, _ table: String, _ record: RecordID, _ finding: RuleFinding) {
        judgement.notes.append(Judgement.Note(change: change, table: table, record: record, finding: finding))
    }

    // MARK: - Before the merge

    /// The rules that refuse (``refusals``): returns the changes that pass.
    mutating func screen(_ changes: [Change], states: [String: [RecordID: RecordState]], on db: isolated PostgresConnection) async throws -> [Change] {
        guard author != nil else { return changes }
        // A manager decides for their team only (ArrivalJudge+Team.swift).
        let changes = try await refuseOutsideTeam(changes, states: states, on: db)
        // An order's status as of arrival, followed through the change set (a reopen, then edits).
        var orderIDs = Set<RecordID>()
        for change in changes {
            if change.table == "sales_orders" { orderIDs.insert(change.record) }
            if change.table == "order_lines", let order = change.written("order_id").flatMap(Self.id) ?? states["order_lines"]?[change.record]?.id("order_id") {
                orderIDs.insert(order)
            }
        }
        let orders = try await reads.states("sales_orders", Array(orderIDs), on: db)
        var status = orders.compactMapValues { $0.state()?.name }
        // A weekly plan's status, followed the same way: its proposed visits change only in a draft.
        var planIDs = Set<RecordID>()
        for change in changes where change.table == "week_plan_visits" {
            if let plan = change.written("week_plan_id").flatMap(Self.id) ?? states["week_plan_visits"]?[change.record]?.id("week_plan_id") { planIDs.insert(plan) }
        }
        let plans = try await reads.states("week_plans", Array(planIDs), on: db)
        var planStatus = plans.compactMapValues { $0.state()?.name }
        var receipts: [RecordID: Set<String>] = [:]
        var refusedOrders: Set<RecordID> = []
        var kept: [Change] = []
        for change in changes {
            switch change.table {
            case "sales_orders":
                // §6: a blocked customer takes no new order.
                if change.creates(given: orders[change.record]), let customerID = change.written("customer_id").flatMap(Self.id),
                   let customer = try await reads.state("customers", customerID, on: db), customer.text("status") == "blocked" {
                    refusedOrders.insert(change.record)
                    reject(change, RuleFinding(.customerBlocked, "the customer is blocked: it takes no new order until the office unblocks it"), serverState: nil)
                    continue
                }
                let terms = Self.writtenFields(change).subtracting(["status", "approval_state"])
                if let current = status[change.record], !Self.editable(current), !terms.isEmpty || change.operation == .delete {
                    reject(change, RuleFinding(.orderLocked, "the order is \(current); its lines and terms can no longer change"), serverState: orders[change.record])
                    continue
                }
                if let written = change.writtenState() { status[change.record] = written }
            case "order_lines":
                let order = change.written("order_id").flatMap(Self.id) ?? states["order_lines"]?[change.record]?.id("order_id")
                if let order, refusedOrders.contains(order) {
                    reject(change, RuleFinding(.customerBlocked, "the line's order was refused: its customer is blocked"), serverState: nil)
                    continue
                }
                if let order, let current = status[order], !Self.editable(current) {
                    reject(change, RuleFinding(.orderLocked, "the order is \(current); its lines can no longer change"),
                           serverState: states["order_lines"]?[change.record] ?? orders[order])
                    continue
                }
            case "week_plans":
                if let written = change.writtenState() { planStatus[change.record] = written }
            case "week_plan_visits":
                let plan = change.written("week_plan_id").flatMap(Self.id) ?? states["week_plan_visits"]?[change.record]?.id("week_plan_id")
                if let plan, let current = planStatus[plan], current != "draft" {
                    reject(change, RuleFinding(.weekPlanLocked, "the weekly plan is \(current); its visits change only while it is a draft (reopen a returned plan first)"),
                           serverState: states["week_plan_visits"]?[change.record] ?? plans[plan])
                    continue
                }
            case "payments":
                guard change.creates(given: states["payments"]?[change.record]), let order = change.written("order_id").flatMap(Self.id),
                      case .text(let receipt)? = change.written("receipt_number") else { break }
                if receipts[order] == nil {
                    receipts[order] = Set(try await reads.rows("payments", where: "order_id", is: order, on: db).values.compactMap { $0.text("receipt_number") })
                }
                if receipts[order]!.contains(receipt) {
                    reject(change, RuleFinding(.duplicateReceipt, "receipt \(receipt) is already recorded for this order; the first payment stands"), serverState: nil)
                    continue
                }
                receipts[order]!.insert(receipt)
            default:
                break
            }
            kept.append(change)
        }
        return kept
    }

    /// Whether an order's lines and terms may change in this state.
    static func editable(_ status: String) -> Bool { status == "draft" || status == "rejected" }

    // MARK: - After the merge

    /// The rules that flag, and the server's consequent writes.
    mutating func judge(_ changes: [Change], original: [String: [RecordID: RecordState]], merged: [String: [RecordID: RecordState]],
                        on db: isolated PostgresConnection) async throws {
        self.merged = merged
        unjudgedPayments = Set(changes.filter { $0.table == "payments" }.map(\.record))
        // Customers first: a duplicate merged here is followed by the rest of the change set.
        let ordered = changes.filter { $0.table == "customers" } + changes.filter { $0.table != "customers" }
        for change in ordered {
            let before = original[change.table]?[change.record]
            guard let after = merged[change.table]?[change.record] else { continue }
            switch change.table {
            case "customers": try await customer(change, before: before, after: after, on: db)
            case "geo_events": try await geoEvent(change, after, on: db)
            case "visits": try await visit(change, before: before, after: after, on: db)
            case "visit_tasks": try await visitTask(change, after, on: db)
            case "week_plans": try await weekPlan(change, before: before, after: after, on: db)
            case "shelf_stock_counts": try await insideVisit(change, visit: after.id("visit_id"), on: db)
            case "sales_orders": try await order(change, before: before, after: after, on: db)
            case "payments": try await payment(change, before: before, after, on: db)
            case "work_orders": try await workOrder(change, before: before, after: after, on: db)
            case "parts_used": try await partUsed(change, after, on: db)
            case "step_answers": try await stepAnswer(change, after, on: db)
            case "meter_readings": try await meterReading(change, after, on: db)
            case "attachments": try await attachment(change, before: before, after: after, on: db)
            default: break
            }
            try await followMerges(change, on: db)
            // The office set a state the record had already moved past: the later state stands.
            if let author, !FieldSalesDomain.confines(author.role), let written = change.writtenState(), let kept = after.state()?.name, kept != written {
                flag(change, RuleFinding(.stateOvertaken, "the record is already \(kept); \(written) was not applied"))
            }
        }
    }

    /// A record as it stands in this transaction: merged states first, then the database.
    func record(_ table: String, _ id: RecordID?, on db: isolated PostgresConnection) async throws -> RecordState? {
        guard let id else { return nil }
        if let state = merged[table]?[id] { return state }
        return try await reads.state(table, id, on: db)
    }

    /// §4.4: an order, audit or collection inside a visit needs a check-in first.
    mutating func insideVisit(_ change: Change, visit: RecordID?, on db: isolated PostgresConnection) async throws {
        guard let visit, change.operation != .delete else { return }
        let checkedIn = try await !reads.events(of: visit, kind: "check_in", on: db).isEmpty
        if let finding = ExecutionRules.insideVisit(checkedIn: checkedIn) { flag(change, finding) }
    }

    // MARK: - Helpers

    /// A new record id for a record the server creates in `table`.
    func mint(_ table: String) -> RecordID { reads.mint(table) }

    static func id(_ value: FieldValue) -> RecordID? {
        if case .id(let id) = value { return id }
        return nil
    }

    static func writtenFields(_ change: Change) -> Set<String> {
        guard case .write(let writes) = change.operation else { return [] }
        return Set(writes.map(\.field))
    }
}
