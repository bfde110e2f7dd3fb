public import Logging
public import PostgresDriver

/// One forward step of the server's PostgreSQL schema.
public struct Migration: Sendable {
    /// The schema revision this migration brings the database to; revisions count up from 1.
    public let revision: Int
    /// What it does, in a few words.
    public let name: String
    /// The SQL, run in one transaction.
    public let sql: String
}

/// Brings a database's schema to the latest revision.
///
/// Each migration runs in its own transaction together with the row that records it in
/// `schema_revisions`, and the whole run holds an advisory lock, so two servers starting at once
/// on one database apply each migration exactly once, and running `migrate` twice is harmless.
public enum Migrator {
    /// Every migration, in revision order.
    public static let migrations: [Migration] = [
        Migration(revision: 1, name: "field model records and sync bookkeeping", sql: Revision001.sql),
        Migration(revision: 2, name: "devices", sql: Revision002.sql),
        Migration(revision: 3, name: "removes and entries in the change feed", sql: Revision003.sql),
        Migration(revision: 4, name: "live notifications, device cursors and feed horizons", sql: Revision004.sql),
        Migration(revision: 5, name: "decisions on arrival, reviews, blobs and bucket departures", sql: Revision005.sql),
        Migration(revision: 6, name: "indexes for the rules on arrival and the office", sql: Revision006.sql),
        Migration(revision: 7, name: "device clocks and push attempts", sql: Revision007.sql),
        Migration(revision: 8, name: "one live notification per feed statement; devices keyed by tenant", sql: Revision008.sql),
        Migration(revision: 9, name: "a user's territories by index", sql: Revision009.sql),
        Migration(revision: 10, name: "rows retired from phones", sql: Revision010.sql),
        Migration(revision: 11, name: "the office lists in their own order", sql: Revision011.sql),
        Migration(revision: 12, name: "a work order's rating comment", sql: Revision012.sql),
        Migration(revision: 13, name: "a work order's located arrival", sql: Revision013.sql),
        Migration(revision: 14, name: "technicians' resources, work-order types and dispatch decisions", sql: Revision014.sql),
        Migration(revision: 15, name: "a work order's service levels", sql: Revision015.sql),
        Migration(revision: 16, name: "assets' maintenance plans", sql: Revision016.sql),
        Migration(revision: 17, name: "service steps and their answers", sql: Revision017.sql),
        Migration(revision: 18, name: "maintenance plans by meter, and assets' meter readings", sql: Revision018.sql),
        Migration(revision: 19, name: "the ERP's key on customers, contacts, products and price lists", sql: Revision019.sql),
        Migration(revision: 20, name: "orders out to the ERP: the export feed and the invoiced amount", sql: Revision020.sql),
        Migration(revision: 21, name: "price lists' validity end and the tenant's default lists", sql: Revision021.sql),
        Migration(revision: 22, name: "quotes and the quote an order was converted from", sql: Revision022.sql),
        Migration(revision: 23, name: "recurring visit plans, weekly plans and typed visit-task results", sql: Revision023.sql),
        Migration(revision: 24, name: "users who left, and users found by e-mail address", sql: Revision024.sql),
        Migration(revision: 25, name: "revoked and wiped devices, and the oldest app version per platform", sql: Revision025.sql),
        Migration(revision: 26, name: "the generations the database has been served under, for restores phones survive", sql: Revision026.sql),
        Migration(revision: 27, name: "changes to users notify every server instance", sql: Revision027.sql),
        Migration(revision: 28, name: "one feed row per bucket per transaction", sql: Revision028.sql),
    ]

    /// The latest revision this build knows.
    public static var latestRevision: Int { migrations.last?.revision ?? 0 }

    /// The advisory lock key migrations hold ("fieldsync" in ASCII).
    static let lockKey: Int64 = 0x6669_656C_6473_796E

    /// Applies every migration the database has not seen.
    /// - Returns: The revisions applied now (empty when the schema was already current).
    @discardableResult
    public static func migrate(_ pool: PostgresPool, logger: Logger = Logger(label: "fieldsync.migrate")) async throws -> [Int] {
        try await pool.withConnection { connection in
            // A session lock for the whole run: even creating the bookkeeping table races when
            // two servers start at once. A lost connection releases it by itself.
            try await connection.query("SELECT pg_advisory_lock($1)", [lockKey])
            do {
                let applied = try await applyMissing(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock($1)", [lockKey])
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [lockKey])
                throw error
            }
        }
    }

    private static func applyMissing(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_revisions (
                revision integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let seen = Set(try await connection.query("SELECT revision FROM schema_revisions").map { try $0.read(0, as: Int.self) })
        var applied: [Int] = []
        for migration in migrations where !seen.contains(migration.revision) {
            try await connection.transaction { connection in
                try await connection.execute(migration.sql)
                try await connection.query("INSERT INTO schema_revisions (revision, name) VALUES ($1, $2)", [migration.revision, migration.name])
            }
            logger.info("applied schema revision", metadata: ["revision": "\(migration.revision)", "name": "\(migration.name)"])
            applied.append(migration.revision)
        }
        return applied
    }

    /// The database's current revision (0 for an empty database).
    public static func currentRevision(_ pool: PostgresPool) async throws -> Int {
        let exists = try await pool.query("SELECT to_regclass('schema_revisions') IS NOT NULL")[0].read(0, as: Bool.self)
        guard exists else { return 0 }
        return try await pool.query("SELECT coalesce(max(revision), 0) FROM schema_revisions")[0].read(0, as: Int.self)
    }
}
