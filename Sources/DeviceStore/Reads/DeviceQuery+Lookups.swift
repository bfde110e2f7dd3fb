public import SyncCore

/// What a rep looks up on the phone: the day's visits, customers and products by name, a visit
/// with its tasks, the last price a customer paid for a product. Read from the replica, offline.
extension DeviceStore {
    /// A customer in a list.
    public struct CustomerSummary: Sendable, Hashable {
        /// The customer.
        public var id: RecordID
        /// Its name, phone, city and tax number.
        public var name: String
        /// See ``name``.
        public var phone: String?
        /// See ``name``.
        public var city: String?
        /// See ``name``.
        public var taxNumber: String?
        /// `active`, `unverified`, …
        public var status: String?
    }

    /// A product in a list.
    public struct ProductSummary: Sendable, Hashable {
        /// The product.
        public var id: RecordID
        /// Its stock-keeping code, name and unit.
        public var sku: String
        /// See ``sku``.
        public var name: String
        /// See ``sku``.
        public var unit: String?
        /// Whether it may be sold.
        public var active: Bool
    }

    /// A visit with its customer and tasks.
    public struct VisitDetail: Sendable, Hashable {
        /// The visit as the day's list shows it.
        public var summary: VisitSummary
        /// The visit's tasks, required ones first.
        public var tasks: [Task]

        /// One task of a visit.
        public struct Task: Sendable, Hashable {
            /// The task.
            public var id: RecordID
            /// `shelf_count`, `photo`, `survey`, …
            public var taskType: String
            /// Whether the visit may not complete without it.
            public var required: Bool
            /// `pending`, `done`, `skipped`.
            public var status: String
            /// What the rep recorded (a typed task's text answer).
            public var result: String?
            /// A typed task's question, the kind of answer it takes (`yes_no`, `number`, `text`,
            /// `photo`; `nil`: free text) and a number's range.
            public var label: String? = nil, answerKind: String? = nil, minValue: Int64? = nil, maxValue: Int64? = nil
            /// A typed task's answer: yes or no, a number, a photo (an attachment).
            public var yesNo: Bool? = nil, numberValue: Int64? = nil, photo: RecordID? = nil
        }
    }

    /// The last price a customer paid for a product, and when it was ordered.
    public struct LastPrice: Sendable, Hashable {
        /// The unit price, in minor units.
        public var unitPriceMinor: Int64
        /// When the order was placed, in milliseconds since the epoch.
        public var orderedAt: Int64?
    }

    /// Customers the phone holds whose name, phone or tax number contains `search` (any case;
    /// every customer when `nil`), by name, at most `limit`.
    public func customers(search: String? = nil, limit: Int = 50) async throws -> [CustomerSummary] {
        try await read(.customers(search: search, limit: limit))
    }

    /// Products whose name or code contains `search` (any case; every product when `nil`), by
    /// name, at most `limit`.
    public func products(search: String? = nil, limit: Int = 50) async throws -> [ProductSummary] {
        try await read(.products(search: search, limit: limit))
    }

    /// A visit with its customer and tasks; `nil` when the phone does not hold it.
    public func visit(_ id: RecordID) async throws -> VisitDetail? {
        try await read(.visit(id))
    }

    /// The last price `customer` paid for `product`, as the server last recorded it; `nil` when
    /// the customer never ordered it.
    public func lastPrice(customer: RecordID, product: RecordID) async throws -> LastPrice? {
        try await read(.lastPrice(customer: customer, product: product))
    }

    /// A product a store's shelf was empty of at its latest count.
    public struct OutOfStock: Sendable, Hashable {
        /// The product, its code and name.
        public var product: RecordID, sku: String?, name: String
        /// When it was last counted (ms since the epoch), and on which visit.
        public var countedAt: Int64, visit: RecordID
    }

    /// The products `customer`'s shelf was empty of at their latest count on the phone's visits
    /// there, by name: what to offer, or report, at the next visit.
    public func outOfStock(customer: RecordID) async throws -> [OutOfStock] {
        try await read(.outOfStock(customer: customer))
    }
}

