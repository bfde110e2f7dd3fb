import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import PostgresDriver
import SyncClient
import SyncCore
import SyncEngine
import SyncServer
import FleetSimulation

extension Bench {
    /// 10. The phone after a year: a rep's year of work (visits with their check-ins, tasks and
    /// shelf counts, orders with lines and payments, contact records) on a server, and a phone
    /// primed with the rep's buckets at the year's end — once with the schema's phone windows,
    /// once with the same rows all kept (the same data seeded as of the year's start, so nothing
    /// is retired). Same data, same phone code: the figure is what the window saves. A phone that
    /// lived through the year converges on the same rows (the windows' removes reach it nightly);
    /// its file may hold free pages that this one does not.
    func phoneWindow(_ world: BenchWorld) async throws -> [Figure] {
        let end = Int64(BenchWorld.monday.epochSeconds * 1000)
        var measured: [(rows: Int, bytes: Int, seeded: Int)] = []
        for (name, seedAt) in [("year_window", end), ("year_everything", Int64(0))] {
            Self.log("a rep's year (\(scale.yearVisitsPerDay) visits a working day): seeding \(name)")
            try await world.server.pool.query("CREATE DATABASE \(name)")
            let pool = try PostgresPool(.init(connectionString: world.server.database + " dbname=\(name)", connectionsMax: 4))
            try await Migrator.migrate(pool)
            let data = DemoGenerator().generate()
            try await data.load(into: pool)
            let tenant = data.tenant!
            let rep = RecordID(data["users"]!.rows.first { $0[2] == "rep" }![0]!)!
            let year = try await Self.year(of: rep, ending: end, visitsPerDay: scale.yearVisitsPerDay, tenant: tenant, pool: pool)
            let clock = ManualWallClock(UInt64(end))
            let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
            try await store.seed(year, tenant: tenant, at: seedAt)

            Self.log("priming a phone with the rep's buckets: \(name)")
            let path = world.scratch("\(name).sqlite")
            let phone = try await DeviceStore.open(path: path, options: .init(wallClock: clock))
            var options = SyncClient.Options()
            options.sleep = { _ in }
            let service = SyncService(store: store, tokens: world.tokens, wallClock: clock)
            let client = SyncClient(store: phone, transport: InProcessTransport(service),
                                    credentials: .init(token: try await world.tokens.issue(user: rep, tenant: tenant, role: .rep), user: rep, role: .rep),
                                    options: options)
            try await client.sync()
            try await phone.checkpoint()
            let rows = try await phone.heldRows().count
            let bytes = ["", "-wal"].reduce(0) { total, suffix in
                total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
            }
            measured.append((rows, bytes, year.count))
            await pool.close()
        }
        let megabyte = 1_048_576.0
        let note = "\(measured[0].seeded) rows of one rep's year seeded; \(scale.yearVisitsPerDay) visits a working day"
        var size = Figure.ratio("phone_year_megabytes", Double(measured[0].bytes) / megabyte, Double(measured[1].bytes) / megabyte, unit: "MB",
                                against: "the same year with no window", note: note)
        size.target = "smaller than without the window"
        size.met = measured[0].bytes < measured[1].bytes
        var rows = Figure.ratio("phone_year_rows", Double(measured[0].rows), Double(measured[1].rows), unit: "rows",
                                against: "the same year with no window", note: "rows the phone holds, catalogue and customers included")
        rows.target = "fewer than without the window"
        rows.met = measured[0].rows < measured[1].rows
        return [size, rows]
    }

