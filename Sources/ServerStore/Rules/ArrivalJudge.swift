import FieldModel
import PostgresDriver
import SyncCore
import SyncWire

/// The rules of DOMAIN.md §4, run on every change set as it arrives: facts captured on the phone
/// (time, place, photo, signature) are judged as of device time, money and stock as of arrival.
///
/// A judge works in two passes inside the push's transaction:
/// - ``screen(_:states:on:)`` before the merge, for the rules that refuse a change (an edit to a
///   submitted order, a receipt number already recorded): the change goes to quarantine with the
///   server's value and applies nothing;
/// - ``judge(_:original:merged:on:)`` after the merge, for the rules that flag a change
///   (`applied_with_exception`) and for the server's own consequent writes (a check-in's
///   verification, an order's prices and route, a customer's merge), collected in ``derived``.
///
/// Every decision — refusal, flag, or a plain note such as "order confirmed" — is recorded in the
/// `decisions` table with who, what, device time, server time and the rule (``record(_:)``);
/// refusals and flags wait there for the office's review.
///
/// The judge reads records through the push's ``WorkingSet`` and queries PostgreSQL for the
/// rest; every earlier change set of the push is already written when it does.
struct ArrivalJudge {
    let store: SyncStore
    /// The push's working set: records as they stand, and where decisions wait.
    let work: WorkingSet
    var tenant: RecordID { work.tenant }
    let author: SyncStore.Author?
    let replica: ReplicaID
    /// The arrival time, in milliseconds since the epoch.
    let now: Int64

    /// A change refused into quarantine.
    struct Rejection {
        var change: Change
        var finding: RuleFinding
        var serverState: RecordState?
    }

    private(set) var rejections: [ChangeID: Rejection] = [:]
    private(set) var findings: [ChangeID: [RuleFinding]] = [:]
    private(set) var notes: [(change: Change?, table: String, record: RecordID, finding: RuleFinding)] = []
    /// The server's writes that follow from the rules, applied after the change set as one of its own.
    var derived = DerivedWrites()
    /// The merged states of the change set's records, read first by ``record(_:_:on:)``.
    private var merged: [String: [RecordID: RecordState]] = [:]
    /// Customers merged away in this change set, and the customer each now points at.
    var mergedAway: [RecordID: RecordID] = [:]
    /// Payments of this change set not judged yet: a payment is judged against the ones before it.
    var unjudgedPayments: Set<RecordID> = []

    init(store: SyncStore, work: WorkingSet, author: SyncStore.Author?, replica: ReplicaID, now: Int64) {
        self.store = store
        self.work = work
        self.author = author
        self.replica = replica
        self.now = now
    }

    /// Refuses `change`: it applies nothing and waits in quarantine.
    mutating func reject(_ change: Change, _ finding: RuleFinding, serverState: RecordState?) {
        rejections[change.id] = Rejection(change: change, finding: finding, serverState: serverState)
    }

    /// Flags `change`: it applies, with an exception for review.
    mutating func flag(_ change: Change, _ finding: RuleFinding) {
        findings[change.id, default: []].append(finding)
    }

    /// Records a decision that flags nothing.
    mutating func note(_ change: Change?, _ table: String, _ record: RecordID, _ finding: RuleFinding) {
        notes.append((change, table, record, finding))
    }

    // MARK: - Before the merge

