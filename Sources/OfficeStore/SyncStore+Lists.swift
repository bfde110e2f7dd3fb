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
        let (position, team) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.salesOrder, after: cursor, by: office)
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

    /// What every time-ordered list checks and reads first: the page size, a status filter against
    /// its state machine, the cursor's place, and a manager's team (`nil` for the other roles).
    func listScope(limit: Int, status: String? = nil, of machine: StateMachine? = nil, after cursor: String?,
                   by office: OfficeUser) async throws -> (position: (date: Int64, id: RecordID)?, team: [RecordID]?) {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let status, let machine, machine.order.rank(of: status) == nil {
            throw OfficeError(.invalid, "\"status\" is one of \(machine.order.ranking.joined(separator: ", "))")
        }
        let position = try cursor.map(Self.position(of:))
        return (position, office.role == .manager ? try await team(of: office).map(\.user) : nil)
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

// MARK: - Work orders

extension SyncStore {
    /// One work order in the office's list.
    public struct WorkOrderListItem: Sendable, Hashable {
        /// The work order, its customer and its technician (if assigned).
        public var id: RecordID, customer: RecordID, customerName: String, assignee: RecordID?, assigneeName: String?
        /// Its type, priority and status.
        public var workType: String, priority: String, status: String
        /// The schedule window and what the technician recorded (ms since the epoch).
        public var windowStart: Int64?, windowEnd: Int64?, actualStart: Int64?, actualEnd: Int64?
        /// The asset serviced, if any.
        public var asset: RecordID?
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

        /// A filter; every part optional.
        public init(status: String? = nil, assignee: RecordID? = nil, customer: RecordID? = nil, unassigned: Bool = false, from: Int64? = nil, to: Int64? = nil) {
            (self.status, self.assignee, self.customer, self.unassigned, self.from, self.to) = (status, assignee, customer, unassigned, from, to)
        }
    }

    /// Work orders matching `filter`, latest window first (then id), `limit` at a time after the
    /// cursor `after`; a manager sees those of their team's technicians.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a status work orders do not have, a limit out of
    ///   1…``listPageMax``, or a cursor no page gave.
    public func workOrders(_ filter: WorkOrderFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<WorkOrderListItem> {
        let (position, team) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.workOrder, after: cursor, by: office)
        let rows = try await pool.query("""
            SELECT w.id::text, w.customer_id::text, coalesce(c.name, ''), w.assignee_id::text, u.name, coalesce(w.work_type, ''), coalesce(w.priority, ''),
                   coalesce(w.status, 'new'), w.window_start, w.window_end, w.actual_start, w.actual_end, w.asset_id::text, coalesce(w.window_start, 0)
            FROM work_orders w
            LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
            LEFT JOIN users u ON u.tenant_id = w.tenant_id AND u.id = w.assignee_id
            WHERE w.tenant_id = $1 AND NOT w._deleted
              AND ($2 = '' OR w.status = $2) AND ($3 = '' OR w.assignee_id::text = $3) AND ($4 = '' OR w.customer_id::text = $4)
              AND (NOT $5 OR w.assignee_id IS NULL)
              AND coalesce(w.window_start, 0) >= $6 AND coalesce(w.window_start, 0) < $7
              AND (NOT $8 OR w.assignee_id = ANY($9::uuid[]))
              AND (NOT $10 OR (coalesce(w.window_start, 0), w.id) < ($11, $12::uuid))
            ORDER BY coalesce(w.window_start, 0) DESC, w.id DESC
            LIMIT $13
            """, [office.tenant.uuidString, filter.status ?? "", filter.assignee?.uuidString ?? "", filter.customer?.uuidString ?? "", filter.unassigned,
                  filter.from ?? Int64.min, filter.to ?? Int64.max, team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.date ?? 0, (position?.id ?? RecordID(high: 0, low: 0)).uuidString, Int64(limit + 1)])
        var sortKeys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            sortKeys.append(try row.read(13, as: Int64.self))
            return WorkOrderListItem(id: RecordID(try row.read(0, as: String.self))!, customer: RecordID(try row.read(1, as: String.self))!,
                                     customerName: try row.read(2, as: String.self), assignee: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                                     assigneeName: try row.read(4, as: String?.self), workType: try row.read(5, as: String.self),
                                     priority: try row.read(6, as: String.self), status: try row.read(7, as: String.self),
                                     windowStart: try row.read(8, as: Int64?.self), windowEnd: try row.read(9, as: Int64?.self),
                                     actualStart: try row.read(10, as: Int64?.self), actualEnd: try row.read(11, as: Int64?.self),
                                     asset: try row.read(12, as: String?.self).flatMap { RecordID($0) })
        }
        let next = rows.count > limit ? items.last.map { "\(sortKeys.last!)_\($0.id.uuidString)" } : nil
        return Page(items: items, next: next)
    }
}

