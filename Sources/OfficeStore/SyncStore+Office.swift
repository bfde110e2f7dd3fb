public import SyncEngine
import FieldModel
import Foundation
import PostgresDriver
import SyncWire
public import SyncCore
import SyncWire

/// The office's writes: dispatchers plan and assign, managers approve. Each goes through the same
/// path as a device's change set — field access by role, merge, rules, placement, feed — as a
/// change set of replica ``ReplicaID/server`` authored by the office user, so devices see it like
/// any other change.
extension SyncStore {
    /// Who acts in the office.
    public struct OfficeUser: Sendable {
        /// The user.
        public var user: RecordID
        /// Their role: dispatcher, manager or admin.
        public var role: Role
        /// Their tenant.
        public var tenant: RecordID

        /// Creates an office user.
        public init(user: RecordID, role: Role, tenant: RecordID) {
            self.user = user
            self.role = role
            self.tenant = tenant
        }
    }

    /// One record's edit from the office.
    public struct OfficeEdit: Sendable {
        /// The table.
        public var table: String
        /// The record (new or existing).
        public var record: RecordID
        /// The fields written.
        public var fields: [(String, FieldValue)]
        /// Whether the edit deletes the record (and writes no field).
        public var deletes = false
        /// Amounts added to counter fields, as the server's contribution (a stock count's difference).
        public var adds: [(String, Int64)] = []

        /// Creates an edit.
        public init(_ table: String, _ record: RecordID, _ fields: [(String, FieldValue)]) {
            self.table = table
            self.record = record
            self.fields = fields
        }

        /// An edit that deletes `record` of `table`.
        public static func delete(_ table: String, _ record: RecordID) -> OfficeEdit {
            var edit = OfficeEdit(table, record, [])
            edit.deletes = true
            return edit
        }
    }

    /// An office request the store refuses, with a code for the HTTP layer.
    public struct OfficeError: Error, Sendable, CustomStringConvertible {
        /// Stable codes.
        public enum Code: String, Sendable {
            /// No such record.
            case notFound = "not_found"
            /// The user's role may not do this, or the record is outside their subtree.
            case forbidden
            /// The record's state does not allow it (cancelling a visit in progress, approving a confirmed order).
            case invalidState = "invalid_state"
            /// The request is malformed.
            case invalid
            /// The rules refused the edit; the message says which.
            case rejected
            /// A quota is used up (blob bytes per user and day, or per tenant).
            case quotaExceeded = "quota_exceeded"
        }

        /// What kind of error.
        public var code: Code
        /// What went wrong and what to do.
        public var message: String

        /// Creates an error.
        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { "\(code.rawValue): \(message)" }
    }

    /// Applies `edits` as one change set authored by `office` (or by the server itself when
    /// `office` is `nil`), each field based on the version it replaces.
    ///
    /// - Throws: ``OfficeError/Code/rejected`` when any edit was refused (nothing of it applied).
    /// - Throws: ``OfficeError/Code/invalid`` when a value does not fit the schema (its range,
    ///   length or type), before anything is recorded.
    @discardableResult
    public func edit(_ edits: [OfficeEdit], by office: OfficeUser?, tenant: RecordID, judging: Bool = true) async throws -> Applied {
        try await edit(edits, as: office.map { Author(role: $0.role, user: $0.user, now: clock.milliseconds) }, tenant: tenant, judging: judging)
    }

    /// Applies `edits` as one change set of the server's replica authored by `author` (the
    /// server itself when `nil`): see ``edit(_:by:tenant:judging:)``.
    @discardableResult
    func edit(_ edits: [OfficeEdit], as author: Author?, tenant: RecordID, judging: Bool = true) async throws -> Applied {
        var current: [String: [RecordID: RecordState]] = [:]
        for (tableName, group) in Dictionary(grouping: edits, by: \.table) {
            let table = try tables.table(tableName)
            current[tableName] = try await pool.withConnection { db in try await self.tables.read(table, group.map(\.record), tenant: tenant, on: db) }
        }
        let stamp = clock.stamp(after: edits.compactMap { current[$0.table]?[$0.record] })
        let changes = edits.map { edit in
            let state = current[edit.table]?[edit.record]
            var writes = edit.fields.map { FieldWrite($0.0, $0.1, base: state?.fields[$0.0]?.version) }
            for (field, delta) in edit.adds {
                var total: Int64 = 0
                if case .counter(let counter)? = state?.fields[field]?.value { total = counter.contributions[.server]?.total ?? 0 }
                writes.append(FieldWrite(field, .counter(CounterValue([.server: .init(total: total &+ delta, clock: stamp)])), base: state?.fields[field]?.version))
            }
            return Change(id: ChangeID(newID()), table: edit.table, record: edit.record, operation: edit.deletes ? .delete : .write(writes),
                          version: Version(clock: stamp, replica: .server))
        }
        for change in changes {
            do throws(ChangeViolation) {
                try tables.schema.schema.validate(change)
            } catch {
                throw OfficeError(.invalid, error.message)
            }
        }
        let applied = try await push(ChangeSet(id: ChangeID(newID()), changes: changes), batch: newID(), replica: .server, author: author, judging: judging, tenant: tenant)
        if let refused = applied.outcomes.first(where: { $0.result == .rejected }) {
            throw OfficeError(.rejected, refused.findings.first?.message ?? refused.reason ?? "the edit was refused")
        }
        return applied
    }

