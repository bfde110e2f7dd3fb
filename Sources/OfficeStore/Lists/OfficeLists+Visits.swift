public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

extension SyncStore {
    /// One visit in the office's list.
    public struct VisitListItem: Sendable, Hashable, Identified {
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
        let (position, sight) = try await listScope(limit: limit, status: filter.status, of: Lifecycles.visit, after: cursor, by: office)
        let query = TimeOrderedQuery(
            columns: """
                v.id::text, v.customer_id::text, coalesce(c.name, ''), v.assignee_id::text, u.name, coalesce(v.visit_type, ''), coalesce(v.status, 'planned'),
                v.creation_mode, v.planned_start, v.planned_end, v.actual_start, v.actual_end, v.executed_by::text, v.abandon_reason
                """,
            source: """
                visits v
                LEFT JOIN customers c ON c.tenant_id = v.tenant_id AND c.id = v.customer_id
                LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.assignee_id
                """,
            alias: "v", time: "coalesce(v.planned_start, 0)", member: "v.assignee_id", customer: "v.customer_id",
            equals: [("v.status", filter.status), ("v.assignee_id", filter.assignee?.uuidString), ("v.customer_id", filter.customer?.uuidString)],
            from: filter.from, to: filter.to)
        return try await page(query, limit: limit, after: position, sight: sight, tenant: office.tenant) { row in
            VisitListItem(id: try row.read(0, as: RecordID.self), customer: try row.read(1, as: RecordID.self),
                          customerName: try row.read(2, as: String.self), assignee: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                          assigneeName: try row.read(4, as: String?.self), visitType: try row.read(5, as: String.self), status: try row.read(6, as: String.self),
                          creationMode: try row.read(7, as: String?.self), plannedStart: try row.read(8, as: Int64?.self), plannedEnd: try row.read(9, as: Int64?.self),
                          actualStart: try row.read(10, as: Int64?.self), actualEnd: try row.read(11, as: Int64?.self),
                          executedBy: try row.read(12, as: String?.self).flatMap { RecordID($0) }, abandonReason: try row.read(13, as: String?.self))
        }
    }
}

extension SyncStore {
    /// One shelf count in the office's list: what a rep counted on a store's shelf.
    public struct ShelfCountListItem: Sendable, Hashable, Identified {
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
        let (position, sight) = try await listScope(limit: limit, after: cursor, by: office)
        let query = TimeOrderedQuery(
            columns: """
                s.id::text, s.visit_id::text, v.customer_id::text, c.name, s.product_id::text, p.name, p.sku, coalesce(s.quantity, 0), s.counted_at,
                v.assignee_id::text, u.name
                """,
            source: """
                shelf_stock_counts s
                LEFT JOIN visits v ON v.tenant_id = s.tenant_id AND v.id = s.visit_id
                LEFT JOIN customers c ON c.tenant_id = s.tenant_id AND c.id = v.customer_id
                LEFT JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
                LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = v.assignee_id
                """,
            alias: "s", time: "coalesce(s.counted_at, 0)", member: "v.assignee_id", customer: "v.customer_id",
            equals: [("v.customer_id", filter.customer?.uuidString), ("s.product_id", filter.product?.uuidString), ("v.assignee_id", filter.rep?.uuidString)],
            from: filter.from, to: filter.to)
        return try await page(query, limit: limit, after: position, sight: sight, tenant: office.tenant) { row in
            ShelfCountListItem(id: try row.read(0, as: RecordID.self), visit: try row.read(1, as: RecordID.self),
                               customer: try row.read(2, as: String?.self).flatMap { RecordID($0) }, customerName: try row.read(3, as: String?.self),
                               product: try row.read(4, as: RecordID.self), productName: try row.read(5, as: String?.self),
                               sku: try row.read(6, as: String?.self), quantity: try row.read(7, as: Int64.self), countedAt: try row.read(8, as: Int64?.self),
                               rep: try row.read(9, as: String?.self).flatMap { RecordID($0) }, repName: try row.read(10, as: String?.self))
        }
    }
}

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
        let (_, sight) = try await listScope(limit: limit, after: nil, by: office)
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
              AND (NOT $10 OR \(Self.customerIn("r.customer_id", territories: "$11")))
            ORDER BY r.id DESC
            LIMIT $9
            """, [office.tenant.uuidString, filter.customer?.uuidString ?? "", filter.author?.uuidString ?? "",
                  bound(filter.from, RecordID(high: 0, low: 0)), bound(filter.to, RecordID(high: .max, low: .max)),
                  sight.team != nil, PostgresArray.literal(sight.team ?? []), after?.uuidString ?? "", Int64(limit + 1),
                  sight.territories != nil, PostgresArray.literal(sight.territories ?? [])])
        var items = try rows.prefix(limit).map { row in
            let id = try row.read(0, as: RecordID.self)
            return ContactRecordListItem(id: id, customer: try row.read(1, as: RecordID.self), customerName: try row.read(2, as: String?.self),
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
                let id = try row.read(1, as: RecordID.self)
                comments[try row.read(0, as: RecordID.self), default: []].append(.init(
                    id: id, author: try row.read(2, as: String?.self).flatMap { RecordID($0) }, authorName: try row.read(3, as: String?.self),
                    createdAt: Int64(id.milliseconds), body: try row.read(4, as: String.self)))
            }
            for index in items.indices { items[index].comments = comments[items[index].id] ?? [] }
        }
        return Page(items: items, next: rows.count > limit ? items.last?.id.uuidString : nil)
    }
}
