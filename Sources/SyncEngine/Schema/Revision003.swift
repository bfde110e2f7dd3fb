/// Schema revision 3: the change feed carries, besides change sets, rows that left a bucket
/// (removes) and rows that entered one (their full state).
enum Revision003 {
    static let sql = """
        ALTER TABLE change_log ADD COLUMN kind smallint NOT NULL DEFAULT 0;
        COMMENT ON COLUMN change_log.kind IS '0: a change set; 1: a row left the bucket (a record reference); 2: a row entered it (a record snapshot)';
        """
}
