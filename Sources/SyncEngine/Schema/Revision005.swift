/// Schema revision 5: what the rules on arrival and the office need.
///
/// - `decisions` is the audit of every rule that fired on arrival (who, what, device time, server
///   time, the rule, the outcome) and the office's review queue: a decision with `review = 'open'`
///   waits for a dispatcher or manager. A rejected change is kept here whole (`change`) with the
///   server's value (`server_state`): the quarantine.
/// - `conflicts` gains its review: who resolved it, when, with what comment.
/// - `blobs` holds photo and signature bytes by SHA-256, verified on upload.
/// - `row_departures` remembers when a row left a bucket, so a write made while its author still
///   had the row is judged by the buckets of the change's time.
enum Revision005 {
    static let sql = """
        CREATE TABLE decisions (
            tenant_id uuid NOT NULL, seq bigserial NOT NULL,
            change_id uuid, tbl text NOT NULL, record uuid NOT NULL,
            rule text NOT NULL, result text NOT NULL, message text NOT NULL,
            author_id uuid, author_role text, replica integer,
            device_time bigint, server_time bigint NOT NULL,
            change bytea, server_state bytea,
            review text, reviewed_by uuid, reviewed_at bigint, review_comment text,
            PRIMARY KEY (tenant_id, seq)
        );
        CREATE INDEX decisions_open ON decisions (tenant_id, seq) WHERE review = 'open';
        CREATE INDEX decisions_by_record ON decisions (tenant_id, tbl, record);

        ALTER TABLE conflicts ADD COLUMN resolved_at bigint, ADD COLUMN comment text;
        CREATE INDEX conflicts_open ON conflicts (tenant_id, seq) WHERE resolution IS NULL;

        CREATE TABLE blobs (
            tenant_id uuid NOT NULL, sha256 text NOT NULL, size_bytes bigint NOT NULL, media_type text NOT NULL,
            bytes bytea NOT NULL, uploaded_by uuid, uploaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, sha256)
        );

        CREATE TABLE row_departures (
            tenant_id uuid NOT NULL, tbl text NOT NULL, id uuid NOT NULL, bucket text NOT NULL, departed_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, tbl, id, bucket, departed_at)
        );
        """
}
