public import SyncEngine
import FieldModel
import PostgresDriver
import SyncCore

/// The office's reports: each computed by one SQL statement in PostgreSQL (no rows loaded into
/// Swift to be summed), over a period, limited to what the caller may see (a manager their
/// team's, a dispatcher their territories'), answered as a table of named, typed columns that the route writes as JSON or CSV.
extension SyncStore {
    /// A report's answer: its columns and rows, every cell a text, a whole number or nothing.
    public struct Report: Sendable, Hashable {
        /// The columns, in order.
        public var columns: [Column]
        /// The rows, each cell in the column order.
        public var rows: [[Cell]]

        /// A column: its name and whether its cells are numbers.
        public struct Column: Sendable, Hashable {
            /// The name (`snake_case`).
            public var name: String
            /// Whether the cells are whole numbers (else texts).
            public var numeric: Bool
        }

        /// One cell.
        public enum Cell: Sendable, Hashable {
            /// A text.
            case text(String)
            /// A whole number.
            case integer(Int64)
            /// No value.
            case null
        }
    }

    /// The reports the office can ask for.
    public enum ReportKind: String, Sendable, CaseIterable {
        /// Per rep: visits planned in the period by status, how many started late (over 15
        /// minutes after their planned start), and check-ins outside the store's geofence.
        case visitCompliance = "visit-compliance"
        /// Sales of confirmed orders (and later states) in the period with the tax split, per rep,
        /// customer, product or day (`by`).
        case sales
        /// Per customer: what its orders of the period total and what was collected against them.
        case collections
        /// The latest shelf count per store and product where it found the shelf empty.
        case outOfStock = "out-of-stock"
        /// Per technician: work orders completed in the period, first-time fixes (completed
        /// without a `cannot_complete` on the same asset in the 30 days before), mean minutes on
        /// site, open work orders past their window, and the customers' ratings of the period's
        /// work (how many, their mean in tenths of a star, how many of 1 or 2).
        case service
    }

    /// How a sales report groups its rows.
    public enum SalesGrouping: String, Sendable, CaseIterable {
        /// One row per rep who took the orders.
        case rep
        /// One row per customer.
        case customer
        /// One row per product, from the order lines.
        case product
        /// One row per UTC day of the order date.
        case day
    }

    /// The longest period a report covers: a year and a day.
    public static let reportPeriodMax: Int64 = 366 * 86_400_000

    /// Runs the report `kind` over `[from, to)` (ms since the epoch) as `office` may see it.
    ///
    /// - Parameter grouping: For ``ReportKind/sales`` only.
    /// - Throws: ``OfficeError/Code/invalid`` for a period that ends before it starts or spans
    ///   more than ``reportPeriodMax``.
    public func report(_ kind: ReportKind, from: Int64, to: Int64, grouping: SalesGrouping = .rep, now: Int64, by office: OfficeUser) async throws -> Report {
        guard from < to, to - from <= Self.reportPeriodMax else {
            throw OfficeError(.invalid, "\"from\" comes before \"to\", at most 366 days apart")
        }
        let sight = try await sight(of: office, now: now)
        let (sql, columns) = Self.reportSQL(kind, grouping: grouping)
        let rows = try await pool.query(sql, [office.tenant.uuidString, from, to, sight.team != nil, PostgresArray.literal(sight.team ?? []), now,
                                              sight.territories != nil, PostgresArray.literal(sight.territories ?? [])])
        return Report(columns: columns, rows: try rows.map { row in
            try columns.enumerated().map { index, column in
                if column.numeric { return try row.read(index, as: Int64?.self).map(Report.Cell.integer) ?? .null }
                return try row.read(index, as: String?.self).map(Report.Cell.text) ?? .null
            }
        })
    }

