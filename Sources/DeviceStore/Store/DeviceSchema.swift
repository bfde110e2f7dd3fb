import FieldModel
import SyncCore

/// The device's SQLite tables, derived from the field model's schema: one table per record type,
/// and the store's own bookkeeping.
///
/// A record table has `id` (16 bytes), then per field a value column named after the field and
/// the field's version in `<field>__clock` and `<field>__replica` (NULL while never written); a
/// state field adds `<field>__epoch`; a counter keeps its sum in the value column and every
/// replica's contribution in `counter_contributions`. `_tombstone_clock`/`_tombstone_replica` hold
/// the newest delete and `_deleted` whether the row reads as deleted.
struct DeviceSchema: Sendable {
    /// The store's own schema version; each step in ``migrations`` raises it by one.
    static let version = 21

    let schema: Schema
    let tables: [String: TableLayout]

    init(_ schema: Schema) {
        self.schema = schema
        tables = Dictionary(uniqueKeysWithValues: schema.tables.map { ($0.name, TableLayout($0)) })
    }

    /// The SQL that creates everything at ``version``, for a new store.
    var creationSQL: String {
        var sql = Self.bookkeeping + Self.attachmentBytes + ";\n" + Self.fetchedRows + ";\n" + Self.answered + ";\n"
        for table in schema.tables { sql += tables[table.name]!.createSQL }
        for index in Self.indexes { sql += index + ";\n" }
        return sql
    }

