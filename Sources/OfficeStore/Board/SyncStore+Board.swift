public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore
import SyncWire

/// The dispatcher's board, the server's missed-visit job, and photo and signature bytes.
extension SyncStore {
    // MARK: - The board

    /// One visit on the board.
    public struct BoardVisit: Sendable, Hashable {
        /// The visit and its customer.
        public var visit: RecordID, customer: RecordID, customerName: String
        /// Its status and type.
        public var status: String, visitType: String
        /// The planned window and the actual start, in ms since the epoch.
        public var plannedStart: Int64?, plannedEnd: Int64?, actualStart: Int64?
        /// How late it started — or, not started, how late it is now — in minutes; 0 when on time.
        public var lateMinutes: Int64
        /// Who worked it, when that is not the assignee.
        public var executedBy: RecordID?
    }

    /// One work order on the board, placed by its schedule window.
    public struct BoardWorkOrder: Sendable, Hashable {
        /// The work order and its customer.
        public var workOrder: RecordID, customer: RecordID, customerName: String
        /// Its status, type and priority.
        public var status: String, workType: String, priority: String
        /// The schedule window and the technician's actual start and end, in ms since the epoch.
        public var windowStart: Int64?, windowEnd: Int64?, actualStart: Int64?, actualEnd: Int64?
        /// How late it started — or, not started, how late it is now — in minutes; 0 when on time.
        public var lateMinutes: Int64
        /// The service-level breach the server flagged (`response`, `arrival`), if any.
        public var serviceLevelBreach: String? = nil
    }

    /// One rep's (or technician's) line on the board.
    public struct BoardRow: Sendable, Hashable {
        /// The assignee.
        public var user: RecordID, name: String
        /// Their role (`rep`, `technician`, …), empty for an assignee the tenant does not hold.
        public var role: String
        /// Their visits in the period, in planned order.
        public var visits: [BoardVisit]
        /// Their work orders whose window overlaps the period, in window order.
        public var workOrders: [BoardWorkOrder]
        /// How many visits are in each status.
        public var counts: [String: Int]
    }

    /// The work-order states in which the technician has not yet arrived: lateness runs until `on_site`.
    static let workOrderNotStarted: Set<String> = ["new", "scheduled", "dispatched", "en_route", "on_hold"]

    /// The longest period a board shows: a week.
    public static let boardDaysMax = 7

    /// How late something planned for `planned` is: by its actual start, or, not started (`waiting`), by `now`; in minutes.
    static func lateMinutes(planned: Int64?, actual: Int64?, waiting: Bool, now: Int64) -> Int64 {
        // In 128 bits: rows written before ranges were checked may hold any 64-bit time.
        guard let planned else { return 0 }
        var late: Int128 = 0
        if let actual { late = max(0, Int128(actual) - Int128(planned)) } else if waiting { late = max(0, Int128(now) - Int128(planned)) }
        return Int64(clamping: late / 60_000)
    }

