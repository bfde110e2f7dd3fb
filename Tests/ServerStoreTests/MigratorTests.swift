import SyncTesting
import Testing

@testable import ServerStore

@Suite("Migrator")
struct MigratorTests {
    @Test("migrating twice is harmless, and two migrators at once apply each revision once")
    func idempotent() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("migrate")))
        #expect(try await Migrator.currentRevision(pool) == 0)
        async let first = Migrator.migrate(pool)
        async let second = Migrator.migrate(pool)
        let applied = try await first + second
        #expect(applied == Migrator.migrations.map(\.revision))
        #expect(try await Migrator.migrate(pool).isEmpty)
        #expect(try await Migrator.currentRevision(pool) == Migrator.latestRevision)
        let rows = try await pool.query("SELECT count(*) FROM schema_revisions")[0].read(0, as: Int.self)
        #expect(rows == Migrator.migrations.count)
    }

    @Test("the demo data set loads once, with every row, and references intact")
    func demoLoads() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("demo")))
        try await Migrator.migrate(pool)
        let data = try DemoDataSet(contentsOf: Fixtures.demo)
        #expect(try await data.load(into: pool))
        #expect(try await !data.load(into: pool))  // a second start keeps the state
        for table in data.tables {
            let count = try await pool.query("SELECT count(*) FROM \(table.name)")[0].read(0, as: Int.self)
            #expect(count == table.rows.count, "\(table.name)")
        }
        let keyAccountPrice = try await pool.query("""
            SELECT e.unit_price_minor FROM price_list_entries e JOIN price_lists l ON l.id = e.price_list_id
            WHERE l.tax_inclusive ORDER BY e.product_id LIMIT 1
            """)[0].read(0, as: Int.self)
        #expect(keyAccountPrice > 0)
    }
}
