/// Schema revision 26: the generations the database has been served under (issue 21, item 4).
///
/// One row per generation (`Generation` in SyncWire, `SyncStore+Generations.swift`): when it
/// began, the newest device clock the database held then (the floor of a replica a device takes
/// back), and — for a generation that began on data carried over from an earlier one, a restore —
/// the replica numbers handed out before it (`replica_floor`) and the epoch its digest includes.
/// It is the installation's own table, like `schema_revisions`: under a distributed PostgreSQL
/// it is a reference table (SCALING.md).
enum Revision026 {
    static let sql = """
        CREATE TABLE sync_generations (
            generation text PRIMARY KEY,
            ordinal bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            epoch uuid NOT NULL,
            began_at timestamptz NOT NULL DEFAULT now(),
            began_clock bigint NOT NULL,
            replica_floor bigint
        );
        """
}