    /// A rep's year up to `end`: each working day `visitsPerDay` completed visits at customers of
    /// the rep's territory, each with a check-in and a check-out, two tasks done, a shelf count on
    /// every other visit, a contact record on every third, and an order of four lines on every
    /// third (paid on every other order). Parents come before children.
    static func year(of rep: RecordID, ending end: Int64, visitsPerDay: Int, tenant: RecordID,
                     pool: PostgresPool) async throws -> [(table: String, id: RecordID, state: RecordState)] {
        let customers = try await pool.query("""
            SELECT c.id::text FROM customers c JOIN territory_owners o ON o.territory_id = c.territory_id AND o.tenant_id = c.tenant_id
            WHERE o.user_id = $1 ORDER BY c.id
            """, [rep.uuidString]).map { RecordID(try $0.read(0, as: String.self))! }
        let products = try await pool.query("SELECT id::text FROM products WHERE tenant_id = $1 ORDER BY id LIMIT 200", [tenant.uuidString])
            .map { RecordID(try $0.read(0, as: String.self))! }
        let priceList = RecordID(try await pool.query("SELECT id::text FROM price_lists WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                                                      [tenant.uuidString])[0].read(0, as: String.self))!
        var random = SplitMix64(seed: 365)
        var tables: [String: [(RecordID, RecordState)]] = [:]
        func add(_ table: String, at time: Int64, _ fields: [(String, FieldValue)]) -> RecordID {
            let id = RecordID.make(milliseconds: UInt64(time), using: &random)
            let version = Version(clock: HLC(milliseconds: UInt64(time)), replica: .server)
            tables[table, default: []].append((id, RecordState(fields: Dictionary(uniqueKeysWithValues: fields.map { ($0.0, FieldState(value: $0.1, version: version)) }))))
            return id
        }
        let hour: Int64 = 3_600_000
        var n = 0
        for day in 1...365 {
            let midnight = end - Int64(day) * PhoneWindow.day
            let weekday = ((midnight / PhoneWindow.day) + 3) % 7  // 0 is Monday (1970-01-01 was a Thursday)
            guard weekday < 5 else { continue }
            for slot in 0..<visitsPerDay {
                n += 1
                let start = midnight + 13 * hour + Int64(slot) * 8 * hour / Int64(max(1, visitsPerDay))
                let customer = customers[n % customers.count]
                let visit = add("visits", at: start, [
                    ("customer_id", .id(customer)), ("assignee_id", .id(rep)), ("visit_type", .text("routine")),
                    ("planned_start", .timestamp(start)), ("planned_end", .timestamp(start + hour / 2)), ("status", .state(StateValue("completed"))),
                    ("actual_start", .timestamp(start)), ("actual_end", .timestamp(start + hour / 2)), ("creation_mode", .text("planned")),
                    ("executed_by", .id(rep)),
                ])
                for (kind, offset) in [("check_in", Int64(0)), ("check_out", hour / 2)] {
                    _ = add("geo_events", at: start + offset, [
                        ("visit_id", .id(visit)), ("user_id", .id(rep)), ("kind", .text(kind)), ("device_time", .timestamp(start + offset)),
                        ("latitude_e6", .integer(40_700_000 + Int64(n % 1_000))), ("longitude_e6", .integer(-74_000_000)), ("accuracy_m", .integer(12)),
                        ("provider", .text("gps")), ("mock_location", .bool(false)), ("received_at", .timestamp(start + offset)),
                        ("distance_m", .integer(35)), ("verification", .text("verified")),
                    ])
                }
                for task in ["shelf_check", "promotion_check"] {
                    _ = add("visit_tasks", at: start, [("visit_id", .id(visit)), ("task_type", .text(task)), ("required", .bool(true)),
                                                       ("status", .state(StateValue("done"))), ("result", .text("all facings in place"))])
                }
                if n % 2 == 0 {
                    _ = add("shelf_stock_counts", at: start, [("visit_id", .id(visit)), ("product_id", .id(products[n % products.count])),
                                                              ("quantity", .integer(Int64(n % 40))), ("counted_at", .timestamp(start))])
                }
                if n % 3 == 0 {
                    _ = add("contact_records", at: start, [("customer_id", .id(customer)), ("visit_id", .id(visit)), ("author_id", .id(rep)),
                                                           ("channel", .text("visit")), ("notes", .text("Talked about the spring promotion and the new 500 ml range."))])
                }
                guard n % 3 == 1 else { continue }
                let order = add("sales_orders", at: start, [
                    ("customer_id", .id(customer)), ("visit_id", .id(visit)), ("created_by", .id(rep)), ("price_list_id", .id(priceList)),
                    ("currency", .text("USD")), ("tax_inclusive", .bool(false)), ("order_date", .timestamp(start)),
                    ("status", .state(StateValue("confirmed"))), ("approval_state", .text("not_required")), ("credit_state", .text("ok")),
                    ("subtotal_minor", .integer(40_000)), ("tax_minor", .integer(3_550)), ("total_minor", .integer(43_550)),
                ])
                for line in 0..<4 {
                    _ = add("order_lines", at: start, [
                        ("order_id", .id(order)), ("product_id", .id(products[(n + line) % products.count])), ("quantity", .integer(10)),
                        ("discount_bp", .integer(0)), ("list_price_minor", .integer(1_000)), ("unit_price_minor", .integer(1_000)),
                        ("tax_rate_percent", .integer(8_875)), ("line_total_minor", .integer(10_000)),
                    ])
                }
                if n % 2 == 0 {
                    _ = add("payments", at: start, [("order_id", .id(order)), ("amount_minor", .integer(43_550)), ("method", .text("cash")),
                                                    ("receipt_number", .text("R-\(n)")), ("collected_by", .id(rep)), ("collected_at", .timestamp(start))])
                }
            }
        }
        return FieldSalesSchema.schema.tables.flatMap { table in (tables[table.name] ?? []).map { (table.name, $0.0, $0.1) } }
    }
}
