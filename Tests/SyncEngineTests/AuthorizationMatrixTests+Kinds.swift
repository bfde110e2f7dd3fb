import FieldModel
import PostgresDriver
import SyncCore
import SyncWire
import Testing

@testable import SyncEngine

/// Reading, for every kind of record: a row in the viewer's scope and one outside it, made through
/// the server's own write path, and the viewer's buckets at the same moment.
extension AuthorizationMatrixTests {
    /// Who reads what, per record kind, written out from DOMAIN.md §1 ("Visibility") and §3:
    /// (own, other) for a rep, a technician and a dispatcher. For a rep "own" is under a customer
    /// of their territory or bound to themselves; for a technician under the customer, asset or
    /// work order of a work order of theirs, or bound to themselves; for a dispatcher under any
    /// customer, or bound to themselves.
    static let readers: [(table: String, rep: (Bool, Bool), technician: (Bool, Bool), dispatcher: (Bool, Bool))] = {
        let everyone = (true, true)
        let ownOnly = (true, false)
        let nobody = (false, false)
        var readers: [(String, (Bool, Bool), (Bool, Bool), (Bool, Bool))] = []
        // The catalogue and the organisation's shape: everyone's.
        for table in ["tenants", "territories", "products", "price_lists", "price_list_entries", "discount_policies", "work_order_types", "work_order_type_skills",
                      "work_order_type_steps"] {
            readers.append((table, everyone, everyone, everyone))
        }
        // A customer and what hangs under it: the territory's rep and the office. A technician
        // sees the customer, asset and work order of their own work orders and the parts used on
        // them, nothing else of the customer's (visits, orders, contacts, payments).
        for table in ["customers", "assets", "work_orders", "parts_used", "step_answers", "meter_readings"] {
            readers.append((table, ownOnly, ownOnly, everyone))
        }
        // A maintenance plan is the office's; it hangs under the asset's customer, not the technician's work.
        for table in ["maintenance_plans", "contacts", "last_prices", "visits", "visit_tasks", "geo_events", "shelf_stock_counts", "contact_records",
                      "manager_comments", "sales_orders", "order_lines", "payments", "quotes", "quote_lines"] {
            readers.append((table, ownOnly, nobody, everyone))
        }
        // Bound to a user: their own record, plans (the office's, recurring, and their weekly plans), uploads, van and its stock, a technician's resources.
        for table in ["users", "territory_owners", "visit_plans", "attachments", "stock_locations", "stock_levels", "stock_ledger",
                      "technician_profiles", "technician_skills", "service_territories", "absences", "visit_schedules", "week_plans", "week_plan_visits"] {
            readers.append((table, ownOnly, ownOnly, ownOnly))
        }
        return readers
    }()

    struct ReadCell: Sendable, CustomTestStringConvertible {
        var role: String
        var table: String
        var own: Bool
        var allowed: Bool
        var testDescription: String { "\(role) reads \(table) (\(own ? "own" : "other"))" }
    }

    static let readCells: [ReadCell] = readers.flatMap { entry in
        [("rep", entry.rep), ("technician", entry.technician), ("dispatcher", entry.dispatcher)].flatMap { role, expected in
            [ReadCell(role: role, table: entry.table, own: true, allowed: expected.0), ReadCell(role: role, table: entry.table, own: false, allowed: expected.1)]
        }
    }

    @Test("every record kind: the schema lists no table the matrix leaves out")
    func everyKindListed() {
        #expect(Set(Self.readers.map(\.table)) == Set(FieldSalesSchema.schema.tables.map(\.name)))
    }

