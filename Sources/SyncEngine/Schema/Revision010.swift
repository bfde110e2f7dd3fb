/// Schema revision 10: rows retired from phones.
///
/// A row its table's phone window no longer keeps (a visit completed more than 30 days ago) is
/// *retired*: it stays in its buckets (scope is judged by them), but snapshots and the feed leave
/// it out and every bucket it is in got a remove. `retired_at` is when it left. A row written back
/// into its window is restored (the row leaves this table and arrives whole). See
/// `SyncStore+PhoneWindow.swift`.
enum Revision010 {
    static let sql = """
        CREATE TABLE row_retired (
            tenant_id uuid NOT NULL, tbl text NOT NULL, id uuid NOT NULL, retired_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, tbl, id)
        );
        """
}
