import DemoData
import FieldModel
import FieldRules
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncEngine

/// Who may read and write what (DOMAIN.md §3), cell by cell. The expectations are written out here
/// from the domain, not derived from the schema, so that a wrong declaration fails a cell.
@Suite("Authorization matrix")
struct AuthorizationMatrixTests {
    enum Action: String, CaseIterable, Sendable { case read, create, update }
    enum Scope: String, CaseIterable, Sendable { case own, other }

    struct Cell: Sendable, CustomTestStringConvertible {
        var role: String
        var table: String
        var action: Action
        var scope: Scope
        var field: String
        var allowed: Bool
        var testDescription: String { "\(role) \(action.rawValue) \(table).\(field) (\(scope.rawValue))" }
    }

    /// The domain's answers. `own` is the first rep's territory (for the office roles: any
    /// territory; for a technician: the customer of one of their work orders).
    static let cells: [Cell] = {
        var cells: [Cell] = []
        func add(_ role: String, _ table: String, _ field: String, _ action: Action, own: Bool, other: Bool) {
            cells.append(Cell(role: role, table: table, action: action, scope: .own, field: field, allowed: own))
            cells.append(Cell(role: role, table: table, action: action, scope: .other, field: field, allowed: other))
        }
        // Reading: reps see their territories; the office sees all; the catalogue is everyone's.
        add("rep", "customers", "name", .read, own: true, other: false)
        add("technician", "customers", "name", .read, own: true, other: false)
        add("dispatcher", "customers", "name", .read, own: true, other: true)
        add("manager", "customers", "name", .read, own: true, other: true)
        add("rep", "products", "name", .read, own: true, other: true)
        // Customer contact data: field workers correct it in their own scope; the office anywhere.
        add("rep", "customers", "phone", .update, own: true, other: false)
        add("technician", "customers", "phone", .update, own: true, other: false)
        add("dispatcher", "customers", "phone", .update, own: true, other: true)
        // Commercial terms: managers only.
        add("rep", "customers", "credit_limit_minor", .update, own: false, other: false)
        add("dispatcher", "customers", "credit_limit_minor", .update, own: false, other: false)
        add("manager", "customers", "credit_limit_minor", .update, own: true, other: true)
        // Visit assignment is the dispatcher's; the status moves by the rep (own) and the dispatcher.
        add("rep", "visits", "assignee_id", .update, own: false, other: false)
        add("dispatcher", "visits", "assignee_id", .update, own: true, other: true)
        add("rep", "visits", "instructions", .update, own: false, other: false)
        // Facts: a rep records check-ins at their own visits only.
        add("rep", "geo_events", "kind", .create, own: true, other: false)
        add("dispatcher", "geo_events", "kind", .create, own: false, other: false)
        // The catalogue belongs to managers.
        add("rep", "products", "name", .update, own: false, other: false)
        add("manager", "products", "name", .update, own: true, other: true)
        // Work orders: schedule by the dispatcher, execution by the technician.
        add("technician", "work_orders", "window_end", .update, own: false, other: false)
        add("dispatcher", "work_orders", "window_end", .update, own: true, other: true)
        return cells
    }()

    struct World: Sendable {
        let store: SyncStore
        let pool: PostgresPool
        let tenant: RecordID
        let users: [String: RecordID]
        /// Per table: a row in the first rep's territory and one outside it.
        let rows: [String: (own: RecordID, other: RecordID)]
        /// The technician's own rows where they differ: the customer and asset of a work order of theirs.
        let technicianRows: [String: RecordID]
        let buckets: [RecordID: [String: Set<Bucket>]]
    }

