public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// The office's detail pages: one record with what hangs under it (an order's lines and payments
/// and the customer's exposure; a work order's asset and parts; a customer's contacts and
/// exposure), and its history from the audit. Each is limited like the lists: a manager sees
/// their team's, and anything else is answered as forbidden.
extension SyncStore {
    /// One entry of a record's history: a rule that fired on it or an office decision, from the audit.
    public struct HistoryEntry: Sendable, Hashable {
        /// When the server recorded it (ms since the epoch).
        public var serverTime: Int64
        /// The rule (`review` for an office decision), its result and what it said.
        public var rule: String, result: String, message: String
        /// Who wrote the change (or made the decision), and their role then.
        public var author: RecordID?, authorName: String?, authorRole: String?
        /// The review state, when the entry waits or waited for the office.
        public var review: String?
    }

    /// The most history entries a detail carries (the newest).
    public static let historyMax = 200

    /// `item` when the caller's list holds it; else forbidden when the record exists (outside what
    /// the caller may see), not found when it does not.
    func listed<Item>(_ item: Item?, _ table: String, _ id: RecordID, tenant: RecordID) async throws -> Item {
        if let item { return item }
        let exists = try await pool.query("SELECT 1 FROM \(table) WHERE tenant_id = $1 AND id = $2::uuid AND NOT _deleted", [tenant.uuidString, id.uuidString])
        if exists.isEmpty { throw OfficeError(.notFound, "no \(table) record \(id.uuidString)") }
        throw OfficeError(.forbidden, "the \(table) record is outside what you may see (your team's, or your territories')")
    }

    /// The audit of `record`, oldest first (the newest ``historyMax``).
    func history(_ table: String, _ record: RecordID, tenant: RecordID) async throws -> [HistoryEntry] {
        try await pool.query("""
            SELECT * FROM (
                SELECT d.seq, d.server_time, d.rule, d.result, d.message, d.author_id::text, u.name, d.author_role, d.review
                FROM decisions d LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.author_id
                WHERE d.tenant_id = $1 AND d.tbl = $2 AND d.record = $3::uuid ORDER BY d.seq DESC LIMIT $4) newest
            ORDER BY seq
            """, [tenant.uuidString, table, record.uuidString, Int64(Self.historyMax)]).map { row in
            HistoryEntry(serverTime: try row.read(1, as: Int64.self), rule: try row.read(2, as: String.self), result: try row.read(3, as: String.self),
                         message: try row.read(4, as: String.self), author: try row.read(5, as: String?.self).flatMap { RecordID($0) },
                         authorName: try row.read(6, as: String?.self), authorRole: try row.read(7, as: String?.self), review: try row.read(8, as: String?.self))
        }
    }

    // MARK: - Credit exposure

    /// What a customer owes and has on order, against its credit limit (DOMAIN.md §4.9): what the
    /// credit check weighs when an order arrives.
    public struct CreditExposure: Sendable, Hashable {
        /// The credit limit, if the customer has one (minor units).
        public var limitMinor: Int64?
        /// Outstanding invoices.
        public var outstandingMinor: Int64
        /// The customer's open orders (``CommercialRules/creditOpenOrderStates``), leaving out the order in view.
        public var openOrdersMinor: Int64, openOrders: Int
        /// The order in view, when there is one.
        public var orderMinor: Int64
        /// Outstanding plus open orders plus the order in view.
        public var exposureMinor: Int64 { Int64(clamping: Int128(outstandingMinor) + Int128(openOrdersMinor) + Int128(orderMinor)) }
        /// What is left under the limit (negative when over it); `nil` without a limit.
        public var availableMinor: Int64? { limitMinor.map { Int64(clamping: Int128($0) - Int128(exposureMinor)) } }
    }