    /// Each report's SQL and columns. Parameters: $1 tenant, $2 and $3 the period, $4 whether a
    /// team limits the rows and $5 that team, $6 now, $7 whether territories limit the rows and $8
    /// those territories.
    static func reportSQL(_ kind: ReportKind, grouping: SalesGrouping) -> (String, [Report.Column]) {
        func columns(_ names: [String], numeric: Set<String>) -> [Report.Column] { names.map { Report.Column(name: $0, numeric: numeric.contains($0)) } }
        func inTerritories(_ customer: String) -> String { "(NOT $7 OR \(customerIn(customer, territories: "$8")))" }
        switch kind {
        case .visitCompliance:
            return ("""
                SELECT v.assignee_id::text, coalesce(u.name, ''), count(*),
                       count(*) FILTER (WHERE v.status = 'completed'), count(*) FILTER (WHERE v.status = 'missed'),
                       count(*) FILTER (WHERE v.status = 'cancelled'), count(*) FILTER (WHERE v.status = 'abandoned'),
                       count(*) FILTER (WHERE v.status IN ('planned', 'in_progress')),
                       count(*) FILTER (WHERE v.actual_start > v.planned_start + 900000),
                       (SELECT count(*) FROM geo_events g JOIN visits w ON w.tenant_id = g.tenant_id AND w.id = g.visit_id
                        WHERE g.tenant_id = $1 AND w.assignee_id = v.assignee_id AND g.kind = 'check_in'
                          AND g.verification IN ('outside_radius', 'suspicious') AND w.planned_start >= $2 AND w.planned_start < $3
                          AND \(inTerritories("w.customer_id")))
                FROM visits v LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.assignee_id
                WHERE v.tenant_id = $1 AND NOT v._deleted AND v.assignee_id IS NOT NULL AND v.planned_start >= $2 AND v.planned_start < $3
                  AND (NOT $4 OR v.assignee_id = ANY($5::uuid[])) AND $6::bigint IS NOT NULL AND \(inTerritories("v.customer_id"))
                GROUP BY v.assignee_id, u.name ORDER BY coalesce(u.name, ''), v.assignee_id
                """, columns(["rep", "rep_name", "planned", "completed", "missed", "cancelled", "abandoned", "open", "late", "outside_geofence"],
                             numeric: ["planned", "completed", "missed", "cancelled", "abandoned", "open", "late", "outside_geofence"]))
        case .sales:
            let sold = "o.status IN ('confirmed', 'released_to_erp', 'delivered', 'invoiced')"
            let scope = """
                o.tenant_id = $1 AND NOT o._deleted AND \(sold) AND o.order_date >= $2 AND o.order_date < $3
                  AND (NOT $4 OR o.created_by = ANY($5::uuid[])) AND $6::bigint IS NOT NULL AND \(inTerritories("o.customer_id"))
                """
            let money = ["orders", "subtotal_minor", "tax_minor", "total_minor"]
            switch grouping {
            case .product:
                return ("""
                    SELECT l.product_id::text, coalesce(p.sku, ''), coalesce(p.name, ''), count(DISTINCT o.id), sum(coalesce(l.quantity, 0))::bigint,
                           sum(coalesce(l.line_total_minor, 0))::bigint,
                           sum(coalesce(l.line_total_minor, 0) * coalesce(l.tax_rate_percent, 0) / 100000)::bigint
                    FROM order_lines l JOIN sales_orders o ON o.tenant_id = l.tenant_id AND o.id = l.order_id
                    LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
                    WHERE \(scope) AND NOT l._deleted
                    GROUP BY l.product_id, p.sku, p.name ORDER BY 6 DESC, l.product_id
                    """, columns(["product", "sku", "product_name", "orders", "quantity", "net_minor", "tax_minor"], numeric: ["orders", "quantity", "net_minor", "tax_minor"]))
            case .rep, .customer, .day:
                let (key, name, join) = switch grouping {
                case .rep: ("o.created_by::text", "coalesce(u.name, '')", "LEFT JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by")
                case .customer: ("o.customer_id::text", "coalesce(c.name, '')", "LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id")
                default: ("to_char(to_timestamp(o.order_date / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "''", "")
                }
                return ("""
                    SELECT \(key), \(name), count(*), sum(coalesce(o.subtotal_minor, 0))::bigint, sum(coalesce(o.tax_minor, 0))::bigint, sum(coalesce(o.total_minor, 0))::bigint
                    FROM sales_orders o \(join)
                    WHERE \(scope)
                    GROUP BY 1, 2 ORDER BY 1
                    """, columns([grouping.rawValue, "name"] + money, numeric: Set(money)))
            }
        case .collections:
            return ("""
                SELECT o.customer_id::text, coalesce(c.name, ''), count(*), sum(coalesce(o.total_minor, 0))::bigint,
                       coalesce(sum(p.paid), 0)::bigint, (sum(coalesce(o.total_minor, 0)) - coalesce(sum(p.paid), 0))::bigint
                FROM sales_orders o
                LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
                LEFT JOIN LATERAL (SELECT sum(coalesce(amount_minor, 0)) AS paid FROM payments WHERE tenant_id = o.tenant_id AND order_id = o.id) p ON true
                WHERE o.tenant_id = $1 AND NOT o._deleted AND o.status IN ('confirmed', 'released_to_erp', 'delivered', 'invoiced')
                  AND o.order_date >= $2 AND o.order_date < $3 AND (NOT $4 OR o.created_by = ANY($5::uuid[])) AND $6::bigint IS NOT NULL
                  AND \(inTerritories("o.customer_id"))
                GROUP BY o.customer_id, c.name ORDER BY 6 DESC, o.customer_id
                """, columns(["customer", "customer_name", "orders", "ordered_minor", "collected_minor", "open_minor"],
                             numeric: ["orders", "ordered_minor", "collected_minor", "open_minor"]))
        case .outOfStock:
            return ("""
                SELECT latest.customer::text, coalesce(c.name, ''), latest.product::text, coalesce(p.sku, ''), coalesce(p.name, ''),
                       to_char(to_timestamp(latest.counted_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), coalesce(u.name, '')
                FROM (SELECT DISTINCT ON (v.customer_id, s.product_id) v.customer_id AS customer, s.product_id AS product, s.quantity, s.counted_at,
                             v.assignee_id AS rep
                      FROM shelf_stock_counts s JOIN visits v ON v.tenant_id = s.tenant_id AND v.id = s.visit_id
                      WHERE s.tenant_id = $1 AND s.counted_at < $3 AND (NOT $4 OR v.assignee_id = ANY($5::uuid[])) AND \(inTerritories("v.customer_id"))
                      ORDER BY v.customer_id, s.product_id, s.counted_at DESC, s.id DESC) latest
                LEFT JOIN customers c ON c.tenant_id = $1 AND c.id = latest.customer
                LEFT JOIN products p ON p.tenant_id = $1 AND p.id = latest.product
                LEFT JOIN users u ON u.tenant_id = $1 AND u.id = latest.rep
                WHERE latest.quantity = 0 AND latest.counted_at >= $2 AND $6::bigint IS NOT NULL
                ORDER BY coalesce(c.name, ''), latest.customer, coalesce(p.name, '')
                """, columns(["customer", "customer_name", "product", "sku", "product_name", "counted_at", "counted_by"], numeric: []))
        case .service:
            return ("""
                SELECT w.assignee_id::text, coalesce(u.name, ''),
                       count(*) FILTER (WHERE w.status IN ('completed', 'closed') AND w.actual_end >= $2 AND w.actual_end < $3),
                       count(*) FILTER (WHERE w.status IN ('completed', 'closed') AND w.actual_end >= $2 AND w.actual_end < $3 AND NOT EXISTS (
                           SELECT 1 FROM work_orders x WHERE x.tenant_id = w.tenant_id AND x.asset_id = w.asset_id AND x.id <> w.id
                             AND x.status = 'cannot_complete' AND x.actual_end BETWEEN w.actual_end - 2592000000 AND w.actual_end)),
                       (avg(w.actual_end - w.actual_start) FILTER (WHERE w.status IN ('completed', 'closed') AND w.actual_end >= $2 AND w.actual_end < $3
                                                                  AND w.actual_end >= w.actual_start) / 60000)::bigint,
                       count(*) FILTER (WHERE w.status IN ('new', 'scheduled', 'on_hold', 'dispatched', 'en_route', 'on_site') AND w.window_end < $6),
                       count(w.rating) FILTER (WHERE w.actual_end >= $2 AND w.actual_end < $3),
                       round(avg(w.rating) FILTER (WHERE w.actual_end >= $2 AND w.actual_end < $3) * 10)::bigint,
                       count(*) FILTER (WHERE w.rating BETWEEN 1 AND 2 AND w.actual_end >= $2 AND w.actual_end < $3)
                FROM work_orders w LEFT JOIN users u ON u.tenant_id = w.tenant_id AND u.id = w.assignee_id
                WHERE w.tenant_id = $1 AND NOT w._deleted AND w.assignee_id IS NOT NULL AND (NOT $4 OR w.assignee_id = ANY($5::uuid[]))
                  AND \(inTerritories("w.customer_id"))
                GROUP BY w.assignee_id, u.name ORDER BY coalesce(u.name, ''), w.assignee_id
                """, columns(["technician", "technician_name", "completed", "first_time_fixes", "mean_minutes_on_site", "overdue", "ratings", "mean_rating_tenths",
                              "low_ratings"],
                             numeric: ["completed", "first_time_fixes", "mean_minutes_on_site", "overdue", "ratings", "mean_rating_tenths", "low_ratings"]))
        }
    }
}
