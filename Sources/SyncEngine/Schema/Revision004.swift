/// Schema revision 4: what the live channel and feed compaction need.
///
/// - `change_log` rows wake the live channel of every server instance: a trigger sends
///   `NOTIFY fieldsync_feed, '<tenant> <bucket>'`, delivered when the writing transaction commits
///   (PostgreSQL folds repeats within one transaction).
/// - `device_cursors` keeps how far each device has acknowledged each bucket (its cursor on its
///   last pull), so the feed can be compacted below what every device has read.
/// - `bucket_horizons` keeps, per bucket, the newest sequence compacted away: a device whose
///   cursor is older must re-prime the bucket.
enum Revision004 {
    static let sql = """
        CREATE FUNCTION fieldsync_feed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fieldsync_feed', NEW.tenant_id::text || ' ' || NEW.bucket);
            RETURN NULL;
        END $$;
        CREATE TRIGGER change_log_notify AFTER INSERT ON change_log FOR EACH ROW EXECUTE FUNCTION fieldsync_feed_notify();

        CREATE TABLE device_cursors (
            tenant_id uuid NOT NULL, replica integer NOT NULL, bucket text NOT NULL,
            sequence xid8 NOT NULL, seen_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, replica, bucket)
        );
        CREATE INDEX device_cursors_by_bucket ON device_cursors (tenant_id, bucket);

        CREATE TABLE bucket_horizons (
            tenant_id uuid NOT NULL, bucket text NOT NULL, horizon xid8 NOT NULL,
            PRIMARY KEY (tenant_id, bucket)
        );
        """
}