    /// The visits planned between `start` and `end` (ms) and the work orders whose window overlaps
    /// it, per assignee (a manager: their team's; a dispatcher with territories: those at their
    /// customers), with status and lateness as of `now`.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a period that is empty or longer than ``boardDaysMax`` days.
    public func board(from start: Int64, to end: Int64, user: RecordID? = nil, now: Int64, by office: OfficeUser) async throws -> [BoardRow] {
        guard start < end, end - start <= Int64(Self.boardDaysMax) * 86_400_000 else {
            throw OfficeError(.invalid, "a board shows 1 to \(Self.boardDaysMax) days")
        }
        let sight = try await sight(of: office, now: now)
        let team = sight.team.map(Set.init)
        let inTerritories = { (customer: String) in "(NOT $5 OR \(Self.customerIn(customer, territories: "$6")))" }
        var rows: [RecordID: BoardRow] = [:]
        func row(_ assignee: RecordID, name: String, role: String) -> RecordID {
            if rows[assignee] == nil { rows[assignee] = BoardRow(user: assignee, name: name, role: role, visits: [], workOrders: [], counts: [:]) }
            return assignee
        }
        for found in try await pool.query("""
            SELECT v.assignee_id::text, coalesce(u.name, ''), coalesce(u.role, ''), v.id::text, v.customer_id::text, coalesce(c.name, ''), v.status, v.visit_type,
                   v.planned_start, v.planned_end, v.actual_start, v.executed_by::text
            FROM visits v
            LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.assignee_id
            LEFT JOIN customers c ON c.tenant_id = v.tenant_id AND c.id = v.customer_id
            WHERE v.tenant_id = $1 AND NOT v._deleted AND v.planned_start >= $2 AND v.planned_start < $3 AND ($4 = '' OR v.assignee_id::text = $4)
              AND \(inTerritories("v.customer_id"))
            ORDER BY v.planned_start, v.id
            """, [office.tenant.uuidString, start, end, user?.uuidString ?? "", sight.territories != nil, PostgresArray.literal(sight.territories ?? [])]) {
            guard let assignee = try found.read(0, as: String?.self).flatMap({ RecordID($0) }), team?.contains(assignee) ?? true else { continue }
            let status = try found.read(6, as: String?.self) ?? "planned"
            let plannedStart = try found.read(8, as: Int64?.self), actualStart = try found.read(10, as: Int64?.self)
            let executedBy = try found.read(11, as: String?.self).flatMap { RecordID($0) }
            let visit = BoardVisit(visit: try found.read(3, as: RecordID.self), customer: try found.read(4, as: RecordID.self),
                                   customerName: try found.read(5, as: String.self), status: status, visitType: try found.read(7, as: String?.self) ?? "",
                                   plannedStart: plannedStart, plannedEnd: try found.read(9, as: Int64?.self), actualStart: actualStart,
                                   lateMinutes: Self.lateMinutes(planned: plannedStart, actual: actualStart, waiting: status == "planned", now: now),
                                   executedBy: executedBy == assignee ? nil : executedBy)
            let key = row(assignee, name: try found.read(1, as: String.self), role: try found.read(2, as: String.self))
            rows[key]!.visits.append(visit)
            rows[key]!.counts[status, default: 0] += 1
        }
        for found in try await pool.query("""
            SELECT w.assignee_id::text, coalesce(u.name, ''), coalesce(u.role, ''), w.id::text, w.customer_id::text, coalesce(c.name, ''), coalesce(w.status, 'new'),
                   coalesce(w.work_type, ''), coalesce(w.priority, ''), w.window_start, w.window_end, w.actual_start, w.actual_end, w.service_level_breach
            FROM work_orders w
            LEFT JOIN users u ON u.tenant_id = w.tenant_id AND u.id = w.assignee_id
            LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
            WHERE w.tenant_id = $1 AND NOT w._deleted AND w.assignee_id IS NOT NULL AND w.window_start < $3 AND coalesce(w.window_end, w.window_start) >= $2
              AND ($4 = '' OR w.assignee_id::text = $4) AND \(inTerritories("w.customer_id"))
            ORDER BY w.window_start, w.id
            """, [office.tenant.uuidString, start, end, user?.uuidString ?? "", sight.territories != nil, PostgresArray.literal(sight.territories ?? [])]) {
            guard let assignee = try found.read(0, as: String?.self).flatMap({ RecordID($0) }), team?.contains(assignee) ?? true else { continue }
            let status = try found.read(6, as: String.self)
            let windowStart = try found.read(9, as: Int64?.self), actualStart = try found.read(11, as: Int64?.self)
            let order = BoardWorkOrder(workOrder: try found.read(3, as: RecordID.self), customer: try found.read(4, as: RecordID.self),
                                       customerName: try found.read(5, as: String.self), status: status, workType: try found.read(7, as: String.self),
                                       priority: try found.read(8, as: String.self), windowStart: windowStart, windowEnd: try found.read(10, as: Int64?.self),
                                       actualStart: actualStart, actualEnd: try found.read(12, as: Int64?.self),
                                       lateMinutes: Self.lateMinutes(planned: windowStart, actual: actualStart,
                                                                     waiting: Self.workOrderNotStarted.contains(status), now: now),
                                       serviceLevelBreach: try found.read(13, as: String?.self))
            let key = row(assignee, name: try found.read(1, as: String.self), role: try found.read(2, as: String.self))
            rows[key]!.workOrders.append(order)
        }
        return rows.values.sorted { ($0.name, $0.user.uuidString) < ($1.name, $1.user.uuidString) }
    }

    // MARK: - Missed visits

    /// Marks `missed` every planned visit whose window ended more than `grace` before `now`
    /// (ms), at most `limit` at a time, each in the audit. A late check-in revives it. Returns how many.
    @discardableResult
    public func markMissedVisits(now: Int64, grace: Duration = .seconds(3_600), tenant: RecordID, limit: Int = 500) async throws -> Int {
        let cutoff = now - grace.components.seconds * 1_000
        let rows = try await pool.query("""
            SELECT id::text, status__epoch FROM visits WHERE tenant_id = $1 AND status = 'planned' AND planned_end < $2 AND NOT _deleted ORDER BY planned_end LIMIT $3
            """, [tenant.uuidString, cutoff, limit])
        var edits: [OfficeEdit] = []
        for row in rows {
            let id = try row.read(0, as: RecordID.self)
            edits.append(OfficeEdit("visits", id, [("status", .state(StateValue("missed", epoch: UInt32(try row.read(1, as: Int64?.self) ?? 0))))]))
        }
        guard !edits.isEmpty else { return 0 }
        try await edit(edits, by: nil, tenant: tenant)
        for edit in edits {
            try await pool.query("""
                INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, replica, server_time) VALUES ($1, 'visits', $2, $3, 'applied', $4, 0, $5)
                """, [tenant.uuidString, edit.record.uuidString, RuleFinding.Rule.visitMissed.name, "no check-in before the window ended", now])
        }
        return edits.count
    }

    /// Every tenant with planned visits whose window has passed, for the job.
    public func tenantsWithMissedVisits(now: Int64, grace: Duration = .seconds(3_600)) async throws -> [RecordID] {
        try await pool.query("SELECT DISTINCT tenant_id::text FROM visits WHERE status = 'planned' AND planned_end < $1 AND NOT _deleted",
                             [now - grace.components.seconds * 1_000]).map { RecordID(try $0.read(0, as: String.self))! }
    }
}