    /// Forward migrations: the SQL that takes a store from version `n` to `n + 1`, at index `n - 1`.
    /// A store written by an older release opens by running the steps it has not seen, each in the
    /// same transaction as the version bump.
    static let migrations: [String] = [
        // 1 → 2: a snapshot arrives in several pages; the cursor remembers the last row received.
        "ALTER TABLE bucket_cursors ADD COLUMN resume_tbl TEXT; ALTER TABLE bucket_cursors ADD COLUMN resume_id BLOB",
        // 2 → 3: the bytes of photos and signatures live on the phone until uploaded.
        attachmentBytes + "; " + attachmentsBySHA256,
        // 3 → 4: the indexes of the typed reads (a customer's contacts, last prices and outcomes by record).
        readIndexes.joined(separator: "; "),
        // 4 → 5: records fetched on demand, outside the phone's window.
        fetchedRows,
        // 5 → 6: a store's shelf counts by visit (its out-of-stock list).
        shelfCountsByVisit,
        // 6 → 7: the customer's comment with their rating of a work order.
        "ALTER TABLE work_orders ADD COLUMN rating_comment TEXT; ALTER TABLE work_orders ADD COLUMN rating_comment__clock INTEGER; "
            + "ALTER TABLE work_orders ADD COLUMN rating_comment__replica INTEGER",
        // 7 → 8: a work order's located arrival on site.
        ["arrival_latitude_e6", "arrival_longitude_e6", "arrival_accuracy_m", "arrival_mock_location", "arrival_distance_m", "arrival_verification"].map { field in
            let type = field == "arrival_verification" ? "TEXT" : "INTEGER"
            return "ALTER TABLE work_orders ADD COLUMN \(field) \(type); ALTER TABLE work_orders ADD COLUMN \(field)__clock INTEGER; "
                + "ALTER TABLE work_orders ADD COLUMN \(field)__replica INTEGER"
        }.joined(separator: "; "),
        // 8 → 9: technicians' resources and work-order types; a work order's appointment and dispatch.
        (["work_order_types", "work_order_type_skills", "technician_profiles", "technician_skills", "service_territories", "absences"].map { name in
            TableLayout(FieldSalesSchema.schema.table(name)!).createSQL
        } + [("work_orders", "scheduled_start", "INTEGER"), ("work_orders", "scheduled_end", "INTEGER"), ("work_orders", "dispatch_mode", "TEXT"),
             ("work_orders", "dispatch_reason", "TEXT"), ("tenants", "auto_dispatch", "INTEGER")].map { table, field, type in
            "ALTER TABLE \(table) ADD COLUMN \(field) \(type); ALTER TABLE \(table) ADD COLUMN \(field)__clock INTEGER; "
                + "ALTER TABLE \(table) ADD COLUMN \(field)__replica INTEGER;"
        }).joined(separator: "\n"),
        // 9 → 10: a work order's service levels.
        [("response_due_at", "INTEGER"), ("arrival_due_at", "INTEGER"), ("service_level_breach", "TEXT")].map { field, type in
            "ALTER TABLE work_orders ADD COLUMN \(field) \(type); ALTER TABLE work_orders ADD COLUMN \(field)__clock INTEGER; "
                + "ALTER TABLE work_orders ADD COLUMN \(field)__replica INTEGER"
        }.joined(separator: "; "),
        // 10 → 11: assets' maintenance plans; a work order's plan and due date.
        createSQL("maintenance_plans", without: ["meter", "interval_meter", "meter_start"])
            + [("maintenance_plan_id", "BLOB"), ("due_at", "INTEGER")].map { field, type in
                "ALTER TABLE work_orders ADD COLUMN \(field) \(type); ALTER TABLE work_orders ADD COLUMN \(field)__clock INTEGER; "
                    + "ALTER TABLE work_orders ADD COLUMN \(field)__replica INTEGER;"
            }.joined(separator: "\n"),
        // 11 → 12: service steps and their answers.
        ["work_order_type_steps", "step_answers"].map { TableLayout(FieldSalesSchema.schema.table($0)!).createSQL }.joined() + stepAnswersByWorkOrder,
        // 12 → 13: assets' meter readings; plans by meter and the reading a work order is due at.
        TableLayout(FieldSalesSchema.schema.table("meter_readings")!).createSQL + meterReadingsByAsset + ";\n"
            + [("maintenance_plans", "meter", "TEXT"), ("maintenance_plans", "interval_meter", "INTEGER"), ("maintenance_plans", "meter_start", "INTEGER"),
               ("work_orders", "due_meter", "INTEGER")].map { table, field, type in
                "ALTER TABLE \(table) ADD COLUMN \(field) \(type); ALTER TABLE \(table) ADD COLUMN \(field)__clock INTEGER; "
                    + "ALTER TABLE \(table) ADD COLUMN \(field)__replica INTEGER;"
            }.joined(separator: "\n"),
        // 13 → 14: the ERP's key on customers, contacts, products and price lists.
        ["customers", "contacts", "products", "price_lists"].map { table in
            "ALTER TABLE \(table) ADD COLUMN erp_reference TEXT; ALTER TABLE \(table) ADD COLUMN erp_reference__clock INTEGER; "
                + "ALTER TABLE \(table) ADD COLUMN erp_reference__replica INTEGER;"
        }.joined(separator: "\n"),
        // 14 → 15: what the ERP invoiced for an order.
        "ALTER TABLE sales_orders ADD COLUMN invoiced_minor INTEGER; ALTER TABLE sales_orders ADD COLUMN invoiced_minor__clock INTEGER; "
            + "ALTER TABLE sales_orders ADD COLUMN invoiced_minor__replica INTEGER",
        // 15 → 16: a price list's end of validity, and the tenant's default lists.
        [("valid_to", "INTEGER"), ("is_default", "INTEGER")].map { field, type in
            "ALTER TABLE price_lists ADD COLUMN \(field) \(type); ALTER TABLE price_lists ADD COLUMN \(field)__clock INTEGER; "
                + "ALTER TABLE price_lists ADD COLUMN \(field)__replica INTEGER"
        }.joined(separator: "; "),
        // 16 → 17: quotes, and the quote an order was converted from.
        ["quotes", "quote_lines"].map { TableLayout(FieldSalesSchema.schema.table($0)!).createSQL }.joined() + quoteLinesByQuote + ";\n"
            + "ALTER TABLE sales_orders ADD COLUMN quote_id BLOB; ALTER TABLE sales_orders ADD COLUMN quote_id__clock INTEGER; "
            + "ALTER TABLE sales_orders ADD COLUMN quote_id__replica INTEGER",
        // 17 → 18: recurring visit plans, weekly plans and their proposed visits; where a visit came
        // from; a visit task's question, kind of answer and typed answer.
        ["visit_schedules", "week_plans", "week_plan_visits"].map { TableLayout(FieldSalesSchema.schema.table($0)!).createSQL }.joined() + weekPlanVisitsByPlan + ";\n"
            + [("visits", "schedule_id", "BLOB"), ("visits", "week_plan_id", "BLOB"), ("visit_tasks", "label", "TEXT"), ("visit_tasks", "answer_kind", "TEXT"),
               ("visit_tasks", "min_value", "INTEGER"), ("visit_tasks", "max_value", "INTEGER"), ("visit_tasks", "yes_no", "INTEGER"),
               ("visit_tasks", "number_value", "INTEGER"), ("visit_tasks", "photo_attachment_id", "BLOB"), ("visit_tasks", "answered_at", "INTEGER")].map { table, field, type in
                "ALTER TABLE \(table) ADD COLUMN \(field) \(type); ALTER TABLE \(table) ADD COLUMN \(field)__clock INTEGER; "
                    + "ALTER TABLE \(table) ADD COLUMN \(field)__replica INTEGER;"
            }.joined(separator: "\n"),
        // 18 → 19: users who left.
        "ALTER TABLE users ADD COLUMN active INTEGER; ALTER TABLE users ADD COLUMN active__clock INTEGER; ALTER TABLE users ADD COLUMN active__replica INTEGER",
        // 19 → 20: answered change sets, kept to be uploaded again after the server's database is restored.
        answered,
        // 20 → 21: the answered change sets by when they were answered, so that pruning them does not
        // read them all after every push.
        answeredByTime,
    ]