    /// `customer`'s exposure, leaving `order` out of its open orders and counting `orderMinor` for it.
    func exposure(of customer: RecordID, order: RecordID?, orderMinor: Int64, tenant: RecordID) async throws -> CreditExposure {
        let rows = try await pool.query("""
            SELECT c.credit_limit_minor, coalesce(c.outstanding_minor, 0),
                   (SELECT coalesce(sum(coalesce(o.total_minor, 0)), 0)::bigint FROM sales_orders o
                    WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.id AND NOT o._deleted AND o.status = ANY($3::text[]) AND o.id::text <> $4),
                   (SELECT count(*) FROM sales_orders o
                    WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.id AND NOT o._deleted AND o.status = ANY($3::text[]) AND o.id::text <> $4)
            FROM customers c WHERE c.tenant_id = $1 AND c.id = $2::uuid
            """, [tenant.uuidString, customer.uuidString, PostgresArray.literal(CommercialRules.creditOpenOrderStates), order?.uuidString ?? ""])
        guard let row = rows.first else { return CreditExposure(limitMinor: nil, outstandingMinor: 0, openOrdersMinor: 0, openOrders: 0, orderMinor: orderMinor) }
        return CreditExposure(limitMinor: try row.read(0, as: Int64?.self), outstandingMinor: try row.read(1, as: Int64.self),
                              openOrdersMinor: try row.read(2, as: Int64.self), openOrders: Int(try row.read(3, as: Int64.self)), orderMinor: orderMinor)
    }

    // MARK: - Orders

    /// One line of an order, as the server priced it.
    public struct OrderLineItem: Sendable, Hashable {
        /// The line and its product.
        public var id: RecordID, product: RecordID?, sku: String?, productName: String?
        /// How many, and the discount in basis points the rep gave.
        public var quantity: Int64, discountBP: Int64
        /// The list and unit prices and the line's total (minor units), and the tax rate in
        /// thousandths of a percent (13 % is 13000).
        public var listPriceMinor: Int64?, unitPriceMinor: Int64?, lineTotalMinor: Int64?, taxRateThousandths: Int64?
    }

    /// An order with its lines, payments, the customer's exposure and its history.
    public struct OrderDetail: Sendable, Hashable {
        /// The order as the list shows it.
        public var order: OrderListItem
        /// The visit it was taken on, whether its prices include tax, and the totals the rep's phone
        /// and the server computed (minor units).
        public var visit: RecordID?, taxInclusive: Bool?, deviceTotalMinor: Int64?, subtotalMinor: Int64?
        /// The lines, by product name.
        public var lines: [OrderLineItem]
        /// The payments collected against it, latest first.
        public var payments: [PaymentListItem]
        /// The customer's exposure with this order counted once.
        public var exposure: CreditExposure
        /// What the rules and the office did to it.
        public var history: [HistoryEntry]
    }

    /// The order `id` with its lines, payments, customer exposure and history.
    ///
    /// - Throws: ``OfficeError/Code/notFound`` for no such order, ``OfficeError/Code/forbidden``
    ///   for an order a manager's team did not take.
    public func order(_ id: RecordID, by office: OfficeUser) async throws -> OrderDetail {
        let order = try await listed(try await orders(OrderFilter(id: id), limit: 1, by: office).items.first, "sales_orders", id, tenant: office.tenant)
        let row = try await pool.query("SELECT visit_id::text, tax_inclusive, device_total_minor, subtotal_minor FROM sales_orders WHERE tenant_id = $1 AND id = $2::uuid",
                                       [office.tenant.uuidString, id.uuidString]).first
        let lines = try await pool.query("""
            SELECT l.id::text, l.product_id::text, p.sku, p.name, coalesce(l.quantity, 0), coalesce(l.discount_bp, 0),
                   l.list_price_minor, l.unit_price_minor, l.line_total_minor, l.tax_rate_percent
            FROM order_lines l LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
            WHERE l.tenant_id = $1 AND l.order_id = $2::uuid AND NOT l._deleted
            ORDER BY coalesce(p.name, ''), l.id
            """, [office.tenant.uuidString, id.uuidString]).map { row in
            OrderLineItem(id: try row.read(0, as: RecordID.self), product: try row.read(1, as: String?.self).flatMap { RecordID($0) },
                          sku: try row.read(2, as: String?.self), productName: try row.read(3, as: String?.self), quantity: try row.read(4, as: Int64.self),
                          discountBP: try row.read(5, as: Int64.self), listPriceMinor: try row.read(6, as: Int64?.self),
                          unitPriceMinor: try row.read(7, as: Int64?.self), lineTotalMinor: try row.read(8, as: Int64?.self),
                          taxRateThousandths: try row.read(9, as: Int64?.self))
        }
        let payments = try await self.payments(PaymentFilter(order: id), limit: Self.listPageMax, by: office).items
        return OrderDetail(order: order, visit: try row?.read(0, as: String?.self).flatMap { RecordID($0) }, taxInclusive: try row?.read(1, as: Bool?.self),
                           deviceTotalMinor: try row?.read(2, as: Int64?.self), subtotalMinor: try row?.read(3, as: Int64?.self), lines: lines,
                           payments: payments,
                           exposure: try await exposure(of: order.customer, order: id, orderMinor: order.totalMinor ?? 0, tenant: office.tenant),
                           history: try await history("sales_orders", id, tenant: office.tenant))
    }
}

