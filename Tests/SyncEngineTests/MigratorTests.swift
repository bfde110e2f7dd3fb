import DemoData
import FieldModel
import PostgresDriver
import SyncTesting
import Testing

@testable import SyncEngine

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

    @Test("the migrated database has exactly the columns the current field model derives")
    func schemaMatchesFieldModel() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("derived")))
        try await Migrator.migrate(pool)
        let expected = ServerSchema(FieldSalesSchema.schema).expectedColumns
        for table in Set(expected.map(\.table)).sorted() {
            let actual = try await pool.query("""
                SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position
                """, [table]).map { "\(try $0.read(0, as: String.self)) \(try $0.read(1, as: String.self))" }
            let wanted = expected.filter { $0.table == table }.map { "\($0.column) \($0.type)" }
            // In any order: ALTER TABLE appends a new field's columns after the bookkeeping ones,
            // and no statement depends on the order (each names its columns, COPY included).
            #expect(actual.sorted() == wanted.sorted(), "\(table): a change to the field model needs a migration (fieldsync-server schema-sql)")
            #expect(actual.count == Set(actual).count)
        }
    }

    @Test("every table is keyed by tenant first (SCALING.md: distributable by tenant)")
    func tenantKeyed() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("tenant-keyed")))
        try await Migrator.migrate(pool)
        let tables = try await pool.query("""
            SELECT c.relname,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped AND a.attnotnull),
                   coalesce((SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                             WHERE i.indrelid = c.oid AND i.indisprimary), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1
            """).map { (try $0.read(0, as: String.self), try $0.read(1, as: String.self) == "t", try $0.read(2, as: String.self)) }
        #expect(tables.count > 30)
        // The two tables of the whole installation: which migrations ran, which generations served it.
        for (name, hasTenant, keyFirst) in tables where !["schema_revisions", "sync_generations"].contains(name) {
            #expect(hasTenant && keyFirst == "tenant_id", "\(name): every table carries tenant_id NOT NULL and leads its primary key with it")
        }
    }

    @Test("the demo data set loads once, every record with its buckets")
    func demoLoads() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("demo")))
        try await Migrator.migrate(pool)
        let data = try DemoDataSet(contentsOf: Fixtures.demo)
        #expect(try await data.load(into: pool))
        #expect(try await !data.load(into: pool))  // a second start keeps the state
        let records = try data.records(for: FieldSalesSchema.schema)
        for (table, count) in Dictionary(grouping: records, by: \.table).mapValues(\.count) {
            #expect(try await pool.query("SELECT count(*) FROM \(table)")[0].read(0, as: Int.self) == count, "\(table)")
        }
        // Every visit is in its rep's bucket and its customer's territory.
        let buckets = try await pool.query("SELECT count(DISTINCT bucket) FROM row_buckets WHERE tbl = 'visits'")[0].read(0, as: Int.self)
        #expect(buckets == 6 + 3)
    }
}