    @Test("every record kind is read by exactly whom the domain says", arguments: readCells)
    func read(_ cell: ReadCell) async throws {
        let world = try await Self.shared.value
        let kinds = try await Self.kinds.value
        let viewer = world.users[cell.role]!
        let row = try await kinds.row(cell.table, for: cell.role, own: cell.own)
        let rowBuckets = Set(try await world.pool.query("SELECT bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = $3",
                                                        [world.tenant.uuidString, cell.table, row.uuidString]).map { try $0.read(0, as: Bucket.self) })
        let visible = Set(try await world.store.buckets(user: viewer, role: Role(cell.role), tenant: world.tenant, at: Int64(Self.now)))
        #expect(!rowBuckets.isDisjoint(with: visible) == cell.allowed,
                "\(cell.testDescription): row in \(rowBuckets.sorted()), viewer sees \(visible.count) buckets")
    }

    static let now: UInt64 = 1_796_065_200_000
    static let kinds = Task { Kinds(world: try await shared.value) }

    /// Makes (once) a row of any kind under a viewer's own anchors or under the "other" ones,
    /// written by the server through ``SyncStore/push(_:batch:replica:author:tenant:)``.
    actor Kinds {
        let world: World
        var made: [String: RecordID] = [:]

        init(world: World) { self.world = world }

        func row(_ table: String, for role: String, own: Bool) async throws -> RecordID {
            var anchors: [String: RecordID] = [:]
            if own {
                anchors["customers"] = world.rows["customers"]!.own
                if role == "technician" { anchors.merge(world.technicianRows) { _, new in new } }
                anchors["users"] = world.users[role]!
            } else {
                anchors["customers"] = world.rows["customers"]!.other
                anchors["users"] = world.users["manager"]!
            }
            return try await make(table, anchors: anchors, key: "\(own ? role : "other")")
        }

        private func make(_ table: String, anchors: [String: RecordID], key: String) async throws -> RecordID {
            if let anchor = anchors[table] { return anchor }
            if let made = made["\(key)/\(table)"] { return made }
            let schema = FieldSalesSchema.schema.table(table)!
            // The row hangs under its parent; only a row with no parent is bound to a user by its
            // own field (a visit under a customer stays unassigned, or it would be the viewer's).
            var placement: [String: FieldValue] = [:]
            let hasParent = schema.buckets.contains { if case .parent = $0 { true } else { false } }
            for rule in schema.buckets {
                switch rule {
                case .parent(let field, let parent): placement[field] = .id(try await make(parent, anchors: anchors, key: key))
                case .field(let field, "user") where field != "id" && !hasParent: placement[field] = .id(anchors["users"]!)
                default: continue
                }
            }
            if placement.isEmpty, let any = try await world.pool.query("SELECT id::text FROM \(table) WHERE tenant_id = $1 LIMIT 1", [world.tenant.uuidString]).first {
                return RecordID(try any.read(0, as: String.self))!  // catalogue rows: any will do
            }
            // Every other required field gets a value of its type, so that the row is valid.
            let writes = schema.fields.compactMap { field -> FieldWrite? in
                if let value = placement[field.name] { return FieldWrite(field.name, value) }
                guard !field.optional, field.type != .counter else { return nil }  // a counter starts at zero
                return FieldWrite(field.name, Self.sample(field, reference: world.users["manager"]!))
            }
            let id = RecordID.random()
            let change = Change(id: ChangeID(RecordID.random()), table: table, record: id, operation: .write(writes),
                                version: Version(clock: HLC(milliseconds: AuthorizationMatrixTests.now), replica: .server))
            let applied = try await world.store.push(ChangeSet(id: ChangeID(RecordID.random()), changes: [change]), batch: RecordID.random(), replica: .server, tenant: world.tenant)
            try #require(applied.outcomes.allSatisfy { $0.result != .rejected }, "making a \(table) row: \(applied.outcomes)")
            made["\(key)/\(table)"] = id
            return id
        }

        /// A valid value of `field`, within its range and vocabulary; references point at the
        /// manager, whom no viewer here is.
        static func sample(_ field: FieldSchema, reference: RecordID) -> FieldValue {
            if let word = field.vocabulary?.first { return .text(word) }
            if let range = field.range, case .integer(let one) = sample(field.type, reference: reference), !range.contains(one) { return .integer(range.lowerBound) }
            return sample(field.type, reference: reference)
        }

        static func sample(_ type: FieldType, reference: RecordID) -> FieldValue {
            switch type {
            case .bool: .bool(false)
            case .integer, .money, .decimal: .integer(1)
            case .counter: .integer(0)
            case .text(let maxLength): .text(String("matrix".prefix(maxLength)))
            case .blobReference: .text(String(repeating: "0", count: 64))
            case .timestamp: .timestamp(Int64(AuthorizationMatrixTests.now))
            case .reference: .id(reference)
            case .state(let order): .state(StateValue(order.ranking[0]))
            }
        }
    }
}