    /// The rules that refuse: returns the changes that pass.
    mutating func screen(_ changes: [Change], states: [String: [RecordID: RecordState]], on db: isolated PostgresConnection) async throws -> [Change] {
        guard author != nil else { return changes }
        // An order's status as of arrival, followed through the change set (a reopen, then edits).
        var orderIDs = Set<RecordID>()
        for change in changes {
            if change.table == "sales_orders" { orderIDs.insert(change.record) }
            if change.table == "order_lines", let order = change.written("order_id").flatMap(Self.id) ?? states["order_lines"]?[change.record]?.id("order_id") {
                orderIDs.insert(order)
            }
        }
        let orders = try await work.states("sales_orders", Array(orderIDs), on: db)
        var status = orders.compactMapValues { $0.state()?.name }
        var receipts: [RecordID: Set<String>] = [:]
        var kept: [Change] = []
        for change in changes {
            switch change.table {
            case "sales_orders":
                let terms = Self.writtenFields(change).subtracting(["status", "approval_state"])
                if let current = status[change.record], !Self.editable(current), !terms.isEmpty || change.operation == .delete {
                    reject(change, RuleFinding(.orderLocked, "the order is \(current); its lines and terms can no longer change"), serverState: orders[change.record])
                    continue
                }
                if let written = change.writtenState() { status[change.record] = written }
            case "order_lines":
                let order = change.written("order_id").flatMap(Self.id) ?? states["order_lines"]?[change.record]?.id("order_id")
                if let order, let current = status[order], !Self.editable(current) {
                    reject(change, RuleFinding(.orderLocked, "the order is \(current); its lines can no longer change"),
                           serverState: states["order_lines"]?[change.record] ?? orders[order])
                    continue
                }
            case "payments":
                guard change.creates(given: states["payments"]?[change.record]), let order = change.written("order_id").flatMap(Self.id),
                      case .text(let receipt)? = change.written("receipt_number") else { break }
                if receipts[order] == nil {
                    receipts[order] = Set(try await work.rows("payments", where: "order_id", is: order, on: db).values.compactMap { $0.text("receipt_number") })
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
            case "shelf_stock_counts": try await insideVisit(change, visit: after.id("visit_id"), on: db)
            case "sales_orders": try await order(change, before: before, after: after, on: db)
            case "payments": try await payment(change, after, on: db)
            case "work_orders": try await workOrder(change, before: before, after: after, on: db)
            case "parts_used": try await partUsed(change, after, on: db)
            case "attachments": try await attachment(change, before: before, after: after, on: db)
            default: break
            }
            try await followMerges(change, on: db)
            // The office set a state the record had already moved past: the later state stands.
            if let author, !author.confined, let written = change.writtenState(), let kept = after.state()?.name, kept != written {
                flag(change, RuleFinding(.stateOvertaken, "the record is already \(kept); \(written) was not applied"))
            }
        }
    }

    /// A record as it stands in this transaction: merged states first, then the database.
    func record(_ table: String, _ id: RecordID?, on db: isolated PostgresConnection) async throws -> RecordState? {
        guard let id else { return nil }
        if let state = merged[table]?[id] { return state }
        return try await work.state(table, id, on: db)
    }

    /// §4.4: an order, audit or collection inside a visit needs a check-in first.
    mutating func insideVisit(_ change: Change, visit: RecordID?, on db: isolated PostgresConnection) async throws {
        guard let visit, change.operation != .delete else { return }
        let checkedIn = try await !work.events(of: visit, kind: "check_in", on: db).isEmpty
        if let finding = ExecutionRules.insideVisit(checkedIn: checkedIn) { flag(change, finding) }
    }

    // MARK: - The record of every decision

    /// Keeps one `decisions` row per refusal, flag and note, written at the end of the push;
    /// refusals and flags are open for review.
    func record(_ changes: [Change]) {
        var rows: [(change: Change?, table: String, record: RecordID, finding: RuleFinding, result: ChangeOutcome.Result, serverState: RecordState?)] = []
        for change in changes {
            if let rejection = rejections[change.id] {
                rows.append((change, change.table, change.record, rejection.finding, .rejected, rejection.serverState))
            } else {
                for finding in findings[change.id] ?? [] { rows.append((change, change.table, change.record, finding, .appliedWithException, nil)) }
            }
        }
        for note in notes { rows.append((note.change, note.table, note.record, note.finding, .applied, nil)) }
        for row in rows {
            let values: [PostgresValue?] = [
                .text(tenant.uuidString), row.change.map { .text($0.id.uuid.uuidString) }, .text(row.table), .text(row.record.uuidString),
                .text(row.finding.rule.name), .text(row.result.name), .text(row.finding.message), author.map { .text($0.user.uuidString) },
                author.map { .text($0.role.name) }, .text(String(replica.rawValue)), row.change.map { .text(String(Int64($0.version.clock.milliseconds))) },
                .text(String(now)), row.change.map { .bytes(BinaryEncoder.encode($0)) }, row.serverState.map { .bytes(BinaryEncoder.encode($0)) },
                row.result == .applied ? nil : .text("open"),
            ]
            work.decide(values.map { $0 ?? .null })
        }
    }

    // MARK: - Helpers

    /// A new record id for a record the server creates in `table`.
    func mint(_ table: String) -> RecordID {
        let id = store.newID()
        work.minted(RecordRef(table: table, record: id))
        return id
    }

    static func id(_ value: FieldValue) -> RecordID? {
        if case .id(let id) = value { return id }
        return nil
    }

    static func writtenFields(_ change: Change) -> Set<String> {
        guard case .write(let writes) = change.operation else { return [] }
        return Set(writes.map(\.field))
    }
}
