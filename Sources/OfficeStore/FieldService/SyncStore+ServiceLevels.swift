public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// Service levels on the server (issue 19, item 5; ``ServiceLevels``): the job that flags a work
/// order whose response or arrival time passed before it got there, for the dispatcher — on the
/// work order (`service_level_breach`, through the merge path like any server write, so the
/// board and the technician's phone show it) and in the review queue (`service_level_breach`).
extension SyncStore {
    /// Flags the tenant's work orders whose due times passed at `now` (at most `limit` a run);
    /// returns how many it flagged. Idempotent: a breach already shown is not flagged again.
    @discardableResult
    public func flagServiceLevelBreaches(now: Int64, tenant: RecordID, limit: Int = 500) async throws -> Int {
        let rows = try await pool.query("""
            SELECT id::text, coalesce(status, 'new'), assignee_id IS NOT NULL, actual_start, response_due_at, arrival_due_at, service_level_breach, coalesce(priority, 'normal')
            FROM work_orders
            WHERE tenant_id = $1 AND NOT _deleted AND coalesce(status, 'new') NOT IN ('cancelled', 'closed')
              AND (response_due_at < $2 OR arrival_due_at < $2) AND service_level_breach IS DISTINCT FROM 'arrival'
            ORDER BY arrival_due_at, id LIMIT $3
            """, [tenant.uuidString, now, limit])
        var edits: [OfficeEdit] = []
        var findings: [(RecordID, RuleFinding)] = []
        for row in rows {
            let id = try row.read(0, as: RecordID.self)
            let breaches = ServiceLevels.breaches(status: try row.read(1, as: String.self), assigned: try row.read(2, as: Bool.self),
                                                  arrivedAt: try row.read(3, as: Int64?.self), responseDue: try row.read(4, as: Int64?.self),
                                                  arrivalDue: try row.read(5, as: Int64?.self), now: now)
            guard let shown = ServiceLevels.shown(breaches), shown.rawValue != (try row.read(6, as: String?.self)) else { continue }
            edits.append(OfficeEdit("work_orders", id, [("service_level_breach", .text(shown.rawValue))]))
            findings.append((id, ServiceLevels.finding(shown, priority: try row.read(7, as: String.self))))
        }
        guard !edits.isEmpty else { return 0 }
        for start in stride(from: 0, to: edits.count, by: 100) {
            try await edit(Array(edits[start..<min(start + 100, edits.count)]), by: nil, tenant: tenant)
        }
        try await pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, replica, server_time, review)
            SELECT $1, 'work_orders', r, $2, 'applied_with_exception', m, 0, $3, 'open' FROM unnest($4::uuid[], $5::text[]) AS f(r, m)
            """, [tenant.uuidString, RuleFinding.Rule.serviceLevelBreach.name, now, PostgresArray.literal(findings.map(\.0)), PostgresArray.literal(findings.map(\.1.message))])
        return edits.count
    }

    /// Every tenant with work orders past a due time and not yet flagged for it, for the job.
    public func tenantsWithServiceLevelBreaches(now: Int64) async throws -> [RecordID] {
        try await pool.query("""
            SELECT DISTINCT tenant_id::text FROM work_orders
            WHERE NOT _deleted AND coalesce(status, 'new') NOT IN ('cancelled', 'closed') AND (response_due_at < $1 OR arrival_due_at < $1)
              AND service_level_breach IS DISTINCT FROM 'arrival'
            """, [now]).compactMap { RecordID(try $0.read(0, as: String.self)) }
    }
}