extension DeviceQuery where Value == [DeviceStore.CustomerSummary] {
    /// Customers whose name, phone or tax number contains `search` (any case; every customer
    /// when `nil`), by name, at most `limit`. A search of three characters or more goes
    /// through the search index; a shorter one reads every customer.
    public static func customers(search: String? = nil, limit: Int = 50) -> Self {
        Self { db, _ in
            let columns = "SELECT id, name, phone, city, tax_number, status FROM customers"
            let rows = try SearchIndex.customers.rows(matching: search, limit: limit, in: db) ?? db.query("""
                \(columns) WHERE _deleted = 0 AND (?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(phone, ?1) > 0 OR instr(lower(tax_number), lower(?1)) > 0)
                ORDER BY name, id LIMIT ?2
                """, [search, Int64(limit)])
            return try rows.map { row in
                DeviceStore.CustomerSummary(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, name: try row.read(1, as: String?.self) ?? "",
                                            phone: try row.read(2, as: String?.self), city: try row.read(3, as: String?.self),
                                            taxNumber: try row.read(4, as: String?.self), status: try row.read(5, as: String?.self))
            }
        }
    }
}

extension DeviceQuery where Value == [DeviceStore.ProductSummary] {
    /// Products whose name or code contains `search` (any case; every product when `nil`), by
    /// name, at most `limit`. A search of three characters or more goes through the search
    /// index; a shorter one reads every product.
    public static func products(search: String? = nil, limit: Int = 50) -> Self {
        Self { db, _ in
            let rows = try SearchIndex.products.rows(matching: search, limit: limit, in: db) ?? db.query("""
                SELECT id, sku, name, unit, active FROM products
                WHERE _deleted = 0 AND (?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(sku), lower(?1)) > 0)
                ORDER BY name, id LIMIT ?2
                """, [search, Int64(limit)])
            return try rows.map { row in
                DeviceStore.ProductSummary(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, sku: try row.read(1, as: String?.self) ?? "",
                                           name: try row.read(2, as: String?.self) ?? "", unit: try row.read(3, as: String?.self),
                                           active: (try row.read(4, as: Int64?.self) ?? 0) != 0)
            }
        }
    }
}

/// A full-text index over a record table's searchable columns (SQLite FTS5, trigram: any run of
/// three or more characters, in any case), kept apart from the table and rebuilt on the first
/// search after a commit wrote the table: rebuilding 20,000 products takes about 40 ms, while
/// keeping the index by triggers would add about 20 µs to every row a pull writes (a second
/// on a realistic rep's priming).
struct SearchIndex: Sendable {
    /// The indexed table, the index's name, and the columns indexed.
    let table: String
    let name: String
    let columns: [String]
    /// The columns a search returns, as the table's list query reads them.
    let selected: String

    static let customers = SearchIndex(table: "customers", name: "customers_search", columns: ["name", "phone", "tax_number"],
                                       selected: "id, name, phone, city, tax_number, status")
    static let products = SearchIndex(table: "products", name: "products_search", columns: ["name", "sku"], selected: "id, sku, name, unit, active")

    var createSQL: String {
        "CREATE VIRTUAL TABLE \(name) USING fts5(\(columns.joined(separator: ", ")), content='\(table)', content_rowid='rowid', tokenize='trigram')"
    }

    /// The rows whose indexed columns contain `search`, by name, or `nil` when the index cannot
    /// answer (no search, or fewer than three characters).
    func rows(matching search: String?, limit: Int, in db: isolated SQLiteDatabase) throws -> [SQLiteRow]? {
        guard let search, search.count >= 3 else { return nil }
        let generation = db.generation(of: table)
        if db.builtGeneration(of: name) != generation {
            try db.execute("INSERT INTO \(name)(\(name)) VALUES ('rebuild')")
            db.setBuiltGeneration(of: name, generation)
        }
        // An FTS5 string: the search as one phrase, its quotes doubled.
        let phrase = "\"" + search.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        return try db.query("""
            SELECT \(selected) FROM \(table) WHERE rowid IN (SELECT rowid FROM \(name) WHERE \(name) MATCH ?) AND _deleted = 0
            ORDER BY name, id LIMIT ?
            """, [phrase, Int64(limit)])
    }
}
extension DeviceQuery where Value == [DeviceStore.VisitSummary] {
    /// The signed-in user's visits planned to start in `[start, end)` (milliseconds since the
    /// epoch), in planned order, with their customers: a day's or a week's plan.
    public static func visits(from start: Int64, to end: Int64) -> Self {
        Self { db, _ in
            try db.query("""
                \(DeviceStore.VisitSummary.select)
                WHERE v.assignee_id = ? AND v.planned_start >= ? AND v.planned_start < ? AND v._deleted = 0
                ORDER BY v.planned_start, v.sequence
                """, [try DeviceStore.signedInUser(in: db).bytes, start, end]).map(DeviceStore.VisitSummary.init(row:))
        }
    }
}