    /// A weekly plan's proposed visits (`DeviceStore.weekPlan`).
    static let weekPlanVisitsByPlan = "CREATE INDEX week_plan_visits_by_plan ON week_plan_visits (week_plan_id)"

    /// A quote's lines (`DeviceStore.quoteLines`).
    static let quoteLinesByQuote = "CREATE INDEX quote_lines_by_quote ON quote_lines (quote_id)"

    /// The table as a step that created it saw it: today's layout without the fields a later step adds.
    static func createSQL(_ name: String, without later: Set<String>) -> String {
        let table = FieldSalesSchema.schema.table(name)!
        return TableLayout(TableSchema(name: table.name, kind: table.kind, tombstones: table.tombstones, fields: table.fields.filter { !later.contains($0.name) },
                                       buckets: table.buckets, phoneWindow: table.phoneWindow)).createSQL
    }

    /// An asset's meter readings, latest last (`DeviceStore.meterReadings(asset:)`).
    static let meterReadingsByAsset = "CREATE INDEX meter_readings_by_asset ON meter_readings (asset_id, meter, read_at)"

    /// A work order's step answers, for its checklist (`DeviceStore.workOrderSteps`).
    static let stepAnswersByWorkOrder = "CREATE INDEX step_answers_by_work_order ON step_answers (work_order_id, step_id)"

    /// A visit's shelf counts, for a store's out-of-stock list (`DeviceStore.outOfStock(customer:)`).
    static let shelfCountsByVisit = "CREATE INDEX shelf_stock_counts_by_visit ON shelf_stock_counts (visit_id, product_id)"

    /// The records the phone fetched on demand (see `DeviceStore+Fetched.swift`): kept though no
    /// bucket holds them, until they are released.
    static let fetchedRows = "CREATE TABLE fetched_rows (tbl TEXT NOT NULL, id BLOB NOT NULL, fetched_at INTEGER NOT NULL, PRIMARY KEY (tbl, id)) WITHOUT ROWID"

    /// The indexes the typed reads of `DeviceQuery+Details.swift` added.
    static let readIndexes = [
        "CREATE INDEX contacts_by_customer ON contacts (customer_id, name)",
        "CREATE INDEX last_prices_by_customer ON last_prices (customer_id, ordered_at)",
        "CREATE INDEX outcomes_by_record ON outcomes (record)",
        SearchIndex.customers.createSQL,
        SearchIndex.products.createSQL,
    ]

