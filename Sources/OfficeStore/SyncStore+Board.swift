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

    /// One rep's (or technician's) line on the board.
    public struct BoardRow: Sendable, Hashable {
        /// The assignee.
        public var user: RecordID, name: String
        /// Their visits in the period, in planned order.
        public var visits: [BoardVisit]
        /// How many visits are in each status.
        public var counts: [String: Int]
    }

    /// The visits planned between `start` and `end` (ms), per assignee, with status and lateness as of `now`.
    public func board(from start: Int64, to end: Int64, user: RecordID? = nil, now: Int64, by office: OfficeUser) async throws -> [BoardRow] {
        let rows = try await pool.query("""
            SELECT v.assignee_id::text, coalesce(u.name, ''), v.id::text, v.customer_id::text, coalesce(c.name, ''), v.status, v.visit_type,
                   v.planned_start, v.planned_end, v.actual_start, v.executed_by::text
            FROM visits v
            LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.assignee_id
            LEFT JOIN customers c ON c.tenant_id = v.tenant_id AND c.id = v.customer_id
            WHERE v.tenant_id = $1 AND NOT v._deleted AND v.planned_start >= $2 AND v.planned_start < $3 AND ($4 = '' OR v.assignee_id::text = $4)
            ORDER BY u.name, v.assignee_id, v.planned_start, v.id
            """, [office.tenant.uuidString, start, end, user?.uuidString ?? ""])
        var board: [BoardRow] = []
        let team = office.role == .manager ? Set(try await team(of: office).map(\.user)) : nil
        for row in rows {
            guard let assignee = try row.read(0, as: String?.self).flatMap({ RecordID($0) }) else { continue }
            if let team, !team.contains(assignee) { continue }
            let status = try row.read(5, as: String?.self) ?? "planned"
            let plannedStart = try row.read(7, as: Int64?.self)
            let actualStart = try row.read(9, as: Int64?.self)
            // In 128 bits: rows written before ranges were checked may hold any 64-bit time.
            var late: Int128 = 0
            if let plannedStart {
                if let actualStart { late = max(0, Int128(actualStart) - Int128(plannedStart)) } else if status == "planned" { late = max(0, Int128(now) - Int128(plannedStart)) }
            }
            let executedBy = try row.read(10, as: String?.self).flatMap { RecordID($0) }
            let visit = BoardVisit(visit: RecordID(try row.read(2, as: String.self))!, customer: RecordID(try row.read(3, as: String.self))!,
                                   customerName: try row.read(4, as: String.self), status: status, visitType: try row.read(6, as: String?.self) ?? "",
                                   plannedStart: plannedStart, plannedEnd: try row.read(8, as: Int64?.self), actualStart: actualStart,
                                   lateMinutes: Int64(clamping: late / 60_000), executedBy: executedBy == assignee ? nil : executedBy)
            if board.last?.user != assignee { board.append(BoardRow(user: assignee, name: try row.read(1, as: String.self), visits: [], counts: [:])) }
            board[board.count - 1].visits.append(visit)
            board[board.count - 1].counts[status, default: 0] += 1
        }
        return board
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
            let id = RecordID(try row.read(0, as: String.self))!
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
