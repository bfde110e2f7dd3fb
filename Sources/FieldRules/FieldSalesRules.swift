import FieldModel
public import PostgresDriver
public import SyncEngine
public import SyncCore
public import SyncWire

/// The field-sales and field-service rules of DOMAIN.md §4, plugged into the push engine:
/// `SyncStore(pool:domain: FieldSalesDomain())`.
///
/// Each call makes an ``ArrivalJudge`` for one change set and returns what it decided; the
/// engine records the decisions, merges the derived writes and answers the device.
public struct FieldSalesRules: ArrivalRules {
    /// The rules.
    public init() {}

    /// Reads ahead, for the whole push, what the rules look up (``PushLookups``, then
    /// ``CheckInLookups`` and ``OrderLookups``).
    public func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws {
        try await PushLookups.prepare(changes, reads: reads, on: db)
        try await CheckInLookups.prepare(changes, reads: reads, on: db)
        try await OrderLookups.prepare(changes, reads: reads, on: db)
    }

    /// The customers whose balance the push's payments and invoices will move (§4.9): their
    /// orders' customers, named in the push or stored.
    public func expectedWrites(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws -> [RecordRef] {
        var customerOf: [RecordID: RecordID] = [:]
        for change in changes where change.table == "sales_orders" {
            if case .id(let customer)? = change.written("customer_id") { customerOf[change.record] = customer }
        }
        var customers = Set<RecordID>()
        for change in changes {
            let order: RecordID
            switch change.table {
            case "payments":
                guard case .id(let paid)? = change.written("order_id") else { continue }
                order = paid
            case "sales_orders" where change.writtenState() == "invoiced":
                order = change.record
            default:
                continue
            }
            if let customer = customerOf[order] {
                customers.insert(customer)
            } else if let customer = try await reads.state("sales_orders", order, on: db)?.id("customer_id") {
                customers.insert(customer)
            }
        }
        return customers.sorted().map { RecordRef(table: "customers", record: $0) }
    }

    /// The rules that refuse: an edit to an order no longer editable, a receipt number already
    /// recorded. The server's own writes are not screened.
    public func screen(_ changes: [Change], states: [String: [RecordID: RecordState]], arrival: Arrival,
                       on db: isolated PostgresConnection) async throws -> [Refusal] {
        var judge = ArrivalJudge(arrival)
        _ = try await judge.screen(changes, states: states, on: db)
        return judge.refusals
    }

    /// The rules that flag (place, time, prices, credit, stock, payments, completion), and the
    /// server's consequent writes.
    public func judge(_ changes: [Change], original: [String: [RecordID: RecordState]], merged: [String: [RecordID: RecordState]],
                      arrival: Arrival, on db: isolated PostgresConnection) async throws -> Judgement {
        var judge = ArrivalJudge(arrival)
        try await judge.judge(changes, original: original, merged: merged, on: db)
        return judge.judgement
    }
}

extension ArrivalReads {
    /// The geo events of `visit` of kind `kind` (deleted ones too), as they stand in the push.
    func events(of visit: RecordID, kind: String, on db: isolated PostgresConnection) async throws -> [RecordState] {
        try await rows("geo_events", where: "visit_id", is: visit, on: db).values.filter { $0.text("kind") == kind }
    }
}
