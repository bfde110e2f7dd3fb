/// Schema revision 28: a transaction writes one `change_log` row per bucket it touched, `kind` 3,
/// holding its entries for the bucket in order (`FeedEntry`), instead of one row per entry. A push
/// of 100 change sets wrote about 260 feed rows and now writes one per bucket, two or three; a
/// pull reads as few. Rows of kinds 0, 1 and 2 written before stay readable until compaction
/// removes them. A server built before this revision answers `not_ready` on `/ready` once the
/// database is at it, and its pulls would fail on the new rows: stop the old instances before the
/// new ones migrate (OPERATIONS.md, "Upgrades").
///
/// A row now holds a push's worth of entries (about 24 kB for 100 change sets), which PostgreSQL
/// compresses: LZ4 where the server was built with it (PostgreSQL's own packages are) compresses
/// as well as the default `pglz` here, at a third of the insert's time (BENCHMARKS.md, session 23).
enum Revision028 {
    static let sql = """
        DO $$ BEGIN
            ALTER TABLE change_log ALTER COLUMN change_set SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            RAISE NOTICE 'this PostgreSQL has no LZ4: the feed stays compressed with pglz';
        END $$;
        COMMENT ON COLUMN change_log.kind IS '3: the transaction''s entries for the bucket, in order (a FeedEntries); before revision 28, one entry per row: 0 a change set, 1 a row left the bucket (a record reference), 2 a row entered it (a record snapshot)';
        """
}