extension SyncStore {
    // MARK: - Work orders

    /// One part a technician used on a work order.
    public struct PartUsedItem: Sendable, Hashable {
        /// The entry, its product and the stock location (van) it came from.
        public var id: RecordID, product: RecordID?, sku: String?, productName: String?, location: RecordID?, locationName: String?
        /// How many, and when (ms since the epoch).
        public var quantity: Int64, usedAt: Int64?
    }

    /// A work order with its asset, what the technician did, and its history.
    public struct WorkOrderDetail: Sendable, Hashable {
        /// The work order as the list shows it.
        public var workOrder: WorkOrderListItem
        /// What to do, what was done, the customer's rating (1–5) with their comment, and the signature's attachment.
        public var description: String?, resolution: String?, rating: Int64?, ratingComment: String?, signature: RecordID?
        /// The asset's serial, model and maintenance plan, when there is an asset.
        public var assetSerial: String?, assetModel: String?, maintenancePlan: String?
        /// The parts used, in the order they were used.
        public var parts: [PartUsedItem]
        /// What the rules and the office did to it.
        public var history: [HistoryEntry]
        /// Its type's checklist, each step with the latest answer (service steps).
        public var steps: [StepItem] = []
    }

    /// A checklist step of a work order with its latest answer.
    public struct StepItem: Sendable, Hashable {
        /// The step, its label, kind of answer, whether completion needs it, and its range.
        public var id: RecordID, label: String, answerKind: String, required: Bool, minValue: Int64?, maxValue: Int64?
        /// The latest answer as text (`yes`, `no`, a number, a text, a photo's attachment id), who gave it and when (the phone's time).
        public var answer: String?, answeredBy: RecordID?, answeredAt: Int64?
    }

