public import SyncCore

/// The field-sales schema: every record of DOMAIN.md §1, each field with its merge policy and
/// who may write it (DOMAIN.md §3), and each table's buckets.
///
/// This is the one place a table is declared. The device's SQLite tables, the server's
/// PostgreSQL tables, the merge, the wire validation and the authorization read it.
///
/// Conventions: ids are UUIDv7 (the `id` field is implicit); references end in `_id`; money is
/// `.money` (integer minor units) and ends in `_minor`; basis points end in `_bp`; coordinates are
/// integers in micro-degrees (`latitude_e6`); times are timestamps.
public enum FieldSalesSchema {
    /// The schema's revision.
    public static let revision = 1

    /// The schema.
    public static let schema: Schema = {
        do {
            return try Schema(revision: revision, tables: tables)
        } catch {
            fatalError("the field-sales schema is inconsistent: \(error)")
        }
    }()

    private static let shortText = FieldType.text(maxLength: 200)
    private static let longText = FieldType.text(maxLength: 4_000)
    private static func ref(_ table: String) -> FieldType { .reference(table) }
    private static func state(_ machine: StateMachine) -> FieldType { .state(machine.order) }

    // Declared ranges (DOMAIN.md §6): every number a device sends is checked against its field's
    // range before any rule computes with it.
    /// Latitudes in micro-degrees.
    static let latitudeRange: ClosedRange<Int64> = -90_000_000...90_000_000
    /// Longitudes in micro-degrees.
    static let longitudeRange: ClosedRange<Int64> = -180_000_000...180_000_000
    /// Distances and radii in meters (up to 20,000 km, half the earth round).
    static let metersRange: ClosedRange<Int64> = 0...20_000_000
    /// Basis points of a discount or policy: 0 to 100 %.
    static let basisPointsRange: ClosedRange<Int64> = 0...10_000
    /// A tax rate in thousandths of a percent: 0 to 100 %.
    static let taxRateRange: ClosedRange<Int64> = 0...100_000
    /// Quantities of goods.
    static let quantityRange: ClosedRange<Int64> = -1_000_000_000...1_000_000_000
    /// A meter's reading: never negative, at most a billion units (an integer field's limit).
    public static let meterRange: ClosedRange<Int64> = 0...1_000_000_000
    /// Amounts of money that cannot be negative (prices, payments, limits).
    static let amountRange: ClosedRange<Int64> = 0...1_000_000_000_000_000

    /// The kinds of geo event.
    public static let geoEventKinds = ["check_in", "check_out", "cancel"]
    /// An order's approval states (the managers' and the server's).
    public static let approvalStates = ["not_required", "pending", "approved", "rejected"]
    /// An order's credit states (the server's).
    public static let creditStates = ["ok", "hold", "released"]
    /// How a visit came to be.
    public static let creationModes = ["planned", "ad_hoc"]
    /// A customer's status.
    public static let customerStatuses = ["unverified", "active", "blocked"]
    /// Whether an attachment's bytes have arrived.
    public static let uploadStates = ["pending", "complete"]

    // What a phone keeps (its working set; see `PhoneWindow`): the day's work and the month behind
    // it, history for a quarter, anything still open, and everything ahead (a visit planned for
    // next month is on the phone already, so that time passing never has to send a row).
    /// Days of visits, plans and van stock movements a phone keeps behind today.
    public static let keptDays = 30
    /// Days of orders, work orders and contact records a phone keeps behind today.
    public static let keptHistoryDays = 90

    /// Every table, in an order in which references point to earlier tables.
    static let tables: [TableSchema] = organisation + catalogue + customers + visits + orders + fieldService

    // MARK: Organisation and access

