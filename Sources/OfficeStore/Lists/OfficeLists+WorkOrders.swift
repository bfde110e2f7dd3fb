public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

extension SyncStore {
    /// One work order in the office's list.
    public struct WorkOrderListItem: Sendable, Hashable, Identified {
        /// The work order, its customer and its technician (if assigned).
        public var id: RecordID, customer: RecordID, customerName: String, assignee: RecordID?, assigneeName: String?
        /// Its type, priority and status.
        public var workType: String, priority: String, status: String
        /// The schedule window and what the technician recorded (ms since the epoch).
        public var windowStart: Int64?, windowEnd: Int64?, actualStart: Int64?, actualEnd: Int64?
        /// The asset serviced, if any.
        public var asset: RecordID?
        /// The booked appointment inside the window (ms since the epoch).
        public var scheduledStart: Int64? = nil, scheduledEnd: Int64? = nil
        /// `auto`, `manual` or `nil` (the tenant's setting), and why automatic dispatch chose or waits.
        public var dispatchMode: String? = nil, dispatchReason: String? = nil
        /// When the response and the arrival are due (service levels), and the breach flagged, if any.
        public var responseDueAt: Int64? = nil, arrivalDueAt: Int64? = nil, serviceLevelBreach: String? = nil
    }

    /// What a work-order list keeps.
    public struct WorkOrderFilter: Sendable, Hashable {
        /// Only work orders in this status.
        public var status: String?
        /// Only this technician's, or this customer's.
        public var assignee: RecordID?
        /// See ``assignee``.
        public var customer: RecordID?
        /// Only the unassigned ones.
        public var unassigned: Bool
        /// Only work orders whose window starts in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?
        /// Only this work order (what a detail page reads).
        public var id: RecordID?

        /// A filter; every part optional.
        public init(status: String? = nil, assignee: RecordID? = nil, customer: RecordID? = nil, unassigned: Bool = false, from: Int64? = nil, to: Int64? = nil,
                    id: RecordID? = nil) {
            (self.status, self.assignee, self.customer, self.unassigned, self.from, self.to, self.id) = (status, assignee, customer, unassigned, from, to, id)
        }
    }

    /// Work orders matching `filter`, latest window first (then id), `limit` at a time after the
    /// cursor `after`; a manager sees those of their team's technicians.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a status work orders do not have, a limit out of
    ///   1…``listPageMax``, or a cursor no page gave.
    public func workOrders(_ filter: WorkOrderFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<WorkOrderListItem> {
        let (position, sight) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.workOrder, after: cursor, by: office)
        let query = TimeOrderedQuery(
            columns: """
                w.id::text, w.customer_id::text, coalesce(c.name, ''), w.assignee_id::text, u.name, coalesce(w.work_type, ''), coalesce(w.priority, ''),
                coalesce(w.status, 'new'), w.window_start, w.window_end, w.actual_start, w.actual_end, w.asset_id::text,
                w.scheduled_start, w.scheduled_end, w.dispatch_mode, w.dispatch_reason, w.response_due_at, w.arrival_due_at, w.service_level_breach
                """,
            source: """
                work_orders w
                LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
                LEFT JOIN users u ON u.tenant_id = w.tenant_id AND u.id = w.assignee_id
                """,
            alias: "w", time: "coalesce(w.window_start, 0)", member: "w.assignee_id", customer: "w.customer_id",
            equals: [("w.status", filter.status), ("w.assignee_id", filter.assignee?.uuidString), ("w.customer_id", filter.customer?.uuidString),
                     ("w.id", filter.id?.uuidString)],
            conditions: filter.unassigned ? ["w.assignee_id IS NULL"] : [], from: filter.from, to: filter.to)
        return try await page(query, limit: limit, after: position, sight: sight, tenant: office.tenant) { row in
            WorkOrderListItem(id: try row.read(0, as: RecordID.self), customer: try row.read(1, as: RecordID.self),
                              customerName: try row.read(2, as: String.self), assignee: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                              assigneeName: try row.read(4, as: String?.self), workType: try row.read(5, as: String.self),
                              priority: try row.read(6, as: String.self), status: try row.read(7, as: String.self),
                              windowStart: try row.read(8, as: Int64?.self), windowEnd: try row.read(9, as: Int64?.self),
                              actualStart: try row.read(10, as: Int64?.self), actualEnd: try row.read(11, as: Int64?.self),
                              asset: try row.read(12, as: String?.self).flatMap { RecordID($0) },
                              scheduledStart: try row.read(13, as: Int64?.self), scheduledEnd: try row.read(14, as: Int64?.self),
                              dispatchMode: try row.read(15, as: String?.self), dispatchReason: try row.read(16, as: String?.self),
                              responseDueAt: try row.read(17, as: Int64?.self), arrivalDueAt: try row.read(18, as: Int64?.self),
                              serviceLevelBreach: try row.read(19, as: String?.self))
        }
    }
}