    static func makeWorld() async throws -> World {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("matrix")))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = data.tenant!
        let store = SyncStore(pool: pool, domain: FieldSalesDomain())
        let userRows = data["users"]!.rows
        var users: [String: RecordID] = [:]
        for role in ["rep", "technician", "dispatcher", "manager"] { users[role] = RecordID(userRows.first { $0[2] == role }![0]!)! }
        let repTerritory = data["territory_owners"]!.rows.first { $0[1] == users["rep"]!.uuidString }![0]!
        func rows(_ table: String, own: (([String?], [String]) -> Bool)) -> (RecordID, RecordID) {
            let t = data[table]!
            return (RecordID(t.rows.first { own($0, t.columns) }![0]!)!, RecordID(t.rows.first { !own($0, t.columns) }![0]!)!)
        }
        let customers = data["customers"]!
        let ownCustomers = Set(customers.rows.filter { $0[customers.columns.firstIndex(of: "territory_id")!] == repTerritory }.map { $0[0]! })
        var table: [String: (own: RecordID, other: RecordID)] = [:]
        table["customers"] = rows("customers") { row, columns in row[columns.firstIndex(of: "territory_id")!] == repTerritory }
        // The rep's own visit, and one in another territory (the other rep of the same territory
        // shares its bucket, so "another rep's visit" is not enough).
        table["visits"] = rows("visits") { row, columns in
            row[columns.firstIndex(of: "assignee_id")!] == users["rep"]!.uuidString || ownCustomers.contains(row[columns.firstIndex(of: "customer_id")!]!)
        }
        let visits = data["visits"]!
        table["visits"]!.own = RecordID(visits.rows.first { $0[visits.columns.firstIndex(of: "assignee_id")!] == users["rep"]!.uuidString }![0]!)!
        table["work_orders"] = rows("work_orders") { row, columns in ownCustomers.contains(row[columns.firstIndex(of: "customer_id")!]!) }
        let products = data["products"]!.rows
        table["products"] = (RecordID(products[0][0]!)!, RecordID(products[1][0]!)!)
        var buckets: [RecordID: [String: Set<Bucket>]] = [:]
        for (role, user) in users {
            buckets[user] = ["": Set(try await store.buckets(user: user, role: Role(role), tenant: tenant, at: 1_796_065_200_000))]
        }
        let workOrders = data["work_orders"]!
        let column = { (name: String) in workOrders.columns.firstIndex(of: name)! }
        let technicianOrder = workOrders.rows.first { $0[column("assignee_id")] == users["technician"]!.uuidString && $0[column("asset_id")] != nil }!
        let technicianRows = ["customers": RecordID(technicianOrder[column("customer_id")]!)!, "assets": RecordID(technicianOrder[column("asset_id")]!)!,
                              "work_orders": RecordID(technicianOrder[0]!)!]
        let technicianCustomers = Set(workOrders.rows.filter { $0[column("assignee_id")] == users["technician"]!.uuidString }.map { $0[column("customer_id")]! })
        // "Other" must be other for every role: outside the rep's territory and no customer of the technician's.
        let customerTable = data["customers"]!
        table["customers"]!.other = RecordID(customerTable.rows.first {
            $0[customerTable.columns.firstIndex(of: "territory_id")!] != repTerritory && !technicianCustomers.contains($0[0]!)
        }![0]!)!
        return World(store: store, pool: pool, tenant: tenant, users: users, rows: table, technicianRows: technicianRows, buckets: buckets)
    }

    /// One database for every cell: building it takes about a second.
    static let shared = Task { try await makeWorld() }

    @Test("every cell of the matrix", arguments: cells)
    func cell(_ cell: Cell) async throws {
        let world = try await Self.shared.value
        let user = world.users[cell.role]!
        let outcome = try await Self.attempt(cell, world: world, user: user)
        #expect(outcome == cell.allowed, "\(cell.testDescription): expected \(cell.allowed ? "allowed" : "refused")")
    }

    /// Whether the action succeeds.
    static func attempt(_ cell: Cell, world: World, user: RecordID) async throws -> Bool {
        let now: UInt64 = 1_796_065_200_000
        let own = (cell.role == "technician" ? world.technicianRows[cell.table] : nil) ?? world.rows[cell.table]?.own
        switch cell.action {
        case .read:
            let row = cell.scope == .own ? own! : world.rows[cell.table]!.other
            let rowBuckets = Set(try await world.pool.query("SELECT bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = $3",
                                                            [world.tenant.uuidString, cell.table, row.uuidString]).map { try $0.read(0, as: Bucket.self) })
            return !rowBuckets.isDisjoint(with: world.buckets[user]![""]!)
        case .create, .update:
            let version = Version(clock: HLC(milliseconds: now), replica: ReplicaID(90))
            let change: Change
            if cell.action == .create {
                // A check-in at a visit of the rep's (own) or of another rep's (other).
                let visit = cell.scope == .own ? world.rows["visits"]!.own : world.rows["visits"]!.other
                change = Change(id: ChangeID(RecordID.random()), table: cell.table, record: RecordID.random(), operation: .write([
                    FieldWrite("visit_id", .id(visit)), FieldWrite("user_id", .id(user)), FieldWrite("kind", .text("check_in")),
                    FieldWrite("device_time", .timestamp(Int64(now))), FieldWrite("latitude_e6", .integer(40_750_000)),
                    FieldWrite("longitude_e6", .integer(-73_990_000)), FieldWrite("accuracy_m", .integer(10)),
                    FieldWrite("provider", .text("gps")), FieldWrite("mock_location", .bool(false)),
                ]), version: version)
            } else {
                let row = cell.scope == .own ? own! : world.rows[cell.table]!.other
                let value: FieldValue = switch cell.field {
                case "assignee_id": .id(user)
                case "credit_limit_minor": .integer(1_000_000)
                case "window_end": .timestamp(Int64(now))
                default: .text("matrix")
                }
                change = Change(id: ChangeID(RecordID.random()), table: cell.table, record: row, operation: .write([FieldWrite(cell.field, value)]), version: version)
            }
            let applied = try await world.store.push(ChangeSet(id: ChangeID(RecordID.random()), changes: [change]), batch: RecordID.random(),
                                                     replica: ReplicaID(90), author: SyncStore.Author(role: Role(cell.role), user: user, now: now), tenant: world.tenant)
            return applied.outcomes.first?.result != .rejected
        }
    }
}

extension RecordID {
    static func random() -> RecordID {
        var generator = SystemRandomNumberGenerator()
        return RecordID.make(milliseconds: 1_796_065_200_000, using: &generator)
    }
}
