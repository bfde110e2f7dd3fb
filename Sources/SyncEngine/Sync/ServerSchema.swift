public import SyncCore

/// The server's PostgreSQL tables, derived from the field model's schema, and the sync
/// bookkeeping beside them.
///
/// A record table is keyed by `(tenant_id, id)` — tenant first, so that the schema can later be
/// distributed by tenant — and holds, per field, a value column named after the field and the
/// field's version in `<field>__clock` / `<field>__replica`; a state field adds `<field>__epoch`;
/// a counter keeps its sum and every replica's contribution in `counter_contributions`.
/// Migrations are frozen text (``Migrator``); a test checks that the migrated database has exactly
/// the columns this derivation expects, so a change to the field model needs a migration.
public struct ServerSchema: Sendable {
    /// The field model's schema.
    public let schema: Schema

    /// Derives the server schema from `schema`.
    public init(_ schema: Schema) { self.schema = schema }

    /// Every column of every record table, as (table, column, PostgreSQL type), in order.
    public var expectedColumns: [(table: String, column: String, type: String)] {
        var columns: [(String, String, String)] = []
        for table in schema.tables {
            columns.append((table.name, "tenant_id", "uuid"))
            columns.append((table.name, "id", "uuid"))
            for field in table.fields {
                columns.append((table.name, field.name, Self.sqlType(field.type)))
                if case .state = field.type { columns.append((table.name, "\(field.name)__epoch", "integer")) }
                columns.append((table.name, "\(field.name)__clock", "bigint"))
                columns.append((table.name, "\(field.name)__replica", "integer"))
            }
            columns += [(table.name, "_tombstone_clock", "bigint"), (table.name, "_tombstone_replica", "integer"), (table.name, "_deleted", "boolean")]
        }
        return columns
    }

    /// The SQL that creates the record tables and the bookkeeping, as the current field model
    /// derives it (what `fieldsync-server schema-sql` prints, and what a new migration starts from).
    public var creationSQL: String {
        var sql = ""
        for table in schema.tables {
            var definitions = ["tenant_id uuid NOT NULL", "id uuid NOT NULL"]
            for field in table.fields {
                definitions.append("\(field.name) \(Self.sqlType(field.type))")
                if case .state = field.type { definitions.append("\(field.name)__epoch integer") }
                definitions += ["\(field.name)__clock bigint", "\(field.name)__replica integer"]
            }
            definitions += ["_tombstone_clock bigint", "_tombstone_replica integer", "_deleted boolean NOT NULL DEFAULT false",
                            "PRIMARY KEY (tenant_id, id)"]
            sql += "CREATE TABLE \(table.name) (\n    \(definitions.joined(separator: ",\n    "))\n);\n\n"
        }
        return sql + Self.bookkeeping
    }

    /// The sync bookkeeping: bucket membership, counters, the change feed, applied changes, conflicts.
    static let bookkeeping = """
        -- Which buckets each row is in (for snapshots and for removes when a row leaves a bucket).
        CREATE TABLE row_buckets (
            tenant_id uuid NOT NULL, bucket text NOT NULL, tbl text NOT NULL, id uuid NOT NULL,
            PRIMARY KEY (tenant_id, bucket, tbl, id)
        );
        CREATE INDEX row_buckets_by_row ON row_buckets (tenant_id, tbl, id);

        CREATE TABLE counter_contributions (
            tenant_id uuid NOT NULL, tbl text NOT NULL, id uuid NOT NULL, field text NOT NULL,
            replica integer NOT NULL, total bigint NOT NULL, clock bigint NOT NULL,
            PRIMARY KEY (tenant_id, tbl, id, field, replica)
        );

        -- The change feed: one row per bucket per transaction (its entries for the bucket, in order),
        -- stamped with the writing transaction's id. A pull serves only rows of transactions below the oldest one still running, in
        -- transaction order, so a transaction that commits late is never overtaken.
        CREATE TABLE change_log (
            tenant_id uuid NOT NULL,
            bucket text NOT NULL,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            seq bigserial NOT NULL,
            change_set bytea COMPRESSION lz4 NOT NULL,  -- where PostgreSQL was built with LZ4 (revision 28)
            kind smallint NOT NULL DEFAULT 0,  -- 3: the transaction's entries for the bucket, in order; 0, 1, 2: one change set, remove or entered row (before revision 28)
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, bucket, xid, seq)
        );

        -- Every change the server has answered, with its answer: a replayed push gets the same
        -- outcome and applies nothing twice.
        CREATE TABLE applied_changes (
            tenant_id uuid NOT NULL, change_id uuid NOT NULL, batch_id uuid NOT NULL, replica integer NOT NULL,
            outcome bytea NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, change_id)
        );

        -- How far each device has read each bucket, and how far each bucket's feed is compacted
        -- (a device behind the horizon re-primes). A trigger on change_log notifies
        -- fieldsync_feed with '<tenant> <bucket>' (revision 4).
        CREATE TABLE device_cursors (
            tenant_id uuid NOT NULL, replica integer NOT NULL, bucket text NOT NULL,
            sequence xid8 NOT NULL, seen_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, replica, bucket)
        );
        CREATE TABLE bucket_horizons (
            tenant_id uuid NOT NULL, bucket text NOT NULL, horizon xid8 NOT NULL,
            PRIMARY KEY (tenant_id, bucket)
        );

        CREATE TABLE conflicts (
            tenant_id uuid NOT NULL, seq bigserial NOT NULL, tbl text NOT NULL, record uuid NOT NULL, field text NOT NULL,
            winner bytea NOT NULL, loser bytea NOT NULL, winner_replica integer NOT NULL, loser_replica integer NOT NULL,
            resolution text, resolved_by uuid, recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, seq)
        );

        """

    static func sqlType(_ type: FieldType) -> String {
        switch type {
        case .bool: "boolean"
        case .integer, .money, .decimal, .timestamp, .counter: "bigint"
        case .text, .blobReference, .state: "text"
        case .reference: "uuid"
        }
    }
}