    /// The phone's own store of photo and signature bytes, one row per SHA-256 (see
    /// `DeviceStore+Attachments.swift`). A rowid table: its rows are large.
    static let attachmentBytes = """
        CREATE TABLE attachment_bytes (
            sha256 TEXT NOT NULL PRIMARY KEY,
            media_type TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            bytes BLOB,
            upload TEXT NOT NULL CHECK (upload IN ('waiting', 'uploaded', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            used_at INTEGER NOT NULL
        )
        """
    static let attachmentsBySHA256 = "CREATE INDEX attachments_by_sha256 ON attachments (sha256)"

    /// Change sets the server answered, kept ``DeviceStore/Options/answeredKeepMilliseconds`` under
    /// their outbox sequence, to go back in the outbox when the server's generation changes
    /// (`DeviceStore+Generations.swift`).
    static let answered = """
        CREATE TABLE answered_change_sets (
            seq INTEGER PRIMARY KEY,
            change_set_id BLOB NOT NULL UNIQUE,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            answered_at INTEGER NOT NULL
        )
        """

    static let answeredByTime = "CREATE INDEX answered_change_sets_by_time ON answered_change_sets (answered_at)"

    /// Forgets the answered change sets kept longer than ``DeviceStore/Options/answeredKeepMilliseconds``
    /// (its parameter: the oldest time kept), after every push's answer.
    static let pruneAnswered = "DELETE FROM answered_change_sets WHERE answered_at < ?"

    /// The store's bookkeeping tables.
    static let bookkeeping = """
        CREATE TABLE store_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            change_set_id BLOB NOT NULL UNIQUE,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE outbox_rows (seq INTEGER NOT NULL REFERENCES outbox ON DELETE CASCADE, tbl TEXT NOT NULL, id BLOB NOT NULL,
                                  PRIMARY KEY (tbl, id, seq)) WITHOUT ROWID;
        CREATE INDEX outbox_rows_by_seq ON outbox_rows (seq);
        CREATE TABLE outcomes (
            change_id BLOB PRIMARY KEY,
            change_set_id BLOB NOT NULL,
            tbl TEXT NOT NULL,
            record BLOB NOT NULL,
            result TEXT NOT NULL,
            reason TEXT,
            findings TEXT NOT NULL,
            server_state BLOB,
            received_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX outcomes_by_result ON outcomes (result, received_at);
        CREATE TABLE bucket_cursors (bucket TEXT PRIMARY KEY, sequence INTEGER NOT NULL, resume_tbl TEXT, resume_id BLOB) WITHOUT ROWID;
        CREATE TABLE row_buckets (bucket TEXT NOT NULL, tbl TEXT NOT NULL, id BLOB NOT NULL, PRIMARY KEY (bucket, tbl, id)) WITHOUT ROWID;
        CREATE INDEX row_buckets_by_row ON row_buckets (tbl, id);
        CREATE TABLE counter_contributions (
            tbl TEXT NOT NULL, id BLOB NOT NULL, field TEXT NOT NULL, replica INTEGER NOT NULL,
            total INTEGER NOT NULL, clock INTEGER NOT NULL,
            PRIMARY KEY (tbl, id, field, replica)
        ) WITHOUT ROWID;
        CREATE TABLE conflicts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            tbl TEXT NOT NULL, record BLOB NOT NULL, field TEXT NOT NULL,
            winner BLOB NOT NULL, loser BLOB NOT NULL,
            seen_at INTEGER NOT NULL
        );

        """