    /// The work order `id` with its asset, parts used and history.
    ///
    /// - Throws: ``OfficeError/Code/notFound`` for no such work order, ``OfficeError/Code/forbidden``
    ///   for one a manager's team is not assigned.
    public func workOrder(_ id: RecordID, by office: OfficeUser) async throws -> WorkOrderDetail {
        let item = try await listed(try await workOrders(WorkOrderFilter(id: id), limit: 1, by: office).items.first, "work_orders", id, tenant: office.tenant)
        guard let row = try await pool.query("""
            SELECT w.description, w.resolution, w.rating, w.signature_attachment_id::text, a.serial, a.model, a.maintenance_plan, w.rating_comment
            FROM work_orders w LEFT JOIN assets a ON a.tenant_id = w.tenant_id AND a.id = w.asset_id
            WHERE w.tenant_id = $1 AND w.id = $2::uuid
            """, [office.tenant.uuidString, id.uuidString]).first else { throw OfficeError(.notFound, "no work_orders record \(id.uuidString)") }
        var detail = WorkOrderDetail(workOrder: item, description: try row.read(0, as: String?.self), resolution: try row.read(1, as: String?.self),
                                     rating: try row.read(2, as: Int64?.self), ratingComment: try row.read(7, as: String?.self),
                                     signature: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                                     assetSerial: try row.read(4, as: String?.self), assetModel: try row.read(5, as: String?.self),
                                     maintenancePlan: try row.read(6, as: String?.self), parts: [], history: [])
        detail.parts = try await pool.query("""
            SELECT x.id::text, x.product_id::text, p.sku, p.name, x.stock_location_id::text, s.name, coalesce(x.quantity, 0), x.used_at
            FROM parts_used x
            LEFT JOIN products p ON p.tenant_id = x.tenant_id AND p.id = x.product_id
            LEFT JOIN stock_locations s ON s.tenant_id = x.tenant_id AND s.id = x.stock_location_id
            WHERE x.tenant_id = $1 AND x.work_order_id = $2::uuid AND NOT x._deleted
            ORDER BY x.used_at NULLS LAST, x.id
            """, [office.tenant.uuidString, id.uuidString]).map { row in
            PartUsedItem(id: try row.read(0, as: RecordID.self), product: try row.read(1, as: String?.self).flatMap { RecordID($0) },
                         sku: try row.read(2, as: String?.self), productName: try row.read(3, as: String?.self),
                         location: try row.read(4, as: String?.self).flatMap { RecordID($0) }, locationName: try row.read(5, as: String?.self),
                         quantity: try row.read(6, as: Int64.self), usedAt: try row.read(7, as: Int64?.self))
        }
        detail.history = try await history("work_orders", id, tenant: office.tenant)
        detail.steps = try await pool.query("""
            SELECT s.id::text, coalesce(s.label, ''), coalesce(s.answer_kind, ''), coalesce(s.required, false), s.min_value, s.max_value,
                   a.yes_no, a.number_value, a.text_value, a.photo_attachment_id::text, a.answered_by::text, a.answered_at
            FROM work_orders w
            JOIN LATERAL (SELECT id FROM work_order_types t WHERE t.tenant_id = w.tenant_id AND t.code = w.work_type AND NOT t._deleted ORDER BY t.id LIMIT 1) t ON true
            JOIN work_order_type_steps s ON s.tenant_id = w.tenant_id AND s.work_order_type_id = t.id AND NOT s._deleted
            LEFT JOIN LATERAL (SELECT * FROM step_answers a WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.id AND a.step_id = s.id AND NOT a._deleted
                               ORDER BY a.answered_at DESC NULLS LAST, a.id DESC LIMIT 1) a ON true
            WHERE w.tenant_id = $1 AND w.id = $2::uuid
            ORDER BY s.position, s.id
            """, [office.tenant.uuidString, id.uuidString]).map { row in
            let answer: String? = try row.read(6, as: Bool?.self).map { $0 ? "yes" : "no" } ?? row.read(7, as: Int64?.self).map(String.init)
                ?? row.read(8, as: String?.self) ?? row.read(9, as: String?.self)
            return StepItem(id: try row.read(0, as: RecordID.self), label: try row.read(1, as: String.self), answerKind: try row.read(2, as: String.self),
                            required: try row.read(3, as: Bool.self), minValue: try row.read(4, as: Int64?.self), maxValue: try row.read(5, as: Int64?.self),
                            answer: answer, answeredBy: try row.read(10, as: String?.self).flatMap { RecordID($0) }, answeredAt: try row.read(11, as: Int64?.self))
        }
        return detail
    }

    // MARK: - Customers

    /// One contact person at a customer.
    public struct ContactItem: Sendable, Hashable {
        /// The contact, their name and title.
        public var id: RecordID, name: String, title: String?
        /// How to reach them.
        public var phone: String?, email: String?
    }

    /// A customer with its contacts, where it is, its terms and exposure, and its history.
    public struct CustomerDetail: Sendable, Hashable {
        /// The customer as the list shows it.
        public var customer: CustomerListItem
        /// Its postal code, location (millionths of a degree) and geofence radius in metres (its
        /// own, else the tenant's).
        public var postalCode: String?, latitudeE6: Int64?, longitudeE6: Int64?, geofenceRadiusM: Int64?
        /// Its price list and payment terms (days).
        public var priceList: RecordID?, priceListName: String?, paymentTermsDays: Int64?
        /// The customer it was merged into, after de-duplication.
        public var mergedInto: RecordID?
        /// Its contacts, by name.
        public var contacts: [ContactItem]
        /// What it owes and has on order against its credit limit.
        public var exposure: CreditExposure
        /// What the rules and the office did to it.
        public var history: [HistoryEntry]
    }

