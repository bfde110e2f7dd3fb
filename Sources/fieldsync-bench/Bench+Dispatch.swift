import DemoData
import FieldModel
import FieldRules
import FleetSimulation
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

extension Bench {
    /// 10. Automatic dispatch (issue 19, item 2): open work orders × technicians (1,000 × 100 at
    /// full scale) planned and assigned in one run — reads, the plan, an assignment per work order
    /// through the office merge path and the decisions — against the raw PostgreSQL floor of the
    /// same run: the same inputs read and the same assignments written in one `UPDATE … FROM unnest`.
    /// The planner with its reads is reported too, against the same reads through raw libpq.
    func dispatch(_ world: BenchWorld) async throws -> [Figure] {
        let store = SyncStore(pool: world.server.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.server.clock))
        let (technicianCount, orderCount) = (scale.dispatchTechnicians, scale.dispatchWorkOrders)
        Self.log("dispatch: seeding \(technicianCount) technicians and \(orderCount) open work orders")
        var random = SplitMix64(seed: 19)
        func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        let tenant = world.tenant
        let territories = try await world.server.pool.query("SELECT DISTINCT territory_id::text FROM customers WHERE tenant_id = $1 AND territory_id IS NOT NULL ORDER BY 1",
                                                            [tenant.uuidString]).map { RecordID(try $0.read(0, as: String.self))! }
        let customers = try await world.server.pool.query("""
            SELECT id::text FROM customers WHERE tenant_id = $1 AND latitude_e6 IS NOT NULL AND territory_id IS NOT NULL ORDER BY id
            """, [tenant.uuidString]).map { RecordID(try $0.read(0, as: String.self))! }
        let skills = ["boiler", "gas", "electric", "solar", "hvac", "plumbing"]
        // Work types: each needs one or two skills.
        var types: [(code: String, skills: [String: Int])] = []
        var edits: [SyncStore.OfficeEdit] = []
        for (index, skill) in skills.enumerated() {
            let code = "bench_\(skill)", id = store.newID()
            var needs = [skill: int(1...3)]
            if index % 2 == 0 { needs[skills[(index + 1) % skills.count]] = 1 }
            types.append((code, needs))
            edits.append(.init("work_order_types", id, [("code", .text(code)), ("name", .text(code)), ("duration_minutes", .integer(Int64([60, 90, 120][index % 3]))),
                                                        ("signature_required", .bool(false)), ("active", .bool(true))]))
            for (name, level) in needs {
                edits.append(.init("work_order_type_skills", store.newID(), [("work_order_type_id", .id(id)), ("skill", .text(name)), ("min_level", .integer(Int64(level)))]))
            }
        }
        try await store.edit(edits, by: nil, tenant: tenant, judging: false)
        // Technicians: users with a working week, three skills and two territories.
        for chunk in stride(from: 0, to: technicianCount, by: 25) {
            edits = []
            for _ in chunk..<min(chunk + 25, technicianCount) {
                let user = store.newID()
                edits.append(.init("users", user, [("role", .text("technician")), ("name", .text("Bench technician")), ("email", .text("bench@example.com"))]))
                edits.append(.init("technician_profiles", store.newID(), [
                    ("user_id", .id(user)), ("start_latitude_e6", .integer(40_700_000 + Int64(int(0...200_000)))), ("start_longitude_e6", .integer(-74_000_000 + Int64(int(0...200_000)))),
                    ("workday_start_minute", .integer(480)), ("workday_end_minute", .integer(1_020)), ("working_days", .integer(31)), ("daily_capacity", .integer(Int64(int(4...8)))),
                ]))
                for skill in Set((0..<3).map { _ in skills[int(0...(skills.count - 1))] }) {
                    edits.append(.init("technician_skills", store.newID(), [("user_id", .id(user)), ("skill", .text(skill)), ("level", .integer(Int64(int(1...5))))]))
                }
                for territory in Set((0..<2).map { _ in territories[int(0...(territories.count - 1))] }) {
                    edits.append(.init("service_territories", store.newID(), [("user_id", .id(user)), ("territory_id", .id(territory))]))
                }
            }
            try await store.edit(edits, by: nil, tenant: tenant, judging: false)
        }
        // Open work orders over the coming working week, windows of four hours.
        let monday = Int64(BenchWorld.monday.epochSeconds) * 1_000 + 7 * 86_400_000
        var orders: [RecordID] = []
        for chunk in stride(from: 0, to: orderCount, by: 100) {
            edits = []
            for _ in chunk..<min(chunk + 100, orderCount) {
                let id = store.newID()
                orders.append(id)
                let start = monday + Int64(int(0...4)) * 86_400_000 + Int64(13 + int(0...4)) * 3_600_000
                edits.append(.init("work_orders", id, [("customer_id", .id(customers[int(0...(customers.count - 1))])), ("work_type", .text(types[int(0...(types.count - 1))].code)),
                                                       ("priority", .text(["low", "normal", "normal", "high", "urgent"][int(0...4)])), ("status", .state(StateValue("scheduled"))),
                                                       ("window_start", .timestamp(start)), ("window_end", .timestamp(start + 4 * 3_600_000))]))
            }
            try await store.edit(edits, by: nil, tenant: tenant, judging: false)
        }
        let now = monday - 86_400_000
        Self.log("dispatch: planning and assigning \(orderCount) work orders over \(technicianCount) technicians")
        // The planner with its reads, writing nothing; then the run that writes.
        let planSeconds = try await Self.time { _ = try await store.dispatchPlan(tenant: tenant, now: now, only: orders) }
        var decisions: [SyncStore.DispatchDecision] = []
        let runSeconds = try await Self.time { decisions = try await store.autoDispatch(tenant: tenant, now: now, only: orders) }
        let assigned = decisions.filter { $0.outcome == "assigned" }
        // The raw floor: read the same inputs (and, for the run, write the same assignments in one statement).
        let raw = try RawPostgres(world.server.database)
        let readInputs = {
            _ = try raw.query("""
                SELECT w.id, w.customer_id, w.work_type, w.priority, w.window_start, w.window_end, c.territory_id, c.latitude_e6, c.longitude_e6
                FROM work_orders w JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id WHERE w.tenant_id = $1 AND w.id = ANY($2::uuid[])
                """, [tenant.uuidString, PostgresArray.literal(orders)])
            _ = try raw.query("SELECT user_id, workday_start_minute, workday_end_minute, working_days, daily_capacity FROM technician_profiles WHERE tenant_id = $1", [tenant.uuidString])
            _ = try raw.query("SELECT user_id, skill, level FROM technician_skills WHERE tenant_id = $1", [tenant.uuidString])
            _ = try raw.query("SELECT user_id, territory_id FROM service_territories WHERE tenant_id = $1", [tenant.uuidString])
            _ = try raw.query("SELECT work_order_type_id, skill, min_level FROM work_order_type_skills WHERE tenant_id = $1", [tenant.uuidString])
        }
        let rawReadSeconds = try await Self.time { try readInputs() }
        let rawSeconds = try await Self.time {
            try readInputs()
            try raw.query("BEGIN")
            _ = try raw.query("""
                UPDATE work_orders w SET assignee_id = a.t, scheduled_start = a.s, scheduled_end = a.e
                FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[]) AS a(w, t, s, e) WHERE w.tenant_id = $1 AND w.id = a.w
                """, [tenant.uuidString, PostgresArray.literal(assigned.map(\.workOrder)), PostgresArray.literal(assigned.compactMap(\.technician)),
                      "{" + assigned.map { String($0.slotStart ?? 0) }.joined(separator: ",") + "}", "{" + assigned.map { String($0.slotEnd ?? 0) }.joined(separator: ",") + "}"])
            try raw.query("COMMIT")
        }
        let note = "\(assigned.count) of \(orderCount) assigned, \(decisions.count - assigned.count) waiting"
        return [
            .ratio("dispatch_run_seconds", runSeconds, rawSeconds, unit: "s", against: "raw libpq: the same inputs read, the same assignments in one UPDATE", note: note),
            .ratio("dispatch_plan_seconds", planSeconds, rawReadSeconds, unit: "s", against: "raw libpq: the same inputs read (the plan itself has no raw counterpart)",
                   note: "\(orderCount) work orders × \(technicianCount) technicians: the reads and the plan, nothing written"),
        ]
    }
}
