import FieldModel
import Foundation
import PostgresDriver
import SyncCore
import Testing

@testable import SyncEngine

/// The push's working set writes merged rows only when a query reads their table, so every SQL
/// read inside a push must go through ``WorkingSet/query(_:_:on:)`` and name its tables after
/// `FROM` or `JOIN`.
@Suite("Working set")
struct WorkingSetTests {
    @Test("the tables a query reads are the names after FROM and JOIN, subqueries and laterals included")
    func tablesRead() {
        #expect(WorkingSet.tablesRead(by: "SELECT 1 FROM geo_events WHERE tenant_id = $1") == ["geo_events"])
        #expect(WorkingSet.tablesRead(by: """
            SELECT l.id FROM order_lines l
            LEFT JOIN products p ON p.id = l.product_id
            LEFT JOIN LATERAL (SELECT unit_price_minor FROM price_list_entries e WHERE e.id = l.id) e ON true
            """).isSuperset(of: ["order_lines", "products", "price_list_entries"]))
        #expect(WorkingSet.tablesRead(by: "SELECT 1 FROM geo_events g JOIN visits v ON v.id = g.visit_id").isSuperset(of: ["geo_events", "visits"]))
        #expect(WorkingSet.tablesRead(by: "SELECT coalesce(sum(total_minor), 0)::bigint FROM sales_orders\nWHERE id <> $3") == ["sales_orders"])
    }

    @Test("rows read ahead for the records a push refers to are found without another round trip; the rules' SQL runs in the same one")
    func readAhead() async throws {
        let setup = try await SyncStoreTests.setup("readahead")
        // Two customers and how many visits each has.
        let customers = try await setup.pool.query("""
            SELECT customer_id::text, count(*) FROM visits WHERE tenant_id = $1 GROUP BY customer_id ORDER BY customer_id LIMIT 2
            """, [setup.tenant.uuidString]).map { (RecordID(try $0.read(0, as: String.self))!, try $0.read(1, as: Int.self)) }
        try #require(customers.count == 2)
        let (tables, clock, tenant) = (setup.store.tables, setup.store.clock, setup.tenant)
        @Sendable func check(on db: isolated PostgresConnection) async throws {
            let work = WorkingSet(tables: tables, tenant: tenant, clock: clock)
            // A push that names the first customer only.
            let change = Change(id: ChangeID(SyncStoreTests.id(1)), table: "customers", record: customers[0].0, operation: .write([FieldWrite("phone", .text("555"))]),
                                version: Version(clock: HLC(rawValue: 1 << 20), replica: ReplicaID(7)))
            try await work.begin([change], departures: false, on: db)
            var settings = PostgresBatch()
            settings.add("SELECT count(*) FROM visits WHERE tenant_id = $1", [tenant.uuidString])
            let trips = db.roundTripsMade
            let answers = try await work.readAhead([RelatedRows("visits", where: "customer_id")], settings, on: db)
            #expect(db.roundTripsMade == trips + 1, "one round trip for the related rows and the rules' statement")
            #expect(answers.count == 1)
            #expect(try answers[0][0].read(0, as: Int.self) >= customers[0].1 + customers[1].1)
            let first = try await work.rows("visits", where: "customer_id", is: customers[0].0, on: db)
            #expect(first.count == customers[0].1)
            #expect(db.roundTripsMade == trips + 1, "the first customer's visits were read ahead")
            // A customer the push did not refer to is read on first use, as before.
            let second = try await work.rows("visits", where: "customer_id", is: customers[1].0, on: db)
            #expect(second.count == customers[1].1)
            #expect(db.roundTripsMade > trips + 1, "read on first use")
        }
        try await setup.pool.withConnection { db in try await check(on: db) }
    }

    @Test("the rules on arrival and placement run SQL only through the working set")
    func noDirectQueries() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        // The rules (not the domain's audience, which is read before a push's working set exists).
        let files = try FileManager.default.contentsOfDirectory(at: sources.appendingPathComponent("FieldRules"), includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("ArrivalJudge") || $0.lastPathComponent.hasSuffix("Lookups.swift") || $0.lastPathComponent == "FieldSalesRules.swift" }
            + [sources.appendingPathComponent("SyncEngine/Sync/SyncStore+Placement.swift"), sources.appendingPathComponent("SyncEngine/Sync/SyncStore+Admission.swift")]
        #expect(files.count > 4)
        for file in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.contains("db.query("), "\(file.lastPathComponent) queries PostgreSQL around the working set")
        }
    }
}

/// The engine takes its domain as input (``SyncDomain``): no file of it names a table of the
/// field-sales schema.
@Suite("Engine knows no domain")
struct EngineDomainTests {
    @Test("no source of SyncEngine's push engine names a field-sales table in a string")
    func noFieldSalesTables() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/SyncEngine/Sync")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).filter { $0.pathExtension == "swift" }
        #expect(files.count > 10)
        let tables = FieldSalesSchema.schema.tables.map(\.name)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let named = try tables.filter { table in
                try text.contains("\"\(table)\"") || text.contains(Regex("(FROM|JOIN|INTO|UPDATE)\\s+\(table)\\b"))
            }
            #expect(named.isEmpty, "\(file.lastPathComponent) names \(named)")
        }
    }
}
