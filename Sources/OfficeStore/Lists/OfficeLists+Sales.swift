public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// The office's sales lists: orders, payments, customers.
extension SyncStore {
    /// One sales order in the office's list.
    public struct OrderListItem: Sendable, Hashable, Identified {
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
        /// Only this order (what a detail page reads).
        public var id: RecordID?

        /// A filter; every part optional.
        public init(status: String? = nil, rep: RecordID? = nil, customer: RecordID? = nil, from: Int64? = nil, to: Int64? = nil, id: RecordID? = nil) {
            (self.status, self.rep, self.customer, self.from, self.to, self.id) = (status, rep, customer, from, to, id)
        }
    }

    /// Sales orders matching `filter`, newest first (by order date, then id), `limit` at a time
    /// after the cursor `after`; a manager sees the orders their team took.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a status the orders do not have, a limit out of
    ///   1…``listPageMax``, or a cursor no page gave.
    public func orders(_ filter: OrderFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<OrderListItem> {
        let (position, sight) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.salesOrder, after: cursor, by: office)
        let query = TimeOrderedQuery(
            columns: """
                o.id::text, o.customer_id::text, coalesce(c.name, ''), o.created_by::text, coalesce(u.name, ''), coalesce(o.order_date, 0),
                o.status, o.approval_state, o.credit_state, o.total_minor, o.tax_minor, o.currency, o.erp_reference
                """,
            source: """
                sales_orders o
                LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
                LEFT JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
                """,
            alias: "o", time: "coalesce(o.order_date, 0)", member: "o.created_by", customer: "o.customer_id",
            equals: [("o.status", filter.status), ("o.created_by", filter.rep?.uuidString), ("o.customer_id", filter.customer?.uuidString),
                     ("o.id", filter.id?.uuidString)],
            from: filter.from, to: filter.to)
        return try await page(query, limit: limit, after: position, sight: sight, tenant: office.tenant) { row in
            OrderListItem(id: try row.read(0, as: RecordID.self), customer: try row.read(1, as: RecordID.self),
                          customerName: try row.read(2, as: String.self), rep: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                          repName: try row.read(4, as: String.self), orderDate: try row.read(5, as: Int64.self), status: try row.read(6, as: String?.self) ?? "draft",
                          approvalState: try row.read(7, as: String?.self), creditState: try row.read(8, as: String?.self),
                          totalMinor: try row.read(9, as: Int64?.self), taxMinor: try row.read(10, as: Int64?.self), currency: try row.read(11, as: String?.self),
                          erpReference: try row.read(12, as: String?.self))
        }
    }
}

extension SyncStore {
    /// One payment in the office's list.
    public struct PaymentListItem: Sendable, Hashable, Identified {
        /// The payment, its order and the order's customer.
        public var id: RecordID, order: RecordID, customer: RecordID?, customerName: String?
        /// How much (minor units, in the order's currency), how and the receipt's number.
        public var amountMinor: Int64, currency: String?, method: String, receiptNumber: String
        /// Who collected it and when (ms since the epoch).
        public var collectedBy: RecordID?, collectorName: String?, collectedAt: Int64?
    }

    /// What a payment list keeps.
    public struct PaymentFilter: Sendable, Hashable {
        /// Only this order's payments, this customer's, or those this rep collected.
        public var order: RecordID?
        /// See ``order``.
        public var customer: RecordID?
        /// See ``order``.
        public var rep: RecordID?
        /// Only payments collected in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?

        /// A filter; every part optional.
        public init(order: RecordID? = nil, customer: RecordID? = nil, rep: RecordID? = nil, from: Int64? = nil, to: Int64? = nil) {
            (self.order, self.customer, self.rep, self.from, self.to) = (order, customer, rep, from, to)
        }
    }

    /// Payments matching `filter`, latest collected first (then id), `limit` at a time after the
    /// cursor `after`; a manager sees those their team collected.
    public func payments(_ filter: PaymentFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<PaymentListItem> {
        let (position, sight) = try await listScope(limit: limit, after: cursor, by: office)
        let query = TimeOrderedQuery(
            columns: """
                p.id::text, p.order_id::text, o.customer_id::text, c.name, coalesce(p.amount_minor, 0), o.currency, coalesce(p.method, ''),
                coalesce(p.receipt_number, ''), p.collected_by::text, u.name, p.collected_at
                """,
            source: """
                payments p
                LEFT JOIN sales_orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
                LEFT JOIN customers c ON c.tenant_id = p.tenant_id AND c.id = o.customer_id
                LEFT JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.collected_by
                """,
            alias: "p", time: "coalesce(p.collected_at, 0)", member: "p.collected_by", customer: "o.customer_id",
            equals: [("p.order_id", filter.order?.uuidString), ("o.customer_id", filter.customer?.uuidString), ("p.collected_by", filter.rep?.uuidString)],
            from: filter.from, to: filter.to)
        return try await page(query, limit: limit, after: position, sight: sight, tenant: office.tenant) { row in
            PaymentListItem(id: try row.read(0, as: RecordID.self), order: try row.read(1, as: RecordID.self),
                            customer: try row.read(2, as: String?.self).flatMap { RecordID($0) }, customerName: try row.read(3, as: String?.self),
                            amountMinor: try row.read(4, as: Int64.self), currency: try row.read(5, as: String?.self), method: try row.read(6, as: String.self),
                            receiptNumber: try row.read(7, as: String.self), collectedBy: try row.read(8, as: String?.self).flatMap { RecordID($0) },
                            collectorName: try row.read(9, as: String?.self), collectedAt: try row.read(10, as: Int64?.self))
        }
    }
}

extension SyncStore {
    /// One customer in the office's list.
    public struct CustomerListItem: Sendable, Hashable {
        /// The customer and its territory.
        public var id: RecordID, name: String, territory: RecordID?, territoryName: String?
        /// How to reach it.
        public var phone: String?, streetAddress: String?, city: String?
        /// Its group, status, tax number, credit limit and what it owes (minor units).
        public var customerGroup: String?, status: String?, taxNumber: String?, creditLimitMinor: Int64?, outstandingMinor: Int64?
    }

