import FieldRules
import FleetSimulation
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

extension Bench {
    /// 11. Master data in (issue 20, item 1): a file of products (100,000 at full scale) and one of
    /// customers (20,000) imported — parsed, checked, upserted by the ERP's key through the merge
    /// path, in the feed — against `COPY … FROM STDIN (FORMAT csv)` of the same rows into the same
    /// tables (under another tenant), the floor of loading them at all. A second load of the same
    /// files, which must write nothing, is reported too, against the same COPY.
    func imports(_ world: BenchWorld) async throws -> [Figure] {
        let store = SyncStore(pool: world.server.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.server.clock))
        let tenant = world.tenant
        let territory = try await world.server.pool.query("SELECT name FROM territories WHERE tenant_id = $1 AND NOT _deleted ORDER BY name LIMIT 1",
                                                          [tenant.uuidString])[0].read(0, as: String.self)
        let (productCount, customerCount) = (scale.importProducts, scale.importCustomers)
        Self.log("imports: \(productCount) products and \(customerCount) customers")
        var products = "erp_reference,sku,name,category,unit,tax_rate_percent,active\n"
        for n in 0..<productCount {
            products += "BP-\(n),SKU-B\(n),\"Bench product \(n), 33cl\",cat-\(n % 40),each,\(["0", "8.875", "21"][n % 3]),true\n"
        }
        var customers = "erp_reference,name,territory,city,postal_code,latitude,longitude,customer_group,credit_limit_minor,payment_terms_days,status\n"
        for n in 0..<customerCount {
            customers += "BC-\(n),Bench customer \(n),\(territory),Springfield,\(10_000 + n % 90_000),40.\(100_000 + n % 800_000),-73.\(100_000 + n % 800_000),horeca,500000,30,active\n"
        }
        let productFile = try ImportFile(Array(products.utf8), format: .csv)
        let customerFile = try ImportFile(Array(customers.utf8), format: .csv)
        Self.log("imports: loading through the merge path")
        var reports: [SyncStore.ImportReport] = []
        let ourSeconds = try await Self.time {
            reports.append(try await store.importMasterData(.products, productFile, tenant: tenant))
            reports.append(try await store.importMasterData(.customers, customerFile, tenant: tenant))
        }
        guard reports.map(\.created) == [productCount, customerCount] else { throw BenchError("imports: created \(reports.map(\.created))") }
        Self.log("imports: the same files again")
        let againSeconds = try await Self.time {
            let again = [try await store.importMasterData(.products, productFile, tenant: tenant), try await store.importMasterData(.customers, customerFile, tenant: tenant)]
            guard again.map(\.unchanged) == [productCount, customerCount] else { throw BenchError("imports: a second load changed \(again)") }
        }
        // The floor: COPY of the same rows, parsed by PostgreSQL from CSV, into the same tables under another tenant.
        Self.log("imports: COPY FROM STDIN")
        let raw = try RawPostgres(world.server.database)
        let scratch = RecordID(high: 0x0B, low: 0xE7C4).uuidString
        let territoryID = try await world.server.pool.query("SELECT id::text FROM territories WHERE tenant_id = $1 AND name = $2 LIMIT 1",
                                                            [tenant.uuidString, territory])[0].read(0, as: String.self)
        var random = SplitMix64(seed: 20)
        var copiedProducts = "", copiedCustomers = ""
        for line in products.split(separator: "\n").dropFirst() {
            copiedProducts += "\(scratch),\(RecordID.make(milliseconds: 1, using: &random).uuidString),\(line.replacingOccurrences(of: ",8.875,", with: ",8875,").replacingOccurrences(of: ",21,", with: ",21000,"))\n"
        }
        for line in customers.split(separator: "\n").dropFirst() {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[2] = territoryID
            for index in [5, 6] { fields[index] = String(Int64((Double(fields[index])! * 1_000_000).rounded())) }
            copiedCustomers += "\(scratch),\(RecordID.make(milliseconds: 1, using: &random).uuidString),\(fields.joined(separator: ",")),bench customer,0\n"
        }
        let copyBytes = (Array(copiedProducts.utf8), Array(copiedCustomers.utf8))
        let rawSeconds = try await Self.time {
            try raw.query("BEGIN")
            try raw.copyIn("COPY products (tenant_id, id, erp_reference, sku, name, category, unit, tax_rate_percent, active) FROM STDIN (FORMAT csv)", copyBytes.0)
            try raw.copyIn("""
                COPY customers (tenant_id, id, erp_reference, name, territory_id, city, postal_code, latitude_e6, longitude_e6, customer_group, credit_limit_minor,
                                payment_terms_days, status, normalized_name, outstanding_minor) FROM STDIN (FORMAT csv)
                """, copyBytes.1)
            try raw.query("COMMIT")
        }
        try raw.query("DELETE FROM products WHERE tenant_id = $1", [scratch])
        try raw.query("DELETE FROM customers WHERE tenant_id = $1", [scratch])
        let note = "\(productCount) products and \(customerCount) customers from CSV"
        return [
            .ratio("import_seconds", ourSeconds, rawSeconds, unit: "s", against: "COPY FROM STDIN (FORMAT csv) of the same rows into the same tables",
                   note: note + ": parsed, checked, upserted by key through the merge path, in the feed"),
            .ratio("import_again_seconds", againSeconds, rawSeconds, unit: "s", against: "COPY FROM STDIN (FORMAT csv) of the same rows into the same tables",
                   note: note + ", loaded a second time: read, compared, nothing written"),
        ]
    }
}
