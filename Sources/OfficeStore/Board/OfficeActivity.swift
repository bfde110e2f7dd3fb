public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// A rep's or technician's activity timeline: what they did in a period, in the order they did it,
/// read from the records themselves (check-ins and check-outs, visits ended, orders taken,
/// payments collected, shelf counts, contact records, work orders started and ended, parts used).
extension SyncStore {
    /// One thing a person did.
    public struct ActivityEvent: Sendable, Hashable {
        /// When (ms since the epoch; the phone's time where the record carries one).
        public var time: Int64
        /// What: `check_in`, `check_out`, `visit_completed`, `visit_abandoned`, `order`, `payment`,
        /// `shelf_count`, `contact_record`, `work_started`, `work_ended`, `part_used`.
        public var kind: String
        /// The record it is, and its table.
        public var table: String, record: RecordID
        /// The customer it concerns, if any.
        public var customer: RecordID?, customerName: String?
        /// A short account: a status, an amount, a verification, a quantity.
        public var summary: String
    }

    /// The longest period a timeline covers: 31 days.
    public static let activityDaysMax = 31

    /// The most events a timeline carries (the first in time).
    public static let activityEventsMax = 1_000

    /// What `person` did in `[from, to)` (ms), oldest first; at most ``activityEventsMax`` events.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a period empty or over ``activityDaysMax`` days,
    ///   ``OfficeError/Code/notFound`` for no such user, ``OfficeError/Code/forbidden`` for a
    ///   person outside a manager's team. A dispatcher with territories sees the events at
    ///   customers of those.
    public func activity(of person: RecordID, from: Int64, to: Int64, by office: OfficeUser) async throws -> (name: String, role: String, events: [ActivityEvent]) {
        guard from < to, to - from <= Int64(Self.activityDaysMax) * 86_400_000 else {
            throw OfficeError(.invalid, "a timeline covers 1 to \(Self.activityDaysMax) days")
        }
        guard let user = try await pool.query("SELECT coalesce(name, ''), coalesce(role, '') FROM users WHERE tenant_id = $1 AND id = $2::uuid AND NOT _deleted",
                                              [office.tenant.uuidString, person.uuidString]).first else {
            throw OfficeError(.notFound, "no user \(person.uuidString)")
        }
        try await requireInTeam(person, of: office)
        // A dispatcher with territories sees what the person did at the customers of those.
        let territories = try await sight(of: office).territories
        // Each part: time, kind, table, record, customer, summary; $2 the person, [$3, $4) the period.
        let customer = "LEFT JOIN customers c ON c.tenant_id = $1 AND c.id = "
        let idTime = "('x' || substr(replace(r.id::text, '-', ''), 1, 12))::bit(48)::bigint"
        let parts = [
            """
            SELECT g.device_time, g.kind, 'geo_events', g.id, v.customer_id, c.name,
                   coalesce(g.verification, 'unverified') || coalesce(', ' || g.distance_m || ' m from the store', '')
            FROM geo_events g JOIN visits v ON v.tenant_id = g.tenant_id AND v.id = g.visit_id \(customer) v.customer_id
            WHERE g.tenant_id = $1 AND g.user_id = $2::uuid AND g.device_time >= $3 AND g.device_time < $4 AND NOT g._deleted
            """,
            """
            SELECT v.actual_end, 'visit_' || v.status, 'visits', v.id, v.customer_id, c.name, coalesce(v.visit_type, '') || coalesce(': ' || v.abandon_reason, '')
            FROM visits v \(customer) v.customer_id
            WHERE v.tenant_id = $1 AND coalesce(v.executed_by, v.assignee_id) = $2::uuid AND v.status IN ('completed', 'abandoned')
              AND v.actual_end >= $3 AND v.actual_end < $4 AND NOT v._deleted
            """,
            """
            SELECT o.order_date, 'order', 'sales_orders', o.id, o.customer_id, c.name,
                   o.status || coalesce(', ' || (o.total_minor / 100.0)::numeric(20, 2) || ' ' || o.currency, '')
            FROM sales_orders o \(customer) o.customer_id
            WHERE o.tenant_id = $1 AND o.created_by = $2::uuid AND o.order_date >= $3 AND o.order_date < $4 AND NOT o._deleted
            """,
            """
            SELECT p.collected_at, 'payment', 'payments', p.id, o.customer_id, c.name,
                   coalesce((p.amount_minor / 100.0)::numeric(20, 2) || ' ', '') || coalesce(p.method, '') || coalesce(', receipt ' || p.receipt_number, '')
            FROM payments p LEFT JOIN sales_orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id \(customer) o.customer_id
            WHERE p.tenant_id = $1 AND p.collected_by = $2::uuid AND p.collected_at >= $3 AND p.collected_at < $4 AND NOT p._deleted
            """,
            """
            SELECT s.counted_at, 'shelf_count', 'shelf_stock_counts', s.id, v.customer_id, c.name, coalesce(pr.name, '') || ': ' || coalesce(s.quantity, 0)
            FROM shelf_stock_counts s JOIN visits v ON v.tenant_id = s.tenant_id AND v.id = s.visit_id \(customer) v.customer_id
            LEFT JOIN products pr ON pr.tenant_id = s.tenant_id AND pr.id = s.product_id
            WHERE s.tenant_id = $1 AND coalesce(v.executed_by, v.assignee_id) = $2::uuid AND s.counted_at >= $3 AND s.counted_at < $4 AND NOT s._deleted
            """,
            """
            SELECT \(idTime), 'contact_record', 'contact_records', r.id, r.customer_id, c.name, coalesce(r.channel, '') || ': ' || left(coalesce(r.notes, ''), 120)
            FROM contact_records r \(customer) r.customer_id
            WHERE r.tenant_id = $1 AND r.author_id = $2::uuid AND \(idTime) >= $3 AND \(idTime) < $4 AND NOT r._deleted
            """,
            """
            SELECT w.actual_start, 'work_started', 'work_orders', w.id, w.customer_id, c.name, coalesce(w.work_type, '') || ', ' || coalesce(w.priority, '')
            FROM work_orders w \(customer) w.customer_id
            WHERE w.tenant_id = $1 AND w.assignee_id = $2::uuid AND w.actual_start >= $3 AND w.actual_start < $4 AND NOT w._deleted
            """,
            """
            SELECT w.actual_end, 'work_ended', 'work_orders', w.id, w.customer_id, c.name, coalesce(w.status, '') || coalesce(': ' || left(w.resolution, 120), '')
            FROM work_orders w \(customer) w.customer_id
            WHERE w.tenant_id = $1 AND w.assignee_id = $2::uuid AND w.actual_end >= $3 AND w.actual_end < $4 AND NOT w._deleted
            """,
            """
            SELECT x.used_at, 'part_used', 'parts_used', x.id, w.customer_id, c.name, coalesce(pr.name, '') || ' × ' || coalesce(x.quantity, 0)
            FROM parts_used x JOIN work_orders w ON w.tenant_id = x.tenant_id AND w.id = x.work_order_id \(customer) w.customer_id
            LEFT JOIN products pr ON pr.tenant_id = x.tenant_id AND pr.id = x.product_id
            WHERE x.tenant_id = $1 AND w.assignee_id = $2::uuid AND x.used_at >= $3 AND x.used_at < $4 AND NOT x._deleted
            """,
        ]
        let rows = try await pool.query("""
            SELECT t, kind, tbl, id::text, customer::text, customer_name, summary FROM (
            \(parts.joined(separator: "\nUNION ALL\n"))
            ) AS events (t, kind, tbl, id, customer, customer_name, summary)
            WHERE NOT $6 OR \(Self.customerIn("events.customer", territories: "$7"))
            ORDER BY t, id LIMIT $5
            """, [office.tenant.uuidString, person.uuidString, from, to, Int64(Self.activityEventsMax), territories != nil,
                  PostgresArray.literal(territories ?? [])])
        let events = try rows.map { row in
            ActivityEvent(time: try row.read(0, as: Int64.self), kind: try row.read(1, as: String.self), table: try row.read(2, as: String.self),
                          record: try row.read(3, as: RecordID.self), customer: try row.read(4, as: String?.self).flatMap { RecordID($0) },
                          customerName: try row.read(5, as: String?.self), summary: try row.read(6, as: String?.self) ?? "")
        }
        return (try user.read(0, as: String.self), try user.read(1, as: String.self), events)
    }
}