    /// The tenant's time zone (`tenants.time_zone`), UTC when it names none: local days and times are its.
    func timeZone(of tenant: RecordID) async throws -> TimeZone {
        try await pool.query("SELECT time_zone FROM tenants WHERE tenant_id = $1 AND NOT _deleted ORDER BY id LIMIT 1", [tenant.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { TimeZone(identifier: $0) } ?? TimeZone(identifier: "UTC")!
    }

    /// The current state of a record, or ``OfficeError/Code/notFound``.
    public func record(_ table: String, _ id: RecordID, tenant: RecordID) async throws -> RecordState {
        let tableSchema = try tables.table(table)
        guard let state = try await pool.withConnection({ db in try await self.tables.read(tableSchema, [id], tenant: tenant, on: db) })[id],
              !state.isDeleted(under: tableSchema.tombstones) else {
            throw OfficeError(.notFound, "no \(table) record \(id.uuidString)")
        }
        return state
    }

    /// The state that moving `record` to `target` writes, checked against `machine` for `role`.
    func move(_ state: RecordState, _ machine: StateMachine, to target: String, by role: Role?, what: String) throws -> FieldValue {
        let current = state.state() ?? StateValue(machine.initial)
        do {
            return .state(try machine.move(from: current, to: target, by: role))
        } catch {
            throw OfficeError(.invalidState, "the \(what) is \(current.name); it cannot move to \(target)")
        }
    }

    // MARK: - Dispatchers: visits

    /// A visit to create.
    public struct NewVisit: Sendable {
        /// The plan it belongs to, if any.
        public var plan: RecordID?
        /// The customer visited.
        public var customer: RecordID
        /// The rep or technician assigned.
        public var assignee: RecordID
        /// The visit type (`sales`, `merchandising`, `delivery`, `audit`, …).
        public var visitType: String
        /// The planned window, in milliseconds since the epoch.
        public var plannedStart: Int64, plannedEnd: Int64
        /// Instructions for the rep.
        public var instructions: String?
        /// The visit's tasks.
        public var tasks: [NewTask]

        /// Creates a visit to plan.
        public init(plan: RecordID? = nil, customer: RecordID, assignee: RecordID, visitType: String, plannedStart: Int64, plannedEnd: Int64,
                    instructions: String? = nil, tasks: [NewTask] = []) {
            self.plan = plan
            self.customer = customer
            self.assignee = assignee
            self.visitType = visitType
            self.plannedStart = plannedStart
            self.plannedEnd = plannedEnd
            self.instructions = instructions
            self.tasks = tasks
        }
    }

    /// A task of a visit to plan: its type and whether completing the visit needs it; a typed
    /// task also asks a question that takes one kind of answer (`yes_no`, `number` within a
    /// range, `text`, `photo`).
    public struct NewTask: Sendable, Hashable {
        /// The task type (`shelf_audit`, `photo`, `survey`, …) and whether completion needs it.
        public var type: String, required: Bool
        /// The question, the kind of answer it takes and a number's range (typed tasks only).
        public var label: String?, answerKind: String?, minValue: Int64?, maxValue: Int64?

        /// A task.
        public init(type: String, required: Bool, label: String? = nil, answerKind: String? = nil, minValue: Int64? = nil, maxValue: Int64? = nil) {
            self.type = type
            self.required = required
            self.label = label
            self.answerKind = answerKind
            self.minValue = minValue
            self.maxValue = maxValue
        }
    }

    /// Creates a visit plan for a rep over a period; returns its id.
    public func createPlan(rep: RecordID, name: String, from start: Int64, to end: Int64, by office: OfficeUser) async throws -> RecordID {
        guard start < end else { throw OfficeError(.invalid, "a plan's period must end after it starts") }
        let id = newID()
        try await edit([OfficeEdit("visit_plans", id, [("rep_id", .id(rep)), ("name", .text(name)), ("period_start", .timestamp(start)), ("period_end", .timestamp(end))])],
                       by: office, tenant: office.tenant)
        return id
    }

    /// Plans a visit with its tasks; returns its id.
    public func createVisit(_ visit: NewVisit, by office: OfficeUser) async throws -> RecordID {
        guard visit.plannedStart < visit.plannedEnd else { throw OfficeError(.invalid, "a visit's planned end must be after its start") }
        _ = try await record("customers", visit.customer, tenant: office.tenant)
        try await requireInSight(customer: visit.customer, of: office)
        let id = newID()
        var fields: [(String, FieldValue)] = [
            ("customer_id", .id(visit.customer)), ("assignee_id", .id(visit.assignee)), ("visit_type", .text(visit.visitType)),
            ("planned_start", .timestamp(visit.plannedStart)), ("planned_end", .timestamp(visit.plannedEnd)),
            ("status", .state(StateValue("planned"))), ("creation_mode", .text("planned")),
        ]
        if let plan = visit.plan { fields.append(("plan_id", .id(plan))) }
        if let instructions = visit.instructions { fields.append(("instructions", .text(instructions))) }
        var edits = [OfficeEdit("visits", id, fields)]
        for task in visit.tasks {
            if let low = task.minValue, let high = task.maxValue, low > high { throw OfficeError(.invalid, "a task's min_value is at most its max_value") }
            if task.answerKind != nil && (task.label ?? "").isEmpty { throw OfficeError(.invalid, "a typed task asks its question (label)") }
            var fields: [(String, FieldValue)] = [("visit_id", .id(id)), ("task_type", .text(task.type)), ("required", .bool(task.required)),
                                                  ("status", .state(StateValue("pending")))]
            if let label = task.label { fields.append(("label", .text(label))) }
            if let kind = task.answerKind { fields.append(("answer_kind", .text(kind))) }
            if let low = task.minValue { fields.append(("min_value", .integer(low))) }
            if let high = task.maxValue { fields.append(("max_value", .integer(high))) }
            edits.append(OfficeEdit("visit_tasks", newID(), fields))
        }
        try await edit(edits, by: office, tenant: office.tenant)
        return id
    }

    /// Assigns (or reassigns) a visit to a rep or technician.
    public func assignVisit(_ visit: RecordID, to assignee: RecordID, by office: OfficeUser) async throws {
        let state = try await record("visits", visit, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "visits", visit, tenant: office.tenant), of: office)
        guard let status = state.state()?.name, ["planned", "missed", "in_progress"].contains(status) else {
            throw OfficeError(.invalidState, "the visit is \(state.state()?.name ?? "unknown"); only an open visit is reassigned")
        }
        _ = try await record("users", assignee, tenant: office.tenant)
        try await edit([OfficeEdit("visits", visit, [("assignee_id", .id(assignee))])], by: office, tenant: office.tenant)
    }

    /// Moves a visit's planned window.
    public func rescheduleVisit(_ visit: RecordID, from start: Int64, to end: Int64, by office: OfficeUser) async throws {
        guard start < end else { throw OfficeError(.invalid, "a visit's planned end must be after its start") }
        let state = try await record("visits", visit, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "visits", visit, tenant: office.tenant), of: office)
        var fields: [(String, FieldValue)] = [("planned_start", .timestamp(start)), ("planned_end", .timestamp(end))]
        // A missed visit given a new window is planned again (a new epoch: a reopen).
        if state.state()?.name == "missed" {
            fields.append(("status", try move(state, Lifecycles.visit, to: "planned", by: office.role, what: "visit")))
        }
        try await edit([OfficeEdit("visits", visit, fields)], by: office, tenant: office.tenant)
    }