    /// What a customer list keeps.
    public struct CustomerFilter: Sendable, Hashable {
        /// Text the name, phone, tax number or address contains, in any case.
        public var search: String?
        /// Only this territory's customers.
        public var territory: RecordID?
        /// Only customers in this status (`unverified`, `active`, `blocked`).
        public var status: String?

        /// A filter; every part optional.
        public init(search: String? = nil, territory: RecordID? = nil, status: String? = nil) {
            (self.search, self.territory, self.status) = (search, territory, status)
        }
    }

    /// Customers matching `filter`, by name (then id), `limit` at a time after the cursor `after`
    /// (the last customer's id); a manager sees the customers of the territories their team owns
    /// now, a dispatcher with territories those of their territories.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for an unknown status, a search over 200 characters,
    ///   a limit out of 1…``listPageMax``, or a cursor no page gave.
    public func customers(_ filter: CustomerFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser, now: Int64) async throws -> Page<CustomerListItem> {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let status = filter.status, !FieldSalesSchema.customerStatuses.contains(status) {
            throw OfficeError(.invalid, "\"status\" is one of \(FieldSalesSchema.customerStatuses.joined(separator: ", "))")
        }
        if let search = filter.search, search.count > 200 || search.contains("\u{0}") { throw OfficeError(.invalid, "\"search\" is at most 200 characters") }
        let after = try cursor.map { text in
            guard let id = RecordID(text) else { throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before") }
            return id
        }
        let sight = try await sight(of: office, now: now)
        // A search is a substring in any case; LIKE's own wildcards in it match themselves.
        let pattern = filter.search.map { search in
            "%" + search.map { "\\%_".contains($0) ? "\\\($0)" : String($0) }.joined() + "%"
        }
        let rows = try await pool.query("""
            SELECT c.id::text, coalesce(c.name, ''), c.territory_id::text, t.name, c.phone, c.street_address, c.city, c.customer_group, c.status,
                   c.tax_number, c.credit_limit_minor, c.outstanding_minor
            FROM customers c
            LEFT JOIN territories t ON t.tenant_id = c.tenant_id AND t.id = c.territory_id
            WHERE c.tenant_id = $1 AND NOT c._deleted AND c.merged_into IS NULL
              AND ($2 = '' OR c.name ILIKE $2 OR c.phone ILIKE $2 OR c.tax_number ILIKE $2 OR c.street_address ILIKE $2)
              AND ($3 = '' OR c.territory_id::text = $3) AND ($4 = '' OR c.status = $4)
              AND (NOT $5 OR c.territory_id IN (SELECT o.territory_id FROM territory_owners o WHERE o.tenant_id = $1 AND NOT o._deleted
                                                  AND o.user_id = ANY($6::uuid[]) AND o.valid_from <= $7 AND (o.valid_to IS NULL OR o.valid_to > $7)))
              AND ($8 = '' OR (coalesce(c.name, ''), c.id) > (SELECT coalesce(name, ''), id FROM customers WHERE tenant_id = $1 AND id::text = $8))
              AND (NOT $10 OR c.territory_id = ANY($11::uuid[]))
            ORDER BY coalesce(c.name, ''), c.id
            LIMIT $9
            """, [office.tenant.uuidString, pattern ?? "", filter.territory?.uuidString ?? "", filter.status ?? "", sight.team != nil,
                  PostgresArray.literal(sight.team ?? []), now, after?.uuidString ?? "", Int64(limit + 1),
                  sight.territories != nil, PostgresArray.literal(sight.territories ?? [])])
        let items = try rows.prefix(limit).map { row in
            CustomerListItem(id: try row.read(0, as: RecordID.self), name: try row.read(1, as: String.self),
                             territory: try row.read(2, as: String?.self).flatMap { RecordID($0) }, territoryName: try row.read(3, as: String?.self),
                             phone: try row.read(4, as: String?.self), streetAddress: try row.read(5, as: String?.self), city: try row.read(6, as: String?.self),
                             customerGroup: try row.read(7, as: String?.self), status: try row.read(8, as: String?.self), taxNumber: try row.read(9, as: String?.self),
                             creditLimitMinor: try row.read(10, as: Int64?.self), outstandingMinor: try row.read(11, as: Int64?.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last?.id.uuidString : nil)
    }
}