extension DeviceQuery where Value == DeviceStore.VisitDetail? {
    /// A visit with its customer and tasks; `nil` when the phone does not hold it.
    public static func visit(_ id: RecordID) -> Self {
        Self { db, _ in
            guard let row = try db.query("\(DeviceStore.VisitSummary.select) WHERE v.id = ? AND v._deleted = 0", [id.bytes]).first else { return nil }
            return DeviceStore.VisitDetail(summary: try DeviceStore.VisitSummary(row: row), tasks: try DeviceStore.VisitDetail.tasks(of: id, in: db))
        }
    }
}

extension DeviceQuery where Value == [DeviceStore.VisitDetail] {
    /// The signed-in user's visits planned to start in `[start, end)`, in planned order, each
    /// with its customer and tasks: a day's or a week's plan as the rep works it.
    public static func plan(from start: Int64, to end: Int64) -> Self {
        let visits = DeviceQuery<[DeviceStore.VisitSummary]>.visits(from: start, to: end)
        return Self { db, schema in
            try visits.body(db, schema).map { DeviceStore.VisitDetail(summary: $0, tasks: try DeviceStore.VisitDetail.tasks(of: $0.id, in: db)) }
        }
    }
}

extension DeviceStore.VisitDetail {
    /// A visit's tasks, required ones first.
    static func tasks(of visit: RecordID, in db: isolated SQLiteDatabase) throws -> [Task] {
        try db.query("""
            SELECT id, task_type, required, status, result, label, answer_kind, min_value, max_value, yes_no, number_value, photo_attachment_id
            FROM visit_tasks WHERE visit_id = ? AND _deleted = 0
            ORDER BY required DESC, task_type, id
            """, [visit.bytes]).map { task in
            Task(id: RecordID(bytes: try task.read(0, as: [UInt8].self))!, taskType: try task.read(1, as: String?.self) ?? "",
                 required: (try task.read(2, as: Int64?.self) ?? 0) != 0, status: try task.read(3, as: String?.self) ?? "pending",
                 result: try task.read(4, as: String?.self), label: try task.read(5, as: String?.self), answerKind: try task.read(6, as: String?.self),
                 minValue: try task.read(7, as: Int64?.self), maxValue: try task.read(8, as: Int64?.self), yesNo: try task.read(9, as: Int64?.self).map { $0 != 0 },
                 numberValue: try task.read(10, as: Int64?.self), photo: try task.read(11, as: [UInt8]?.self).flatMap { RecordID(bytes: $0) })
        }
    }
}

extension DeviceQuery where Value == DeviceStore.LastPrice? {
    /// The last price `customer` paid for `product`, as the server last recorded it; `nil` when
    /// the customer never ordered it.
    public static func lastPrice(customer: RecordID, product: RecordID) -> Self {
        Self { db, _ in
            try db.query("""
                SELECT unit_price_minor, ordered_at FROM last_prices WHERE customer_id = ? AND product_id = ? AND _deleted = 0
                ORDER BY ordered_at DESC LIMIT 1
                """, [customer.bytes, product.bytes]).first.map { row in
                DeviceStore.LastPrice(unitPriceMinor: try row.read(0, as: Int64.self), orderedAt: try row.read(1, as: Int64?.self))
            }
        }
    }
}

extension DeviceQuery where Value == [DeviceStore.OutOfStock] {
    /// The products `customer`'s shelf was empty of at their latest count, by name.
    public static func outOfStock(customer: RecordID) -> Self {
        Self { db, _ in
            let rows = try db.query("""
                SELECT s.product_id, p.sku, p.name, s.counted_at, s.visit_id, s.quantity
                FROM visits v JOIN shelf_stock_counts s ON s.visit_id = v.id AND s._deleted = 0
                LEFT JOIN products p ON p.id = s.product_id
                WHERE v.customer_id = ? AND v._deleted = 0
                """, [customer.bytes])
            // The latest count of each product decides (then the later id, for two at the same time).
            var latest: [RecordID: (count: DeviceStore.OutOfStock, quantity: Int64)] = [:]
            for row in rows {
                guard let product = RecordID(bytes: try row.read(0, as: [UInt8].self)), let visit = RecordID(bytes: try row.read(4, as: [UInt8].self)) else { continue }
                let count = DeviceStore.OutOfStock(product: product, sku: try row.read(1, as: String?.self), name: try row.read(2, as: String?.self) ?? "",
                                                   countedAt: try row.read(3, as: Int64?.self) ?? 0, visit: visit)
                if let seen = latest[product], seen.count.countedAt > count.countedAt { continue }
                latest[product] = (count, try row.read(5, as: Int64?.self) ?? 0)
            }
            return latest.values.filter { $0.quantity == 0 }.map(\.count).sorted { ($0.name, $0.product.uuidString) < ($1.name, $1.product.uuidString) }
        }
    }
}