    /// Cancels a planned (or missed) visit. A rep who works it anyway, offline, wins: the work is
    /// kept and flagged.
    public func cancelVisit(_ visit: RecordID, by office: OfficeUser) async throws {
        let state = try await record("visits", visit, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "visits", visit, tenant: office.tenant), of: office)
        let status = try move(state, Lifecycles.visit, to: "cancelled", by: office.role, what: "visit")
        try await edit([OfficeEdit("visits", visit, [("status", status)])], by: office, tenant: office.tenant)
    }

    // MARK: - Dispatchers: work orders

    /// A work order to create.
    public struct NewWorkOrder: Sendable {
        /// The customer and, if any, the asset.
        public var customer: RecordID, asset: RecordID?
        /// The work type (`installation`, `repair`, `maintenance`, `inspection`) and priority.
        public var workType: String, priority: String
        /// What to do.
        public var description: String?
        /// The schedule window, in milliseconds since the epoch.
        public var windowStart: Int64?, windowEnd: Int64?
        /// The technician, if assigned at once.
        public var assignee: RecordID?

        /// Creates a work order to plan.
        public init(customer: RecordID, asset: RecordID? = nil, workType: String, priority: String = "normal", description: String? = nil,
                    windowStart: Int64? = nil, windowEnd: Int64? = nil, assignee: RecordID? = nil) {
            self.customer = customer
            self.asset = asset
            self.workType = workType
            self.priority = priority
            self.description = description
            self.windowStart = windowStart
            self.windowEnd = windowEnd
            self.assignee = assignee
        }
    }

    /// Creates a work order: `new`, `scheduled` with a window, `dispatched` with a window and a technician.
    public func createWorkOrder(_ order: NewWorkOrder, by office: OfficeUser) async throws -> RecordID {
        if let start = order.windowStart, let end = order.windowEnd, start >= end { throw OfficeError(.invalid, "a window must end after it starts") }
        _ = try await record("customers", order.customer, tenant: office.tenant)
        try await requireInSight(customer: order.customer, of: office)
        let id = newID()
        let status = order.windowStart == nil ? "new" : order.assignee == nil ? "scheduled" : "dispatched"
        var fields: [(String, FieldValue)] = [("customer_id", .id(order.customer)), ("work_type", .text(order.workType)), ("priority", .text(order.priority)),
                                              ("status", .state(StateValue(status)))]
        if let asset = order.asset { fields.append(("asset_id", .id(asset))) }
        if let description = order.description { fields.append(("description", .text(description))) }
        if let start = order.windowStart { fields.append(("window_start", .timestamp(start))) }
        if let end = order.windowEnd { fields.append(("window_end", .timestamp(end))) }
        if let assignee = order.assignee { fields.append(("assignee_id", .id(assignee))) }
        try await edit([OfficeEdit("work_orders", id, fields)], by: office, tenant: office.tenant)
        return id
    }

    /// Assigns a technician; a scheduled work order becomes dispatched.
    public func assignWorkOrder(_ order: RecordID, to technician: RecordID, by office: OfficeUser) async throws {
        let state = try await record("work_orders", order, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "work_orders", order, tenant: office.tenant), of: office)
        _ = try await record("users", technician, tenant: office.tenant)
        var fields: [(String, FieldValue)] = [("assignee_id", .id(technician))]
        if let status = state.state()?.name, ["scheduled", "on_hold"].contains(status) {
            fields.append(("status", try move(state, Lifecycles.workOrder, to: "dispatched", by: office.role, what: "work order")))
        }
        try await edit([OfficeEdit("work_orders", order, fields)], by: office, tenant: office.tenant)
        try await reviewDispatch(of: order, assignedTo: technician, by: office)
    }

    /// Sets a work order's schedule window (the dispatcher's fields; the technician's execution
    /// fields merge beside them without conflict).
    public func scheduleWorkOrder(_ order: RecordID, from start: Int64, to end: Int64, by office: OfficeUser) async throws {
        guard start < end else { throw OfficeError(.invalid, "a window must end after it starts") }
        let state = try await record("work_orders", order, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "work_orders", order, tenant: office.tenant), of: office)
        var fields: [(String, FieldValue)] = [("window_start", .timestamp(start)), ("window_end", .timestamp(end))]
        if state.state()?.name == "new" { fields.append(("status", try move(state, Lifecycles.workOrder, to: "scheduled", by: office.role, what: "work order"))) }
        try await edit([OfficeEdit("work_orders", order, fields)], by: office, tenant: office.tenant)
    }

    /// Holds or cancels a work order (audited as a dispatcher override).
    public func moveWorkOrder(_ order: RecordID, to status: String, by office: OfficeUser) async throws {
        guard ["on_hold", "cancelled", "closed"].contains(status) else { throw OfficeError(.invalid, "the office moves a work order to on_hold, cancelled or closed") }
        let state = try await record("work_orders", order, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "work_orders", order, tenant: office.tenant), of: office)
        try await edit([OfficeEdit("work_orders", order, [("status", try move(state, Lifecycles.workOrder, to: status, by: office.role, what: "work order"))])],
                       by: office, tenant: office.tenant)
    }
}
