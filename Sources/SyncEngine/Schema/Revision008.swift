/// Schema revision 8: what the set-based push engine and distribution by tenant need.
///
/// - The live channel's trigger on `change_log` fires once per statement instead of once per
///   row: a push writes its feed in one statement, and the trigger sends one
///   `NOTIFY fieldsync_feed, '<tenant> <bucket>'` per bucket it touched (PostgreSQL folds
///   repeats within a transaction, and serializes the commits of notifying transactions, so
///   fewer notifying statements cost less).
/// - `devices` is keyed by `(tenant_id, replica)` like every other table, so that it can be
///   distributed by tenant (`SCALING.md`); replica numbers still come from one sequence.
enum Revision008 {
    static let sql = """
        DROP TRIGGER change_log_notify ON change_log;
        CREATE OR REPLACE FUNCTION fieldsync_feed_notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fieldsync_feed', b.tenant_id::text || ' ' || b.bucket)
            FROM (SELECT DISTINCT tenant_id, bucket FROM inserted ORDER BY 1, 2) b;
            RETURN NULL;
        END $$;
        CREATE TRIGGER change_log_notify AFTER INSERT ON change_log REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_feed_notify_rows();
        DROP FUNCTION fieldsync_feed_notify();

        ALTER TABLE devices DROP CONSTRAINT devices_pkey, ADD PRIMARY KEY (tenant_id, replica);
        """
}
