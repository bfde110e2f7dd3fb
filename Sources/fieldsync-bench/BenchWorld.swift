import AsyncHTTPClient
import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import PostgresDriver
import SyncEngine
import SyncClient
import SyncClientHTTP
import SyncCore
import SyncServer
import FleetSimulation
import SyncWire

/// The server the benchmarks run against, seeded with a realistic rep: the demo tenant, with the
/// first rep's territory grown to ``Scale/customers`` customers, the catalogue to
/// ``Scale/products`` products with prices, the rep's visits to ``Scale/weeks`` weeks, and
/// ``Scale/orders`` past orders of ``Scale/linesPerOrder`` lines.
///
/// The server's clock is simulated (Monday 30 November 2026, 06:00 in New York) and moves with
/// real time, so phones that share it are never ahead of the server.
struct BenchWorld: Sendable {
    let server: LoopbackServer
    let scale: Scale
    let tenant: RecordID
    let rep: RecordID
    let territory: RecordID
    let customers: [RecordID]
    let products: [RecordID]
    let tokens: TokenAuthority
    let directory: URL
    /// Rows seeded for the rep's buckets that phones keep (what priming must bring).
    let seededRows: Int

    static let monday = CivilDate(year: 2026, month: 11, day: 30)

    static func make(_ server: LoopbackServer, scale: Scale) async throws -> BenchWorld {
        var data = DemoGenerator().generate()
        var random = SplitMix64(seed: 8)
        let idTime = UInt64(monday.epochSeconds * 1000) - 10 * 86_400_000
        func newID() -> RecordID { RecordID.make(milliseconds: idTime, using: &random) }
        func edit(_ name: String, _ body: (inout DemoDataSet.Table) -> Void) {
            let index = data.tables.firstIndex { $0.name == name }!
            body(&data.tables[index])
        }
        let rep = RecordID(data["users"]!.rows.first { $0[2] == "rep" }![0]!)!
        let territory = RecordID(data["territory_owners"]!.rows.first { $0[1] == rep.uuidString }![0]!)!
        let standardList = data["price_lists"]!.rows[0][0]!

        // The catalogue: trimmed, or grown with a price in the standard list for each new product.
        let productCount = data["products"]!.rows.count
        if scale.products < productCount {
            let kept = Set(data["products"]!.rows.prefix(scale.products).map { $0[0]! })
            edit("products") { $0.rows = $0.rows.filter { kept.contains($0[0]!) } }
            edit("price_list_entries") { $0.rows = $0.rows.filter { kept.contains($0[1]!) } }
        } else {
            let template = data["products"]!.rows[0]
            var products: [[String?]] = []
            var prices: [[String?]] = []
            for n in productCount..<scale.products {
                var row = template
                row[0] = newID().uuidString
                row[2] = "BENCH-\(n)"
                row[3] = "Bench product \(n), 500 ml bottle"
                row[7] = "true"
                products.append(row)
                prices.append([standardList, row[0], String(100 + n % 4_900)])
            }
            edit("products") { $0.rows += products }
            edit("price_list_entries") { $0.rows += prices }
        }

        // The rep's territory grown to `customers`.
        let customerTable = data["customers"]!
        let territoryColumn = customerTable.columns.firstIndex(of: "territory_id")!
        let mine = customerTable.rows.filter { $0[territoryColumn] == territory.uuidString }
        var added: [[String?]] = []
        for n in mine.count..<max(mine.count, scale.customers) {
            var row = mine[n % mine.count]
            row[0] = newID().uuidString
            row[customerTable.columns.firstIndex(of: "name")!] = "Bench Customer \(n)"
            row[customerTable.columns.firstIndex(of: "normalized_name")!] = "bench customer \(n)"
            row[customerTable.columns.firstIndex(of: "tax_number")!] = "BN-\(n)"
            added.append(row)
        }
        edit("customers") { $0.rows += added }
        let customers = (mine + added).map { RecordID($0[0]!)! }

        // The rep's visits only, over `weeks` weeks (the demo plans two; later weeks repeat them).
        let visitTable = data["visits"]!
        let column = { (name: String) in visitTable.columns.firstIndex(of: name)! }
        let repVisits = visitTable.rows.filter { $0[column("assignee_id")] == rep.uuidString }
        var visits: [[String?]] = []
        for week in 0..<scale.weeks {
            for row in repVisits {
                let shift = (week / 2) * 14
                var copy = row
                guard let start = row[column("planned_start")], let end = row[column("planned_end")] else { continue }
                let day = CivilDate(year: Int(start.prefix(4))!, month: Int(start.dropFirst(5).prefix(2))!, day: Int(start.dropFirst(8).prefix(2))!)
                let offset = day.daysSinceEpoch - monday.daysSinceEpoch
                guard offset / 7 == week % 2 else { continue }
                if shift > 0 {
                    copy[0] = newID().uuidString
                    copy[column("plan_id")] = nil
                    copy[column("planned_start")] = day.adding(days: shift).text + start.dropFirst(10)
                    copy[column("planned_end")] = day.adding(days: shift).text + end.dropFirst(10)
                }
                visits.append(copy)
            }
        }
        edit("visits") { $0.rows = visits }

        // Past orders: confirmed, priced.
        var orders = DemoDataSet.Table(name: "sales_orders", columns: [
            "id", "customer_id", "created_by", "price_list_id", "currency", "tax_inclusive", "order_date", "status",
            "subtotal_minor", "tax_minor", "total_minor", "device_total_minor",
        ])
        var lines = DemoDataSet.Table(name: "order_lines", columns: [
            "id", "order_id", "product_id", "quantity", "discount_bp", "list_price_minor", "unit_price_minor", "tax_rate_percent", "line_total_minor",
        ])
        let productIDs = data["products"]!.rows.map { $0[0]! }
        for n in 0..<scale.orders {
            let order = newID().uuidString
            var subtotal = 0
            for line in 0..<scale.linesPerOrder {
                let price = 100 + (n * 31 + line * 7) % 4_900
                let quantity = 1 + (n + line) % 12
                subtotal += price * quantity
                lines.append([newID().uuidString, order, productIDs[(n * scale.linesPerOrder + line) % productIDs.count], String(quantity), "0",
                              String(price), String(price), "8.875", String(price * quantity)])
            }
            let tax = subtotal * 8_875 / 100_000
            orders.append([order, customers[n % customers.count].uuidString, rep.uuidString, standardList, "USD", "false",
                           monday.adding(days: -1 - n % 56).text, "confirmed", String(subtotal), String(tax), String(subtotal + tax), String(subtotal + tax)])
        }
        data.tables += [orders, lines]
        try await data.load(into: server.pool)
        // A server in service has statistics; a freshly seeded one gets them now, not at autovacuum's leisure.
        _ = try await server.pool.query("ANALYZE")

        let directory = URL(fileURLWithPath: "/tmp/fieldsync-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tokens = try await TokenAuthority(secret: server.secret)
        let tenant = data.tenant!
        let buckets = try await SyncStore(pool: server.pool, domain: FieldSalesDomain())
            .buckets(user: rep, role: .rep, tenant: tenant, at: Int64(server.clock.now()))
        let rows = try await server.pool.query("""
            SELECT count(DISTINCT (tbl, id)) FROM row_buckets r WHERE tenant_id = $1 AND bucket = ANY($2::text[])
              AND NOT EXISTS (SELECT 1 FROM row_retired x WHERE x.tenant_id = r.tenant_id AND x.tbl = r.tbl AND x.id = r.id)
            """,
                                               [tenant.uuidString, PostgresArray.literal(buckets)])[0].read(0, as: Int.self)
        return BenchWorld(server: server, scale: scale, tenant: tenant, rep: rep, territory: territory, customers: customers,
                          products: productIDs.compactMap(RecordID.init), tokens: tokens, directory: directory, seededRows: rows)
    }

    /// The server's time now, in milliseconds.
    var now: UInt64 { server.clock.now() }

    /// The buckets `user` is entitled to now.
    func buckets(of user: RecordID, role: Role) async throws -> [Bucket] {
        try await SyncStore(pool: server.pool, domain: FieldSalesDomain()).buckets(user: user, role: role, tenant: tenant, at: Int64(now))
    }

    /// A bearer token for `user`.
    func token(for user: RecordID, role: Role = .rep) async throws -> String {
        try await tokens.issue(user: user, tenant: tenant, role: role)
    }

    /// A new phone for the rep, on the server's clock, talking HTTP to the server.
    func phone(_ name: String) async throws -> Phone {
        let path = directory.appendingPathComponent("\(name).sqlite").path
        let store = try await DeviceStore.open(path: path, options: .init(wallClock: server.clock, seed: UInt64(name.utf8.count)))
        let client = SyncClient(store: store, transport: HTTPTransport(baseURL: server.url, client: server.http),
                                credentials: .init(token: try await token(for: rep), user: rep, role: .rep))
        return Phone(store: store, client: client)
    }

    /// A path for a scratch file.
    func scratch(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// A phone: its store and its sync client.
struct Phone: Sendable {
    let store: DeviceStore
    let client: SyncClient
}