    /// The customer `id` with its contacts, exposure and history; a manager sees the customers of
    /// the territories their team owns now (as the customer list does).
    ///
    /// - Throws: ``OfficeError/Code/notFound`` for no such customer, ``OfficeError/Code/forbidden``
    ///   for one outside a manager's team's territories.
    public func customer(_ id: RecordID, by office: OfficeUser, now: Int64) async throws -> CustomerDetail {
        let rows = try await pool.query("""
            SELECT c.id::text, coalesce(c.name, ''), c.territory_id::text, t.name, c.phone, c.street_address, c.city, c.customer_group, c.status,
                   c.tax_number, c.credit_limit_minor, c.outstanding_minor, p.name, coalesce(c.geofence_radius_m, n.geofence_radius_m),
                   c.postal_code, c.latitude_e6, c.longitude_e6, c.price_list_id::text, c.payment_terms_days, c.merged_into::text
            FROM customers c
            LEFT JOIN territories t ON t.tenant_id = c.tenant_id AND t.id = c.territory_id
            LEFT JOIN price_lists p ON p.tenant_id = c.tenant_id AND p.id = c.price_list_id
            LEFT JOIN tenants n ON n.tenant_id = c.tenant_id AND n.id = c.tenant_id
            WHERE c.tenant_id = $1 AND c.id = $2::uuid AND NOT c._deleted
            """, [office.tenant.uuidString, id.uuidString])
        guard let row = rows.first else { throw OfficeError(.notFound, "no customers record \(id.uuidString)") }
        if office.role == .manager {
            let team = try await team(of: office).map(\.user)
            let owned = try await pool.query("""
                SELECT 1 FROM territory_owners o WHERE o.tenant_id = $1 AND NOT o._deleted AND o.territory_id::text = $2
                  AND o.user_id = ANY($3::uuid[]) AND o.valid_from <= $4 AND (o.valid_to IS NULL OR o.valid_to > $4)
                """, [office.tenant.uuidString, try row.read(2, as: String?.self) ?? "", PostgresArray.literal(team), now])
            guard !owned.isEmpty else { throw OfficeError(.forbidden, "the customer is outside your team's territories") }
        }
        try await requireInSight(customer: id, of: office)
        let item = CustomerListItem(id: id, name: try row.read(1, as: String.self), territory: try row.read(2, as: String?.self).flatMap { RecordID($0) },
                                    territoryName: try row.read(3, as: String?.self), phone: try row.read(4, as: String?.self),
                                    streetAddress: try row.read(5, as: String?.self), city: try row.read(6, as: String?.self),
                                    customerGroup: try row.read(7, as: String?.self), status: try row.read(8, as: String?.self),
                                    taxNumber: try row.read(9, as: String?.self), creditLimitMinor: try row.read(10, as: Int64?.self),
                                    outstandingMinor: try row.read(11, as: Int64?.self))
        let contacts = try await pool.query("""
            SELECT id::text, coalesce(name, ''), title, phone, email FROM contacts
            WHERE tenant_id = $1 AND customer_id = $2::uuid AND NOT _deleted ORDER BY coalesce(name, ''), id
            """, [office.tenant.uuidString, id.uuidString]).map { row in
            ContactItem(id: try row.read(0, as: RecordID.self), name: try row.read(1, as: String.self), title: try row.read(2, as: String?.self),
                        phone: try row.read(3, as: String?.self), email: try row.read(4, as: String?.self))
        }
        return CustomerDetail(customer: item, postalCode: try row.read(14, as: String?.self), latitudeE6: try row.read(15, as: Int64?.self),
                              longitudeE6: try row.read(16, as: Int64?.self), geofenceRadiusM: try row.read(13, as: Int64?.self),
                              priceList: try row.read(17, as: String?.self).flatMap { RecordID($0) }, priceListName: try row.read(12, as: String?.self),
                              paymentTermsDays: try row.read(18, as: Int64?.self), mergedInto: try row.read(19, as: String?.self).flatMap { RecordID($0) },
                              contacts: contacts,
                              exposure: try await exposure(of: id, order: nil, orderMinor: 0, tenant: office.tenant),
                              history: try await history("customers", id, tenant: office.tenant))
    }
}