    static let organisation: [TableSchema] = [
        TableSchema(name: "tenants", fields: [
            FieldSchema("name", shortText, access: .serverOnly),
            FieldSchema("time_zone", shortText, access: .serverOnly),
            FieldSchema("currency", .text(maxLength: 3), access: .serverOnly),
            FieldSchema("geofence_radius_m", .integer, access: .serverOnly, range: metersRange),
            // Whether the server dispatches new work orders itself (an admin's setting; a work
            // order's own `dispatch_mode` overrides it).
            FieldSchema("auto_dispatch", .bool, optional: true, access: .serverOnly),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "users", fields: [
            FieldSchema("role", .text(maxLength: 20), access: .serverOnly, vocabulary: Role.all.map(\.name)),
            FieldSchema("name", shortText, access: .serverOnly),
            FieldSchema("email", shortText, access: .serverOnly),
            FieldSchema("phone", .text(maxLength: 40), optional: true, access: .serverOnly),
            FieldSchema("manager_id", ref("users"), optional: true, access: .serverOnly),
            // A user who left (issue 21): kept for the history that names them, refused at sign-in
            // and on every request; `nil` is active (users from before the field).
            FieldSchema("active", .bool, optional: true, access: .serverOnly),
        ], buckets: [.field("id", prefix: Bucket.personalPrefix), .field("manager_id", prefix: Bucket.teamPrefix)]),
        TableSchema(name: "territories", fields: [
            FieldSchema("name", shortText, access: .managers),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "territory_owners", fields: [
            FieldSchema("territory_id", ref("territories"), access: .managers),
            FieldSchema("user_id", ref("users"), access: .managers),
            FieldSchema("valid_from", .timestamp, access: .managers),
            FieldSchema("valid_to", .timestamp, optional: true, access: .managers),
        ], buckets: [.field("user_id", prefix: Bucket.personalPrefix)]),
    ]

    // MARK: Catalogue

    static let catalogue: [TableSchema] = [
        TableSchema(name: "products", fields: [
            FieldSchema("sku", .text(maxLength: 64), access: .managers),
            FieldSchema("name", shortText, access: .managers),
            FieldSchema("category", .text(maxLength: 64), access: .managers),
            FieldSchema("unit", .text(maxLength: 64), access: .managers),
            FieldSchema("tax_rate_percent", .decimal(scale: 3), access: .managers, range: taxRateRange),
            FieldSchema("active", .bool, access: .managers),
            // The company's key for the record in its ERP: imports upsert by it (issue 20).
            FieldSchema("erp_reference", .text(maxLength: 64), optional: true, access: .serverOnly),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "price_lists", fields: [
            FieldSchema("name", shortText, access: .managers),
            FieldSchema("currency", .text(maxLength: 3), access: .managers),
            FieldSchema("tax_inclusive", .bool, access: .managers),
            FieldSchema("customer_group", .text(maxLength: 64), access: .managers),
            FieldSchema("valid_from", .timestamp, access: .managers),
            // The end of its validity (exclusive; none: open-ended): a group's next list takes over then (PriceLists).
            FieldSchema("valid_to", .timestamp, optional: true, access: .managers),
            // One of the tenant's default lists: what a customer without a list of its own is priced from.
            FieldSchema("is_default", .bool, optional: true, access: .managers),
            // The company's key for the record in its ERP: imports upsert by it (issue 20).
            FieldSchema("erp_reference", .text(maxLength: 64), optional: true, access: .serverOnly),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "price_list_entries", fields: [
            FieldSchema("price_list_id", ref("price_lists"), access: .managers),
            FieldSchema("product_id", ref("products"), access: .managers),
            FieldSchema("unit_price_minor", .money, access: .managers, range: amountRange),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "discount_policies", fields: [
            FieldSchema("role", .text(maxLength: 20), access: .managers),
            FieldSchema("discount_max_bp", .integer, access: .managers, range: basisPointsRange),
        ], buckets: [.constant(Bucket.catalog.name)]),
    ]

    // MARK: Customers

    static let customers: [TableSchema] = [
        TableSchema(name: "customers", tombstones: .updateWins, fields: [
            // A rep places a new customer in their own territory (checked on arrival); moving a
            // customer to another territory is the managers'.
            FieldSchema("territory_id", ref("territories"), access: WriteAccess.managers.onCreate([.rep, .technician])),
            FieldSchema("name", shortText, access: .everyone),
            FieldSchema("normalized_name", shortText, access: .serverOnly),
            FieldSchema("phone", .text(maxLength: 40), optional: true, access: .everyone),
            FieldSchema("tax_number", .text(maxLength: 40), optional: true, access: .everyone),
            FieldSchema("street_address", shortText, optional: true, access: .everyone),
            FieldSchema("city", .text(maxLength: 100), optional: true, access: .everyone),
            FieldSchema("postal_code", .text(maxLength: 20), optional: true, access: .everyone),
            FieldSchema("latitude_e6", .integer, optional: true, access: .everyone, range: latitudeRange),
            FieldSchema("longitude_e6", .integer, optional: true, access: .everyone, range: longitudeRange),
            FieldSchema("geofence_radius_m", .integer, optional: true, access: .office, range: metersRange),
            FieldSchema("customer_group", .text(maxLength: 64), access: .managers),
            FieldSchema("price_list_id", ref("price_lists"), optional: true, access: .managers),
            FieldSchema("credit_limit_minor", .money, access: .managers, range: amountRange),
            FieldSchema("payment_terms_days", .integer, access: .managers, range: 0...3_650),
            FieldSchema("status", .text(maxLength: 20), access: .managers, vocabulary: customerStatuses),
            FieldSchema("merged_into", ref("customers"), optional: true, access: .serverOnly),
            FieldSchema("outstanding_minor", .money, access: .serverOnly),
            // The company's key for the record in its ERP: imports upsert by it (issue 20).
            FieldSchema("erp_reference", .text(maxLength: 64), optional: true, access: .serverOnly),
        ], buckets: [
            .field("territory_id", prefix: Bucket.territoryPrefix),
            // Technicians own no territory: they see the customers of their work orders.
            .referrers("work_orders", through: "customer_id", field: "assignee_id", prefix: Bucket.personalPrefix),
        ]),
        TableSchema(name: "contacts", tombstones: .updateWins, fields: [
            FieldSchema("customer_id", ref("customers"), access: .everyone),
            FieldSchema("name", shortText, access: .everyone),
            FieldSchema("title", .text(maxLength: 100), optional: true, access: .everyone),
            FieldSchema("phone", .text(maxLength: 40), optional: true, access: .everyone),
            FieldSchema("email", shortText, optional: true, access: .everyone),
            // The company's key for the record in its ERP: imports upsert by it (issue 20).
            FieldSchema("erp_reference", .text(maxLength: 64), optional: true, access: .serverOnly),
        ], buckets: [.parent("customer_id", table: "customers")]),
        TableSchema(name: "last_prices", fields: [
            FieldSchema("customer_id", ref("customers"), access: .serverOnly),
            FieldSchema("product_id", ref("products"), access: .serverOnly),
            FieldSchema("unit_price_minor", .money, access: .serverOnly, range: amountRange),
            FieldSchema("ordered_at", .timestamp, access: .serverOnly),
        ], buckets: [.parent("customer_id", table: "customers")]),
        TableSchema(name: "attachments", kind: .appendOnly, fields: [
            FieldSchema("sha256", .blobReference, policy: .insertOnce, access: .everyone),
            FieldSchema("size_bytes", .integer, policy: .insertOnce, access: .everyone, range: 1...Int64(Schema.blobBytesMax)),
            FieldSchema("media_type", .text(maxLength: 100), policy: .insertOnce, access: .everyone),
            FieldSchema("kind", .text(maxLength: 20), policy: .insertOnce, access: .everyone),
            FieldSchema("uploaded_by", ref("users"), policy: .insertOnce, access: .everyone, author: .always),
            FieldSchema("upload_state", .text(maxLength: 20), access: .serverOnly, vocabulary: uploadStates),
        ], buckets: [.field("uploaded_by", prefix: Bucket.personalPrefix)]),
    ]

    // MARK: Visits

    static let visits: [TableSchema] = [
        TableSchema(name: "visit_plans", fields: [
            FieldSchema("rep_id", ref("users"), access: .dispatch),
            FieldSchema("name", shortText, access: .dispatch),
            FieldSchema("period_start", .timestamp, access: .dispatch),
            FieldSchema("period_end", .timestamp, access: .dispatch),
        ], buckets: [.field("rep_id", prefix: Bucket.personalPrefix)], phoneWindow: .window(dates: ["period_end"], days: keptDays)),
        // A recurring visit plan (issue 20): a customer visited by a rep every N weeks on a weekday,
        // at a local time; the server turns it into dated visits `lead_days` ahead, once each.
        TableSchema(name: "visit_schedules", fields: [
            FieldSchema("customer_id", ref("customers"), access: .office),
            FieldSchema("rep_id", ref("users"), access: .office),
            FieldSchema("visit_type", .text(maxLength: 40), access: .office),
            FieldSchema("every_weeks", .integer, access: .office, range: 1...52),
            // ISO weekday: 1 is Monday, 7 Sunday; the start in minutes after local midnight.
            FieldSchema("weekday", .integer, access: .office, range: 1...7),
            FieldSchema("start_minute", .integer, access: .office, range: 0...1_439),
            FieldSchema("duration_minutes", .integer, access: .office, range: 5...1_440),
            FieldSchema("starts_on", .timestamp, access: .office),
            FieldSchema("ends_on", .timestamp, optional: true, access: .office),
            FieldSchema("lead_days", .integer, access: .office, range: 1...90),
            FieldSchema("active", .bool, access: .office),
        ], buckets: [.field("rep_id", prefix: Bucket.personalPrefix)]),
        // A rep's weekly plan (外出登记/周计划, issue 20): the visits they propose for a week, which
        // their manager approves (the server creates the dated visits) or returns.
        TableSchema(name: "week_plans", fields: [
            FieldSchema("rep_id", ref("users"), policy: .insertOnce, access: .reps, author: .always),
            FieldSchema("week_start", .timestamp, policy: .insertOnce, access: .reps),
            FieldSchema("note", longText, optional: true, access: .reps),
            FieldSchema("status", state(Lifecycles.weekPlan), policy: Lifecycles.weekPlan.policy, access: .sales),
            FieldSchema("decision_note", longText, optional: true, access: .managers),
            FieldSchema("decided_by", ref("users"), optional: true, access: .managers, author: .always),
        ], buckets: [.field("rep_id", prefix: Bucket.personalPrefix)], phoneWindow: .window(dates: ["week_start"], days: keptDays)),
        TableSchema(name: "week_plan_visits", fields: [
            FieldSchema("week_plan_id", ref("week_plans"), policy: .insertOnce, access: .reps),
            FieldSchema("customer_id", ref("customers"), access: .reps),
            FieldSchema("visit_type", .text(maxLength: 40), access: .reps),
            FieldSchema("planned_start", .timestamp, access: .reps),
            FieldSchema("planned_end", .timestamp, access: .reps),
            FieldSchema("purpose", longText, optional: true, access: .reps),
        ], buckets: [.parent("week_plan_id", table: "week_plans")], phoneWindow: .withParent("week_plan_id")),
        TableSchema(name: "visits", fields: [
            FieldSchema("plan_id", ref("visit_plans"), optional: true, access: .dispatch),
            FieldSchema("customer_id", ref("customers"), access: .everyone),
            // Dispatchers assign; a rep's ad hoc visit is created assigned to the rep (checked on arrival).
            FieldSchema("assignee_id", ref("users"), access: WriteAccess.dispatch.onCreate([.rep, .technician]), author: .whenCreatorOnly),
            FieldSchema("visit_type", .text(maxLength: 40), access: .everyone),
            FieldSchema("sequence", .integer, optional: true, access: .dispatch, range: 0...100_000),
            FieldSchema("planned_start", .timestamp, optional: true, access: .dispatch),
            FieldSchema("planned_end", .timestamp, optional: true, access: .dispatch),
            FieldSchema("instructions", longText, optional: true, access: .dispatch),
            FieldSchema("status", state(Lifecycles.visit), policy: Lifecycles.visit.policy, access: .everyone),
            FieldSchema("actual_start", .timestamp, optional: true, access: .fieldWorkers),
            FieldSchema("actual_end", .timestamp, optional: true, access: .fieldWorkers),
            FieldSchema("abandon_reason", longText, optional: true, access: .fieldWorkers),
            FieldSchema("creation_mode", .text(maxLength: 20), policy: .insertOnce, access: .everyone, vocabulary: creationModes),
            FieldSchema("executed_by", ref("users"), optional: true, access: .fieldWorkers, author: .always),
            // Where a planned visit came from: a recurring visit plan, or an entry of an approved weekly plan.
            FieldSchema("schedule_id", ref("visit_schedules"), optional: true, policy: .insertOnce, access: .dispatch),
            FieldSchema("week_plan_id", ref("week_plans"), optional: true, policy: .insertOnce, access: .dispatch),
        ], buckets: [.field("assignee_id", prefix: Bucket.personalPrefix), .parent("customer_id", table: "customers")],
           phoneWindow: .window(dates: ["planned_start", "actual_start", "id"], days: keptDays, open: ["planned", "in_progress"])),
        TableSchema(name: "visit_tasks", fields: [
            FieldSchema("visit_id", ref("visits"), access: .everyone),
            FieldSchema("task_type", .text(maxLength: 40), access: .everyone),
            FieldSchema("required", .bool, access: .dispatch),
            // The office creates a task pending; only the field does it.
            FieldSchema("status", state(Lifecycles.visitTask), policy: Lifecycles.visitTask.policy, access: WriteAccess.fieldWorkers.onCreate([.dispatcher, .admin])),
            FieldSchema("result", longText, optional: true, access: .fieldWorkers),
            // A typed task (issue 20): the question, the kind of answer it takes (`nil`: free text in
            // `result`) and a number's range, set by the office; the field's answer, of that kind.
            FieldSchema("label", shortText, optional: true, access: .office),
            FieldSchema("answer_kind", .text(maxLength: 20), optional: true, access: .office, vocabulary: stepAnswerKinds),
            FieldSchema("min_value", .integer, optional: true, access: .office, range: quantityRange),
            FieldSchema("max_value", .integer, optional: true, access: .office, range: quantityRange),
            FieldSchema("yes_no", .bool, optional: true, access: .fieldWorkers),
            FieldSchema("number_value", .integer, optional: true, access: .fieldWorkers, range: quantityRange),
            FieldSchema("photo_attachment_id", ref("attachments"), optional: true, access: .fieldWorkers),
            FieldSchema("answered_at", .timestamp, optional: true, access: .fieldWorkers),
        ], buckets: [.parent("visit_id", table: "visits")], phoneWindow: .withParent("visit_id")),
        TableSchema(name: "geo_events", kind: .appendOnly, fields: [
            FieldSchema("visit_id", ref("visits"), policy: .insertOnce, access: .fieldWorkers),
            FieldSchema("user_id", ref("users"), policy: .insertOnce, access: .fieldWorkers, author: .always),
            FieldSchema("kind", .text(maxLength: 20), policy: .insertOnce, access: .fieldWorkers, vocabulary: geoEventKinds),
            FieldSchema("device_time", .timestamp, policy: .insertOnce, access: .fieldWorkers),
            FieldSchema("latitude_e6", .integer, policy: .insertOnce, access: .fieldWorkers, range: latitudeRange),
            FieldSchema("longitude_e6", .integer, policy: .insertOnce, access: .fieldWorkers, range: longitudeRange),
            FieldSchema("accuracy_m", .integer, policy: .insertOnce, access: .fieldWorkers, range: metersRange),
            FieldSchema("provider", .text(maxLength: 20), policy: .insertOnce, access: .fieldWorkers),
            FieldSchema("mock_location", .bool, policy: .insertOnce, access: .fieldWorkers),
            FieldSchema("photo_ids", longText, optional: true, policy: .insertOnce, access: .fieldWorkers),
            FieldSchema("received_at", .timestamp, optional: true, access: .serverOnly),
            FieldSchema("distance_m", .integer, optional: true, access: .serverOnly, range: metersRange),
            FieldSchema("verification", .text(maxLength: 20), optional: true, access: .serverOnly, vocabulary: Geofence.Verification.allCases.map(\.rawValue)),
        ], buckets: [.parent("visit_id", table: "visits")], phoneWindow: .withParent("visit_id")),
        TableSchema(name: "shelf_stock_counts", kind: .appendOnly, fields: [
            FieldSchema("visit_id", ref("visits"), policy: .insertOnce, access: .reps),
            FieldSchema("product_id", ref("products"), policy: .insertOnce, access: .reps),
            FieldSchema("quantity", .integer, policy: .insertOnce, access: .reps, range: 0...1_000_000_000),
            FieldSchema("counted_at", .timestamp, policy: .insertOnce, access: .reps),
        ], buckets: [.parent("visit_id", table: "visits")], phoneWindow: .withParent("visit_id")),
        TableSchema(name: "contact_records", fields: [
            FieldSchema("customer_id", ref("customers"), access: .everyone),
            FieldSchema("visit_id", ref("visits"), optional: true, access: .everyone),
            FieldSchema("author_id", ref("users"), policy: .insertOnce, access: .everyone, author: .always),
            FieldSchema("channel", .text(maxLength: 20), access: .everyone),
            FieldSchema("notes", longText, access: .everyone),
            FieldSchema("next_action", longText, optional: true, access: .everyone),
            FieldSchema("next_action_at", .timestamp, optional: true, access: .everyone),
        ], buckets: [.parent("customer_id", table: "customers")], phoneWindow: .window(dates: ["next_action_at", "id"], days: keptHistoryDays)),
        TableSchema(name: "manager_comments", kind: .appendOnly, fields: [
            FieldSchema("contact_record_id", ref("contact_records"), policy: .insertOnce, access: .managers),
            FieldSchema("author_id", ref("users"), policy: .insertOnce, access: .managers, author: .always),
            FieldSchema("body", longText, policy: .insertOnce, access: .managers),
        ], buckets: [.parent("contact_record_id", table: "contact_records")], phoneWindow: .withParent("contact_record_id")),
    ]

    // MARK: Orders

    static let orders: [TableSchema] = [
        // A quote (报价单): lines and validity, edited by the rep or the office until converted;
        // converting creates an order that names it (`sales_orders.quote_id`), never mutates it.
        TableSchema(name: "quotes", fields: [
            FieldSchema("customer_id", ref("customers"), access: .sales),
            FieldSchema("created_by", ref("users"), policy: .insertOnce, access: .sales, author: .always),
            FieldSchema("price_list_id", ref("price_lists"), access: .sales),
            FieldSchema("currency", .text(maxLength: 3), access: .sales),
            FieldSchema("tax_inclusive", .bool, access: .sales),
            FieldSchema("quote_date", .timestamp, access: .sales),
            FieldSchema("valid_until", .timestamp, access: .sales),
            FieldSchema("copied_from", ref("quotes"), optional: true, policy: .insertOnce, access: .sales),
            FieldSchema("status", state(Lifecycles.quote), policy: Lifecycles.quote.policy, access: .sales),
            FieldSchema("note", longText, optional: true, access: .sales),
        ], buckets: [.field("created_by", prefix: Bucket.personalPrefix), .parent("customer_id", table: "customers")],
           phoneWindow: .window(dates: ["valid_until", "quote_date"], days: keptHistoryDays, open: ["draft", "sent", "accepted"])),
        TableSchema(name: "quote_lines", fields: [
            FieldSchema("quote_id", ref("quotes"), access: .sales),
            FieldSchema("product_id", ref("products"), access: .sales),
            FieldSchema("quantity", .integer, access: .sales, range: quantityRange),
            FieldSchema("discount_bp", .integer, access: .sales, range: basisPointsRange),
        ], buckets: [.parent("quote_id", table: "quotes")], phoneWindow: .withParent("quote_id")),
        TableSchema(name: "sales_orders", fields: [
            FieldSchema("customer_id", ref("customers"), access: .reps),
            FieldSchema("visit_id", ref("visits"), optional: true, access: .reps),
            FieldSchema("created_by", ref("users"), policy: .insertOnce, access: .reps, author: .always),
            FieldSchema("price_list_id", ref("price_lists"), access: .reps),
            FieldSchema("currency", .text(maxLength: 3), access: .reps),
            FieldSchema("tax_inclusive", .bool, access: .reps),
            FieldSchema("order_date", .timestamp, access: .reps),
            FieldSchema("status", state(Lifecycles.salesOrder), policy: Lifecycles.salesOrder.policy, access: .everyone),
            FieldSchema("approval_state", .text(maxLength: 20), optional: true, access: .managers, vocabulary: approvalStates),
            FieldSchema("credit_state", .text(maxLength: 20), optional: true, access: .serverOnly, vocabulary: creditStates),
            FieldSchema("device_total_minor", .money, optional: true, access: .reps),
            FieldSchema("subtotal_minor", .money, optional: true, access: .serverOnly),
            FieldSchema("tax_minor", .money, optional: true, access: .serverOnly),
            FieldSchema("total_minor", .money, optional: true, access: .serverOnly),
            FieldSchema("erp_reference", .text(maxLength: 64), optional: true, access: .serverOnly),
            // What the ERP invoiced (its answer; the total when it does not say): the customer owes it.
            FieldSchema("invoiced_minor", .money, optional: true, access: .serverOnly, range: amountRange),
            // The quote the order was converted from, if any.
            FieldSchema("quote_id", ref("quotes"), optional: true, policy: .insertOnce, access: .reps),
        ], buckets: [.field("created_by", prefix: Bucket.personalPrefix), .parent("customer_id", table: "customers")],
           phoneWindow: .window(dates: ["order_date"], days: keptHistoryDays, open: ["draft", "submitted", "pending_approval", "credit_hold", "rejected"])),
        TableSchema(name: "order_lines", fields: [
            FieldSchema("order_id", ref("sales_orders"), access: .reps),
            FieldSchema("product_id", ref("products"), access: .reps),
            FieldSchema("quantity", .integer, access: .reps, range: quantityRange),
            FieldSchema("discount_bp", .integer, access: .reps, range: basisPointsRange),
            FieldSchema("list_price_minor", .money, optional: true, access: .serverOnly, range: amountRange),
            FieldSchema("unit_price_minor", .money, optional: true, access: .serverOnly, range: amountRange),
            FieldSchema("tax_rate_percent", .decimal(scale: 3), optional: true, access: .serverOnly, range: taxRateRange),
            FieldSchema("line_total_minor", .money, optional: true, access: .serverOnly),
        ], buckets: [.parent("order_id", table: "sales_orders")], phoneWindow: .withParent("order_id")),
        TableSchema(name: "payments", kind: .appendOnly, fields: [
            FieldSchema("order_id", ref("sales_orders"), policy: .insertOnce, access: .reps),
            FieldSchema("amount_minor", .money, policy: .insertOnce, access: .reps, range: amountRange),
            FieldSchema("method", .text(maxLength: 20), policy: .insertOnce, access: .reps),
            FieldSchema("receipt_number", .text(maxLength: 64), policy: .insertOnce, access: .reps),
            FieldSchema("collected_by", ref("users"), policy: .insertOnce, access: .reps, author: .always),
            FieldSchema("collected_at", .timestamp, policy: .insertOnce, access: .reps),
        ], buckets: [.parent("order_id", table: "sales_orders")], phoneWindow: .withParent("order_id")),
    ]

    // MARK: Field service: resources and work types (what automatic dispatch reads)

    /// Skill levels, 1 (trainee) to 5 (expert).
    static let skillLevelRange: ClosedRange<Int64> = 1...5
    /// The kinds of answer a checklist step takes.
    public static let stepAnswerKinds = ["yes_no", "number", "text", "photo"]
    /// How a work order is dispatched: by the server (`auto`) or only by hand (`manual`); unset
    /// follows the tenant.
    public static let dispatchModes = ["auto", "manual"]

    static let serviceResources: [TableSchema] = [
        // A kind of work: its code is a work order's `work_type`.
        TableSchema(name: "work_order_types", fields: [
            FieldSchema("code", .text(maxLength: 40), access: .dispatch),
            FieldSchema("name", shortText, access: .dispatch),
            FieldSchema("duration_minutes", .integer, access: .dispatch, range: 5...1_440),
            FieldSchema("signature_required", .bool, access: .dispatch),
            FieldSchema("active", .bool, access: .dispatch),
        ], buckets: [.constant(Bucket.catalog.name)]),
        // A work-order type's checklist (标准化现场服务): steps and inspections, each with the kind
        // of answer it takes; the required ones must be answered before completion.
        TableSchema(name: "work_order_type_steps", fields: [
            FieldSchema("work_order_type_id", ref("work_order_types"), access: .dispatch),
            FieldSchema("position", .integer, access: .dispatch, range: 0...1_000),
            FieldSchema("label", shortText, access: .dispatch),
            FieldSchema("answer_kind", .text(maxLength: 20), access: .dispatch, vocabulary: stepAnswerKinds),
            // For a number: the range an answer should fall in (outside it is flagged, not refused).
            FieldSchema("min_value", .integer, optional: true, access: .dispatch, range: quantityRange),
            FieldSchema("max_value", .integer, optional: true, access: .dispatch, range: quantityRange),
            FieldSchema("required", .bool, access: .dispatch),
        ], buckets: [.constant(Bucket.catalog.name)]),
        TableSchema(name: "work_order_type_skills", fields: [
            FieldSchema("work_order_type_id", ref("work_order_types"), access: .dispatch),
            FieldSchema("skill", .text(maxLength: 64), access: .dispatch),
            FieldSchema("min_level", .integer, access: .dispatch, range: skillLevelRange),
        ], buckets: [.constant(Bucket.catalog.name)]),
        // A technician's working week and where their day starts; one row per technician.
        TableSchema(name: "technician_profiles", fields: [
            FieldSchema("user_id", ref("users"), access: .dispatch),
            FieldSchema("start_latitude_e6", .integer, optional: true, access: .dispatch, range: latitudeRange),
            FieldSchema("start_longitude_e6", .integer, optional: true, access: .dispatch, range: longitudeRange),
            // Minutes after local midnight (the tenant's time zone).
            FieldSchema("workday_start_minute", .integer, access: .dispatch, range: 0...1_439),
            FieldSchema("workday_end_minute", .integer, access: .dispatch, range: 1...1_440),
            // Bit 0 is Monday, bit 6 Sunday: 31 is Monday to Friday.
            FieldSchema("working_days", .integer, access: .dispatch, range: 0...127),
            FieldSchema("daily_capacity", .integer, access: .dispatch, range: 1...50),
        ], buckets: [.field("user_id", prefix: Bucket.personalPrefix)]),
        TableSchema(name: "technician_skills", fields: [
            FieldSchema("user_id", ref("users"), access: .dispatch),
            FieldSchema("skill", .text(maxLength: 64), access: .dispatch),
            FieldSchema("level", .integer, access: .dispatch, range: skillLevelRange),
        ], buckets: [.field("user_id", prefix: Bucket.personalPrefix)]),
        // The territories whose customers a technician serves (reps own theirs in territory_owners).
        TableSchema(name: "service_territories", fields: [
            FieldSchema("user_id", ref("users"), access: .dispatch),
            FieldSchema("territory_id", ref("territories"), access: .dispatch),
        ], buckets: [.field("user_id", prefix: Bucket.personalPrefix)]),
        TableSchema(name: "absences", fields: [
            FieldSchema("user_id", ref("users"), access: .dispatch),
            FieldSchema("starts_at", .timestamp, access: .dispatch),
            FieldSchema("ends_at", .timestamp, access: .dispatch),
            FieldSchema("reason", shortText, optional: true, access: .dispatch),
        ], buckets: [.field("user_id", prefix: Bucket.personalPrefix)], phoneWindow: .window(dates: ["ends_at"], days: keptDays)),
    ]

    // MARK: Field service

    static let fieldService: [TableSchema] = serviceResources + [
        TableSchema(name: "assets", fields: [
            FieldSchema("customer_id", ref("customers"), access: .office),
            FieldSchema("serial", .text(maxLength: 64), access: .office),
            FieldSchema("model", shortText, access: .office),
            FieldSchema("maintenance_plan", .text(maxLength: 40), optional: true, access: .office),
        ], buckets: [
            .parent("customer_id", table: "customers"),
            .referrers("work_orders", through: "asset_id", field: "assignee_id", prefix: Bucket.personalPrefix),
        ]),
        // An asset's maintenance plan: the server generates its dated work orders ahead of time.
        TableSchema(name: "maintenance_plans", fields: [
            FieldSchema("asset_id", ref("assets"), access: .dispatch),
            FieldSchema("work_type", .text(maxLength: 40), access: .dispatch),
            FieldSchema("priority", .text(maxLength: 20), access: .dispatch),
            // Every N days, or every N months (one of the two).
            FieldSchema("interval_days", .integer, optional: true, access: .dispatch, range: 1...3_650),
            FieldSchema("interval_months", .integer, optional: true, access: .dispatch, range: 1...120),
            // Or every N units of a meter (`meter` names it, e.g. "hours"), counted from `meter_start`.
            FieldSchema("meter", .text(maxLength: 40), optional: true, access: .dispatch),
            FieldSchema("interval_meter", .integer, optional: true, access: .dispatch, range: 1...meterRange.upperBound),
            FieldSchema("meter_start", .integer, optional: true, access: .dispatch, range: meterRange),
            FieldSchema("starts_at", .timestamp, access: .dispatch),
            FieldSchema("ends_at", .timestamp, optional: true, access: .dispatch),
            // How far ahead work orders are generated, and the window each gets from its due date.
            FieldSchema("lead_days", .integer, access: .dispatch, range: 0...365),
            FieldSchema("window_days", .integer, access: .dispatch, range: 1...90),
            FieldSchema("active", .bool, access: .dispatch),
        ], buckets: [.parent("asset_id", table: "assets")]),
        TableSchema(name: "work_orders", fields: [
            FieldSchema("customer_id", ref("customers"), access: .dispatch),
            FieldSchema("asset_id", ref("assets"), optional: true, access: .dispatch),
            FieldSchema("work_type", .text(maxLength: 40), access: .dispatch),
            FieldSchema("priority", .text(maxLength: 20), access: .dispatch),
            FieldSchema("description", longText, optional: true, access: .dispatch),
            FieldSchema("window_start", .timestamp, optional: true, access: .dispatch),
            FieldSchema("window_end", .timestamp, optional: true, access: .dispatch),
            FieldSchema("assignee_id", ref("users"), optional: true, access: .dispatch),
            // The booked appointment inside the window (the dispatcher's or automatic dispatch's).
            FieldSchema("scheduled_start", .timestamp, optional: true, access: .dispatch),
            FieldSchema("scheduled_end", .timestamp, optional: true, access: .dispatch),
            FieldSchema("dispatch_mode", .text(maxLength: 20), optional: true, access: .dispatch, vocabulary: dispatchModes),
            // A work order a maintenance plan generated, and the date it is due (plan + due date identify it).
            FieldSchema("maintenance_plan_id", ref("maintenance_plans"), optional: true, access: .dispatch),
            FieldSchema("due_at", .timestamp, optional: true, access: .dispatch),
            // For a plan by meter: the reading it is due at (plan + reading identify it).
            FieldSchema("due_meter", .integer, optional: true, access: .dispatch, range: meterRange),
            // Why automatic dispatch chose the technician, or why the work order waits.
            FieldSchema("dispatch_reason", longText, optional: true, access: .serverOnly),
            // Service levels (ServiceLevels): due times from the priority, and a breach the server flagged.
            FieldSchema("response_due_at", .timestamp, optional: true, access: .serverOnly),
            FieldSchema("arrival_due_at", .timestamp, optional: true, access: .serverOnly),
            FieldSchema("service_level_breach", .text(maxLength: 20), optional: true, access: .serverOnly, vocabulary: ServiceLevels.Breach.allCases.map(\.rawValue)),
            FieldSchema("status", state(Lifecycles.workOrder), policy: Lifecycles.workOrder.policy, access: .everyone),
            FieldSchema("actual_start", .timestamp, optional: true, access: .technicians),
            FieldSchema("actual_end", .timestamp, optional: true, access: .technicians),
            FieldSchema("resolution", longText, optional: true, access: .technicians),
            FieldSchema("signature_attachment_id", ref("attachments"), optional: true, access: .technicians),
            FieldSchema("rating", .integer, optional: true, access: .technicians, range: 1...5),
            FieldSchema("rating_comment", longText, optional: true, access: .technicians),
            // The arrival on site, located like a check-in (DOMAIN.md §4.1) and judged by the server.
            FieldSchema("arrival_latitude_e6", .integer, optional: true, access: .technicians, range: latitudeRange),
            FieldSchema("arrival_longitude_e6", .integer, optional: true, access: .technicians, range: longitudeRange),
            FieldSchema("arrival_accuracy_m", .integer, optional: true, access: .technicians, range: metersRange),
            FieldSchema("arrival_mock_location", .bool, optional: true, access: .technicians),
            FieldSchema("arrival_distance_m", .integer, optional: true, access: .serverOnly, range: metersRange),
            FieldSchema("arrival_verification", .text(maxLength: 20), optional: true, access: .serverOnly, vocabulary: Geofence.Verification.allCases.map(\.rawValue)),
        ], buckets: [.field("assignee_id", prefix: Bucket.personalPrefix), .parent("customer_id", table: "customers")],
           phoneWindow: .window(dates: ["actual_end", "window_end", "id"], days: keptHistoryDays,
                              open: ["new", "scheduled", "on_hold", "dispatched", "en_route", "on_site"])),
        // A technician's answer to a checklist step, captured offline like a geo event: append-only,
        // the latest answer per step counts.
        TableSchema(name: "step_answers", kind: .appendOnly, fields: [
            FieldSchema("work_order_id", ref("work_orders"), policy: .insertOnce, access: .technicians),
            FieldSchema("step_id", ref("work_order_type_steps"), policy: .insertOnce, access: .technicians),
            FieldSchema("answered_by", ref("users"), policy: .insertOnce, access: .technicians, author: .always),
            FieldSchema("answered_at", .timestamp, policy: .insertOnce, access: .technicians),
            FieldSchema("yes_no", .bool, optional: true, policy: .insertOnce, access: .technicians),
            FieldSchema("number_value", .integer, optional: true, policy: .insertOnce, access: .technicians, range: quantityRange),
            FieldSchema("text_value", longText, optional: true, policy: .insertOnce, access: .technicians),
            FieldSchema("photo_attachment_id", ref("attachments"), optional: true, policy: .insertOnce, access: .technicians),
        ], buckets: [.parent("work_order_id", table: "work_orders")], phoneWindow: .withParent("work_order_id")),
        // A reading of an asset's meter (running hours, copies, cycles), taken on site: append-only;
        // maintenance plans by meter forecast their next due date from them. It reaches the asset's
        // customer and, through the work order it was taken on, that work order's technician.
        TableSchema(name: "meter_readings", kind: .appendOnly, fields: [
            FieldSchema("asset_id", ref("assets"), policy: .insertOnce, access: .technicians),
            FieldSchema("work_order_id", ref("work_orders"), optional: true, policy: .insertOnce, access: .technicians),
            FieldSchema("meter", .text(maxLength: 40), policy: .insertOnce, access: .technicians),
            FieldSchema("reading", .integer, policy: .insertOnce, access: .technicians, range: meterRange),
            FieldSchema("read_by", ref("users"), policy: .insertOnce, access: .technicians, author: .always),
            FieldSchema("read_at", .timestamp, policy: .insertOnce, access: .technicians),
        ], buckets: [.parent("asset_id", table: "assets"), .parent("work_order_id", table: "work_orders")], phoneWindow: .window(dates: ["read_at"], days: keptDays)),
        TableSchema(name: "stock_locations", fields: [
            FieldSchema("kind", .text(maxLength: 20), access: .managers),
            FieldSchema("name", shortText, access: .managers),
            FieldSchema("owner_id", ref("users"), optional: true, access: .managers),
        ], buckets: [.field("owner_id", prefix: Bucket.personalPrefix)]),
        TableSchema(name: "stock_levels", fields: [
            FieldSchema("stock_location_id", ref("stock_locations"), policy: .insertOnce, access: .everyone),
            FieldSchema("product_id", ref("products"), policy: .insertOnce, access: .everyone),
            FieldSchema("quantity", .counter, policy: .counter, access: .everyone),
        ], buckets: [.parent("stock_location_id", table: "stock_locations")]),
        TableSchema(name: "stock_ledger", kind: .appendOnly, fields: [
            FieldSchema("stock_location_id", ref("stock_locations"), policy: .insertOnce, access: .everyone),
            FieldSchema("product_id", ref("products"), policy: .insertOnce, access: .everyone),
            FieldSchema("delta", .integer, policy: .insertOnce, access: .everyone, range: quantityRange),
            FieldSchema("reason", .text(maxLength: 40), policy: .insertOnce, access: .everyone),
            FieldSchema("reference_id", .text(maxLength: 36), optional: true, policy: .insertOnce, access: .everyone),
        ], buckets: [.parent("stock_location_id", table: "stock_locations")], phoneWindow: .window(dates: ["id"], days: keptDays)),
        TableSchema(name: "parts_used", kind: .appendOnly, fields: [
            FieldSchema("work_order_id", ref("work_orders"), policy: .insertOnce, access: .technicians),
            FieldSchema("product_id", ref("products"), policy: .insertOnce, access: .technicians),
            FieldSchema("quantity", .integer, policy: .insertOnce, access: .technicians, range: 0...1_000_000_000),
            FieldSchema("stock_location_id", ref("stock_locations"), policy: .insertOnce, access: .technicians),
            FieldSchema("used_at", .timestamp, policy: .insertOnce, access: .technicians),
        ], buckets: [.parent("work_order_id", table: "work_orders")], phoneWindow: .withParent("work_order_id")),
    ]
}
