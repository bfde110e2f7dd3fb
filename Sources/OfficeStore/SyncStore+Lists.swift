public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// The office's lists: filtered, newest first, paged with a cursor, and limited to what the
/// caller may see (a manager their team's; a dispatcher and an admin their tenant's).
extension SyncStore {
    /// A page of a list and the cursor of the next page (`nil` after the last).
    public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
        /// The rows of this page.
        public var items: [Item]
        /// Where the next page starts: pass it back as `after`.
        public var next: String?
    }

    /// One sales order in the office's list.
    public struct OrderListItem: Sendable, Hashable {
        /// The order, its customer and the rep who took it.
        public var id: RecordID, customer: RecordID, customerName: String, rep: RecordID?, repName: String
        /// The order date (ms since the epoch).
        public var orderDate: Int64
        /// Its status, approval and credit states.
        public var status: String, approvalState: String?, creditState: String?
        /// The totals the server priced, in minor units, and the currency.
        public var totalMinor: Int64?, taxMinor: Int64?, currency: String?
        /// The ERP's reference, once released.
        public var erpReference: String?
    }

    /// What an order list keeps.
    public struct OrderFilter: Sendable, Hashable {
        /// Only orders in this status.
        public var status: String?
        /// Only orders taken by this rep, or for this customer.
        public var rep: RecordID?
        /// See ``rep``.
        public var customer: RecordID?
        /// Only orders dated in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?

        /// A filter; every part optional.
        public init(status: String? = nil, rep: RecordID? = nil, customer: RecordID? = nil, from: Int64? = nil, to: Int64? = nil) {
            (self.status, self.rep, self.customer, self.from, self.to) = (status, rep, customer, from, to)
        }
    }

    /// The most rows one page of a list holds.
    public static let listPageMax = 500

    /// Sales orders matching `filter`, newest first (by order date, then id), `limit` at a time
    /// after the cursor `after`; a manager sees the orders their team took.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a status the orders do not have, a limit out of
    ///   1…``listPageMax``, or a cursor no page gave.
    public func orders(_ filter: OrderFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<OrderListItem> {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let status = filter.status, Lifecycles.salesOrder.order.rank(of: status) == nil {
            throw OfficeError(.invalid, "\"status\" is one of \(Lifecycles.salesOrder.order.ranking.joined(separator: ", "))")
        }
        let position = try cursor.map(Self.position(of:))
        let team = office.role == .manager ? try await team(of: office).map(\.user) : nil
        let rows = try await pool.query("""
            SELECT o.id::text, o.customer_id::text, coalesce(c.name, ''), o.created_by::text, coalesce(u.name, ''), coalesce(o.order_date, 0),
                   o.status, o.approval_state, o.credit_state, o.total_minor, o.tax_minor, o.currency, o.erp_reference
            FROM sales_orders o
            LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
            LEFT JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
            WHERE o.tenant_id = $1 AND NOT o._deleted
              AND ($2 = '' OR o.status = $2) AND ($3 = '' OR o.created_by::text = $3) AND ($4 = '' OR o.customer_id::text = $4)
              AND coalesce(o.order_date, 0) >= $5 AND coalesce(o.order_date, 0) < $6
              AND (NOT $7 OR o.created_by = ANY($8::uuid[]))
              AND (NOT $9 OR (coalesce(o.order_date, 0), o.id) < ($10, $11::uuid))
            ORDER BY coalesce(o.order_date, 0) DESC, o.id DESC
            LIMIT $12
            """, [office.tenant.uuidString, filter.status ?? "", filter.rep?.uuidString ?? "", filter.customer?.uuidString ?? "",
                  filter.from ?? Int64.min, filter.to ?? Int64.max, team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.date ?? 0, (position?.id ?? RecordID(high: 0, low: 0)).uuidString, Int64(limit + 1)])
        let items = try rows.prefix(limit).map { row in
            OrderListItem(id: RecordID(try row.read(0, as: String.self))!, customer: RecordID(try row.read(1, as: String.self))!,
                          customerName: try row.read(2, as: String.self), rep: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                          repName: try row.read(4, as: String.self), orderDate: try row.read(5, as: Int64.self), status: try row.read(6, as: String?.self) ?? "draft",
                          approvalState: try row.read(7, as: String?.self), creditState: try row.read(8, as: String?.self),
                          totalMinor: try row.read(9, as: Int64?.self), taxMinor: try row.read(10, as: Int64?.self), currency: try row.read(11, as: String?.self),
                          erpReference: try row.read(12, as: String?.self))
        }
        let next = rows.count > limit ? items.last.map { "\($0.orderDate)_\($0.id.uuidString)" } : nil
        return Page(items: items, next: next)
    }

    /// The place a cursor names: the last row of the page before.
    static func position(of cursor: String) throws -> (date: Int64, id: RecordID) {
        let parts = cursor.split(separator: "_")
        guard parts.count == 2, let date = Int64(parts[0]), let id = RecordID(String(parts[1])) else {
            throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before")
        }
        return (date, id)
    }
}
