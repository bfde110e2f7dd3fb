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
    func listScope(limit: Int, status: String?, of machine: StateMachine, after cursor: String?,
                   by office: OfficeUser) async throws -> (position: (date: Int64, id: RecordID)?, team: [RecordID]?) {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let status, machine.order.rank(of: status) == nil {
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