    /// The indexes behind the device's everyday queries (checked by a query-plan test).
    static let indexes = [
        "CREATE INDEX visits_by_assignee_and_start ON visits (assignee_id, planned_start)",
        "CREATE INDEX visits_by_customer ON visits (customer_id, planned_start)",
        "CREATE INDEX sales_orders_by_customer ON sales_orders (customer_id, order_date)",
        "CREATE INDEX order_lines_by_order ON order_lines (order_id)",
        "CREATE INDEX payments_by_order ON payments (order_id)",
        "CREATE INDEX geo_events_by_visit ON geo_events (visit_id, device_time)",
        "CREATE INDEX visit_tasks_by_visit ON visit_tasks (visit_id)",
        "CREATE INDEX work_orders_by_assignee ON work_orders (assignee_id, window_start)",
        "CREATE INDEX price_list_entries_by_list ON price_list_entries (price_list_id, product_id)",
        "CREATE INDEX customers_by_territory ON customers (territory_id, name)",
        "CREATE INDEX stock_levels_by_location ON stock_levels (stock_location_id, product_id)",
        "CREATE INDEX parts_used_by_work_order ON parts_used (work_order_id)",
        "CREATE INDEX contact_records_by_customer ON contact_records (customer_id)",
        attachmentsBySHA256,
        shelfCountsByVisit,
        stepAnswersByWorkOrder,
        meterReadingsByAsset,
        quoteLinesByQuote,
        weekPlanVisitsByPlan,
        answeredByTime,
    ] + readIndexes
}

/// How one record table maps to SQLite columns. A class, so that looking one up per change copies
/// a reference, not the table's schema.
final class TableLayout: Sendable {
    /// How a field is stored: its value column, then (for a state) its epoch, then its version.
    enum Storage: Sendable {
        /// A value column and two version columns.
        case plain(FieldType)
        /// A state: value, epoch and version columns.
        case state(FieldType)
        /// A counter: its sum in the value column (its contributions apart) and its version.
        case counter

        /// The field's columns, in order.
        func columns(of field: String) -> [String] {
            if case .state = self { [field, "\(field)__epoch", "\(field)__clock", "\(field)__replica"] } else { [field, "\(field)__clock", "\(field)__replica"] }
        }
    }

    let table: TableSchema
    /// Every field's name and storage, in column order: what reading and writing a row walk,
    /// without copying the fields' schemas.
    let fields: [(name: String, storage: Storage)]
    let upsertSQL: SQLiteSQL
    let selectSQL: SQLiteSQL

    init(_ table: TableSchema) {
        self.table = table
        fields = table.fields.map { field in
            switch field.type {
            case .state: (field.name, .state(field.type))
            case .counter: (field.name, .counter)
            default: (field.name, .plain(field.type))
            }
        }
        // Every column after `id`, in order.
        let columns = fields.flatMap { $0.storage.columns(of: $0.name) } + ["_tombstone_clock", "_tombstone_replica", "_deleted"]
        let all = ["id"] + columns
        // An upsert updates the row in place (REPLACE would delete and re-insert it, touching every index).
        upsertSQL = SQLiteSQL("INSERT INTO \(table.name) (\(all.joined(separator: ", "))) VALUES (\(all.map { _ in "?" }.joined(separator: ", "))) "
            + "ON CONFLICT (id) DO UPDATE SET \(columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))")
        selectSQL = SQLiteSQL("SELECT \(all.joined(separator: ", ")) FROM \(table.name) WHERE id = ?")
    }

    var createSQL: String {
        var definitions = ["id BLOB PRIMARY KEY"]
        for field in table.fields {
            definitions.append("\(field.name) \(Self.sqlType(field.type))")
            if case .state = field.type { definitions.append("\(field.name)__epoch INTEGER") }
            definitions += ["\(field.name)__clock INTEGER", "\(field.name)__replica INTEGER"]
        }
        definitions += ["_tombstone_clock INTEGER", "_tombstone_replica INTEGER", "_deleted INTEGER NOT NULL DEFAULT 0"]
        return "CREATE TABLE \(table.name) (\n    \(definitions.joined(separator: ",\n    "))\n);\n"
    }

    static func sqlType(_ type: FieldType) -> String {
        switch type {
        case .bool, .integer, .money, .decimal, .timestamp, .counter: "INTEGER"
        case .text, .blobReference, .state: "TEXT"
        case .reference: "BLOB"
        }
    }
}