// MARK: - Customers

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
    /// (the last customer's id); a manager sees the customers of the territories their team owns now.
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
        let team = office.role == .manager ? try await team(of: office).map(\.user) : nil
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
            ORDER BY coalesce(c.name, ''), c.id
            LIMIT $9
            """, [office.tenant.uuidString, pattern ?? "", filter.territory?.uuidString ?? "", filter.status ?? "", team != nil,
                  PostgresArray.literal(team ?? []), now, after?.uuidString ?? "", Int64(limit + 1)])
        let items = try rows.prefix(limit).map { row in
            CustomerListItem(id: RecordID(try row.read(0, as: String.self))!, name: try row.read(1, as: String.self),
                             territory: try row.read(2, as: String?.self).flatMap { RecordID($0) }, territoryName: try row.read(3, as: String?.self),
                             phone: try row.read(4, as: String?.self), streetAddress: try row.read(5, as: String?.self), city: try row.read(6, as: String?.self),
                             customerGroup: try row.read(7, as: String?.self), status: try row.read(8, as: String?.self), taxNumber: try row.read(9, as: String?.self),
                             creditLimitMinor: try row.read(10, as: Int64?.self), outstandingMinor: try row.read(11, as: Int64?.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last?.id.uuidString : nil)
    }
}

// MARK: - Devices

extension SyncStore {
    /// One registered phone in the office's list.
    public struct DeviceListItem: Sendable, Hashable {
        /// The replica number it stamps its writes with, its installation and its user.
        public var replica: Int64, installation: RecordID, user: RecordID, userName: String?
        /// What it said at registration.
        public var platform: String, appVersion: String
        /// When it registered and last pulled (ms since the epoch; `nil`: never pulled).
        public var registeredAt: Int64, lastPull: Int64?
        /// The clock of the newest change it pushed (ms; `nil`: none yet).
        public var newestChange: Int64?
        /// The buckets it has read, and how many of them have entries it has not (as of now).
        public var buckets: Int, bucketsBehind: Int
    }

    /// Registered phones, most recently pulling first (then replica), `limit` at a time after the
    /// cursor `after`; `user` keeps one user's. A manager sees their team's phones.
    public func devices(user: RecordID? = nil, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<DeviceListItem> {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        let position = try cursor.map { text -> (Int64, Int64) in
            let parts = text.split(separator: "_")
            guard parts.count == 2, let key = Int64(parts[0]), let replica = Int64(parts[1]) else {
                throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before")
            }
            return (key, replica)
        }
        let team = office.role == .manager ? try await team(of: office).map(\.user) : nil
        let rows = try await pool.query("""
            SELECT d.replica::bigint, d.installation::text, d.user_id::text, u.name, d.platform, d.app_version,
                   (extract(epoch FROM d.registered_at) * 1000)::bigint, (extract(epoch FROM max(c.seen_at)) * 1000)::bigint,
                   nullif(d.clock_max, 0), count(c.bucket),
                   count(c.bucket) FILTER (WHERE EXISTS (SELECT 1 FROM change_log l WHERE l.tenant_id = d.tenant_id AND l.bucket = c.bucket AND l.xid > c.sequence)),
                   coalesce((extract(epoch FROM max(c.seen_at)) * 1000)::bigint, 0)
            FROM devices d
            LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
            LEFT JOIN device_cursors c ON c.tenant_id = d.tenant_id AND c.replica = d.replica
            WHERE d.tenant_id = $1 AND ($2 = '' OR d.user_id::text = $2) AND (NOT $3 OR d.user_id = ANY($4::uuid[]))
            GROUP BY d.tenant_id, d.replica, d.installation, d.user_id, u.name, d.platform, d.app_version, d.registered_at, d.clock_max
            HAVING NOT $5 OR (coalesce((extract(epoch FROM max(c.seen_at)) * 1000)::bigint, 0), d.replica::bigint) < ($6, $7)
            ORDER BY 12 DESC, 1 DESC
            LIMIT $8
            """, [office.tenant.uuidString, user?.uuidString ?? "", team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.0 ?? 0, position?.1 ?? 0, Int64(limit + 1)])
        var keys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            keys.append(try row.read(11, as: Int64.self))
            return DeviceListItem(replica: try row.read(0, as: Int64.self), installation: RecordID(try row.read(1, as: String.self))!,
                                  user: RecordID(try row.read(2, as: String.self))!, userName: try row.read(3, as: String?.self),
                                  platform: try row.read(4, as: String.self), appVersion: try row.read(5, as: String.self),
                                  registeredAt: try row.read(6, as: Int64.self), lastPull: try row.read(7, as: Int64?.self),
                                  newestChange: try row.read(8, as: Int64?.self), buckets: try row.read(9, as: Int.self), bucketsBehind: try row.read(10, as: Int.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last.map { "\(keys.last!)_\($0.replica)" } : nil)
    }
}

// MARK: - Visits

extension SyncStore {
    /// One visit in the office's list.
    public struct VisitListItem: Sendable, Hashable {
        /// The visit, its customer and who it is assigned to.
        public var id: RecordID, customer: RecordID, customerName: String, assignee: RecordID?, assigneeName: String?
        /// Its type, status and how it came to be (`planned`, `ad_hoc`).
        public var visitType: String, status: String, creationMode: String?
        /// When it was planned and what happened (ms since the epoch).
        public var plannedStart: Int64?, plannedEnd: Int64?, actualStart: Int64?, actualEnd: Int64?
        /// Who checked in, if not the assignee's own record; why it was abandoned.
        public var executedBy: RecordID?, abandonReason: String?
    }

    /// What a visit list keeps.
    public struct VisitFilter: Sendable, Hashable {
        /// Only visits in this status.
        public var status: String?
        /// Only this user's, or this customer's.
        public var assignee: RecordID?
        /// See ``assignee``.
        public var customer: RecordID?
        /// Only visits planned to start in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?

        /// A filter; every part optional.
        public init(status: String? = nil, assignee: RecordID? = nil, customer: RecordID? = nil, from: Int64? = nil, to: Int64? = nil) {
            (self.status, self.assignee, self.customer, self.from, self.to) = (status, assignee, customer, from, to)
        }
    }

    /// Visits matching `filter`, latest planned start first (then id), `limit` at a time after the
    /// cursor `after`; a manager sees their team's.
    public func visits(_ filter: VisitFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<VisitListItem> {
        let (position, team) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.visit, after: cursor, by: office)
        let rows = try await pool.query("""
            SELECT v.id::text, v.customer_id::text, coalesce(c.name, ''), v.assignee_id::text, u.name, coalesce(v.visit_type, ''), coalesce(v.status, 'planned'),
                   v.creation_mode, v.planned_start, v.planned_end, v.actual_start, v.actual_end, v.executed_by::text, v.abandon_reason, coalesce(v.planned_start, 0)
            FROM visits v
            LEFT JOIN customers c ON c.tenant_id = v.tenant_id AND c.id = v.customer_id
            LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.assignee_id
            WHERE v.tenant_id = $1 AND NOT v._deleted
              AND ($2 = '' OR v.status = $2) AND ($3 = '' OR v.assignee_id::text = $3) AND ($4 = '' OR v.customer_id::text = $4)
              AND coalesce(v.planned_start, 0) >= $5 AND coalesce(v.planned_start, 0) < $6
              AND (NOT $7 OR v.assignee_id = ANY($8::uuid[]))
              AND (NOT $9 OR (coalesce(v.planned_start, 0), v.id) < ($10, $11::uuid))
            ORDER BY coalesce(v.planned_start, 0) DESC, v.id DESC
            LIMIT $12
            """, [office.tenant.uuidString, filter.status ?? "", filter.assignee?.uuidString ?? "", filter.customer?.uuidString ?? "",
                  filter.from ?? Int64.min, filter.to ?? Int64.max, team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.date ?? 0, (position?.id ?? RecordID(high: 0, low: 0)).uuidString, Int64(limit + 1)])
        var keys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            keys.append(try row.read(14, as: Int64.self))
            return VisitListItem(id: RecordID(try row.read(0, as: String.self))!, customer: RecordID(try row.read(1, as: String.self))!,
                                 customerName: try row.read(2, as: String.self), assignee: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                                 assigneeName: try row.read(4, as: String?.self), visitType: try row.read(5, as: String.self), status: try row.read(6, as: String.self),
                                 creationMode: try row.read(7, as: String?.self), plannedStart: try row.read(8, as: Int64?.self), plannedEnd: try row.read(9, as: Int64?.self),
                                 actualStart: try row.read(10, as: Int64?.self), actualEnd: try row.read(11, as: Int64?.self),
                                 executedBy: try row.read(12, as: String?.self).flatMap { RecordID($0) }, abandonReason: try row.read(13, as: String?.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last.map { "\(keys.last!)_\($0.id.uuidString)" } : nil)
    }
}

// MARK: - Payments

extension SyncStore {
    /// One payment in the office's list.
    public struct PaymentListItem: Sendable, Hashable {
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
        let (position, team) = try await listScope(limit: limit, after: cursor, by: office)
        let rows = try await pool.query("""
            SELECT p.id::text, p.order_id::text, o.customer_id::text, c.name, coalesce(p.amount_minor, 0), o.currency, coalesce(p.method, ''),
                   coalesce(p.receipt_number, ''), p.collected_by::text, u.name, p.collected_at, coalesce(p.collected_at, 0)
            FROM payments p
            LEFT JOIN sales_orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
            LEFT JOIN customers c ON c.tenant_id = p.tenant_id AND c.id = o.customer_id
            LEFT JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.collected_by
            WHERE p.tenant_id = $1
              AND ($2 = '' OR p.order_id::text = $2) AND ($3 = '' OR o.customer_id::text = $3) AND ($4 = '' OR p.collected_by::text = $4)
              AND coalesce(p.collected_at, 0) >= $5 AND coalesce(p.collected_at, 0) < $6
              AND (NOT $7 OR p.collected_by = ANY($8::uuid[]))
              AND (NOT $9 OR (coalesce(p.collected_at, 0), p.id) < ($10, $11::uuid))
            ORDER BY coalesce(p.collected_at, 0) DESC, p.id DESC
            LIMIT $12
            """, [office.tenant.uuidString, filter.order?.uuidString ?? "", filter.customer?.uuidString ?? "", filter.rep?.uuidString ?? "",
                  filter.from ?? Int64.min, filter.to ?? Int64.max, team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.date ?? 0, (position?.id ?? RecordID(high: 0, low: 0)).uuidString, Int64(limit + 1)])
        var keys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            keys.append(try row.read(11, as: Int64.self))
            return PaymentListItem(id: RecordID(try row.read(0, as: String.self))!, order: RecordID(try row.read(1, as: String.self))!,
                                   customer: try row.read(2, as: String?.self).flatMap { RecordID($0) }, customerName: try row.read(3, as: String?.self),
                                   amountMinor: try row.read(4, as: Int64.self), currency: try row.read(5, as: String?.self), method: try row.read(6, as: String.self),
                                   receiptNumber: try row.read(7, as: String.self), collectedBy: try row.read(8, as: String?.self).flatMap { RecordID($0) },
                                   collectorName: try row.read(9, as: String?.self), collectedAt: try row.read(10, as: Int64?.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last.map { "\(keys.last!)_\($0.id.uuidString)" } : nil)
    }
}

// MARK: - Contact records

extension SyncStore {
    /// One contact record in the office's list, with the managers' comments under it.
    public struct ContactRecordListItem: Sendable, Hashable {
        /// The record, its customer, its visit (if any) and its author.
        public var id: RecordID, customer: RecordID, customerName: String?, visit: RecordID?, author: RecordID?, authorName: String?
        /// When it was written (the time its id carries, ms since the epoch).
        public var createdAt: Int64
        /// The channel, the notes and the next action with its time.
        public var channel: String, notes: String, nextAction: String?, nextActionAt: Int64?
        /// The managers' comments, oldest first.
        public var comments: [Comment]

        /// A manager's comment on a contact record.
        public struct Comment: Sendable, Hashable {
            /// The comment, its author and when it was written (ms since the epoch).
            public var id: RecordID, author: RecordID?, authorName: String?, createdAt: Int64
            /// What the manager wrote.
            public var body: String
        }
    }

    /// What a contact-record list keeps.
    public struct ContactRecordFilter: Sendable, Hashable {
        /// Only this customer's records, or this author's.
        public var customer: RecordID?
        /// See ``customer``.
        public var author: RecordID?
        /// Only records written in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?

        /// A filter; every part optional.
        public init(customer: RecordID? = nil, author: RecordID? = nil, from: Int64? = nil, to: Int64? = nil) {
            (self.customer, self.author, self.from, self.to) = (customer, author, from, to)
        }
    }

    /// Contact records matching `filter`, newest first, with their comments, `limit` at a time
    /// after the cursor `after` (the last record's id); a manager sees their team's.
    public func contactRecords(_ filter: ContactRecordFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<ContactRecordListItem> {
        let (_, team) = try await listScope(limit: limit, after: nil, by: office)
        let after = try cursor.map { text in
            guard let id = RecordID(text) else { throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before") }
            return id
        }
        // Ids are UUIDv7: their order is the order they were written in; the bounds are the first ids of those milliseconds.
        func bound(_ milliseconds: Int64?, _ fallback: RecordID) -> String {
            guard let milliseconds else { return fallback.uuidString }
            return RecordID(high: UInt64(max(0, min(milliseconds, (1 << 48) - 1))) << 16, low: 0).uuidString
        }
        let rows = try await pool.query("""
            SELECT r.id::text, r.customer_id::text, c.name, r.visit_id::text, r.author_id::text, u.name, coalesce(r.channel, ''), coalesce(r.notes, ''),
                   r.next_action, r.next_action_at
            FROM contact_records r
            LEFT JOIN customers c ON c.tenant_id = r.tenant_id AND c.id = r.customer_id
            LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.author_id
            WHERE r.tenant_id = $1 AND NOT r._deleted
              AND ($2 = '' OR r.customer_id::text = $2) AND ($3 = '' OR r.author_id::text = $3)
              AND r.id >= $4::uuid AND r.id < $5::uuid
              AND (NOT $6 OR r.author_id = ANY($7::uuid[]))
              AND ($8 = '' OR r.id < $8::uuid)
            ORDER BY r.id DESC
            LIMIT $9
            """, [office.tenant.uuidString, filter.customer?.uuidString ?? "", filter.author?.uuidString ?? "",
                  bound(filter.from, RecordID(high: 0, low: 0)), bound(filter.to, RecordID(high: .max, low: .max)),
                  team != nil, PostgresArray.literal(team ?? []), after?.uuidString ?? "", Int64(limit + 1)])
        var items = try rows.prefix(limit).map { row in
            let id = RecordID(try row.read(0, as: String.self))!
            return ContactRecordListItem(id: id, customer: RecordID(try row.read(1, as: String.self))!, customerName: try row.read(2, as: String?.self),
                                         visit: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                                         author: try row.read(4, as: String?.self).flatMap { RecordID($0) }, authorName: try row.read(5, as: String?.self),
                                         createdAt: Int64(id.milliseconds), channel: try row.read(6, as: String.self), notes: try row.read(7, as: String.self),
                                         nextAction: try row.read(8, as: String?.self), nextActionAt: try row.read(9, as: Int64?.self), comments: [])
        }
        if !items.isEmpty {
            var comments: [RecordID: [ContactRecordListItem.Comment]] = [:]
            for row in try await pool.query("""
                SELECT m.contact_record_id::text, m.id::text, m.author_id::text, u.name, coalesce(m.body, '')
                FROM manager_comments m LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.author_id
                WHERE m.tenant_id = $1 AND m.contact_record_id = ANY($2::uuid[]) ORDER BY m.id
                """, [office.tenant.uuidString, PostgresArray.literal(items.map(\.id))]) {
                let id = RecordID(try row.read(1, as: String.self))!
                comments[RecordID(try row.read(0, as: String.self))!, default: []].append(.init(
                    id: id, author: try row.read(2, as: String?.self).flatMap { RecordID($0) }, authorName: try row.read(3, as: String?.self),
                    createdAt: Int64(id.milliseconds), body: try row.read(4, as: String.self)))
            }
            for index in items.indices { items[index].comments = comments[items[index].id] ?? [] }
        }
        return Page(items: items, next: rows.count > limit ? items.last?.id.uuidString : nil)
    }
}

// MARK: - Shelf counts

extension SyncStore {
    /// One shelf count in the office's list: what a rep counted on a store's shelf.
    public struct ShelfCountListItem: Sendable, Hashable {
        /// The count, its visit, the store and the product.
        public var id: RecordID, visit: RecordID, customer: RecordID?, customerName: String?, product: RecordID, productName: String?, sku: String?
        /// How many were on the shelf, and when they were counted (ms since the epoch).
        public var quantity: Int64, countedAt: Int64?
        /// The rep the visit was assigned to.
        public var rep: RecordID?, repName: String?
    }

    /// What a shelf-count list keeps.
    public struct ShelfCountFilter: Sendable, Hashable {
        /// Only this store's counts, this product's, or those of this rep's visits.
        public var customer: RecordID?
        /// See ``customer``.
        public var product: RecordID?
        /// See ``customer``.
        public var rep: RecordID?
        /// Only counts made in `[from, to)` (ms since the epoch).
        public var from: Int64?
        /// See ``from``.
        public var to: Int64?

        /// A filter; every part optional.
        public init(customer: RecordID? = nil, product: RecordID? = nil, rep: RecordID? = nil, from: Int64? = nil, to: Int64? = nil) {
            (self.customer, self.product, self.rep, self.from, self.to) = (customer, product, rep, from, to)
        }
    }

    /// Shelf counts matching `filter`, latest counted first (then id), `limit` at a time after the
    /// cursor `after`; a manager sees those of their team's visits.
    public func shelfCounts(_ filter: ShelfCountFilter, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<ShelfCountListItem> {
        let (position, team) = try await listScope(limit: limit, after: cursor, by: office)
        let rows = try await pool.query("""
            SELECT s.id::text, s.visit_id::text, v.customer_id::text, c.name, s.product_id::text, p.name, p.sku, coalesce(s.quantity, 0), s.counted_at,
                   v.assignee_id::text, u.name, coalesce(s.counted_at, 0)
            FROM shelf_stock_counts s
            LEFT JOIN visits v ON v.tenant_id = s.tenant_id AND v.id = s.visit_id
            LEFT JOIN customers c ON c.tenant_id = s.tenant_id AND c.id = v.customer_id
            LEFT JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
            LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = v.assignee_id
            WHERE s.tenant_id = $1
              AND ($2 = '' OR v.customer_id::text = $2) AND ($3 = '' OR s.product_id::text = $3) AND ($4 = '' OR v.assignee_id::text = $4)
              AND coalesce(s.counted_at, 0) >= $5 AND coalesce(s.counted_at, 0) < $6
              AND (NOT $7 OR v.assignee_id = ANY($8::uuid[]))
              AND (NOT $9 OR (coalesce(s.counted_at, 0), s.id) < ($10, $11::uuid))
            ORDER BY coalesce(s.counted_at, 0) DESC, s.id DESC
            LIMIT $12
            """, [office.tenant.uuidString, filter.customer?.uuidString ?? "", filter.product?.uuidString ?? "", filter.rep?.uuidString ?? "",
                  filter.from ?? Int64.min, filter.to ?? Int64.max, team != nil, PostgresArray.literal(team ?? []),
                  position != nil, position?.date ?? 0, (position?.id ?? RecordID(high: 0, low: 0)).uuidString, Int64(limit + 1)])
        var keys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            keys.append(try row.read(11, as: Int64.self))
            return ShelfCountListItem(id: RecordID(try row.read(0, as: String.self))!, visit: RecordID(try row.read(1, as: String.self))!,
                                      customer: try row.read(2, as: String?.self).flatMap { RecordID($0) }, customerName: try row.read(3, as: String?.self),
                                      product: RecordID(try row.read(4, as: String.self))!, productName: try row.read(5, as: String?.self),
                                      sku: try row.read(6, as: String?.self), quantity: try row.read(7, as: Int64.self), countedAt: try row.read(8, as: Int64?.self),
                                      rep: try row.read(9, as: String?.self).flatMap { RecordID($0) }, repName: try row.read(10, as: String?.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last.map { "\(keys.last!)_\($0.id.uuidString)" } : nil)
    }
}
