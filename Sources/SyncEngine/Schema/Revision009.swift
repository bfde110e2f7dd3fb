/// Schema revision 9: a user's territories by index.
///
/// Every registration, pull, live wait and confined push reads the territories its user owns
/// (the field-sales domain's audience). Without an index each read scanned every owner row of
/// the database: at 10,000 devices syncing every 30 s, 20,000 owner rows read 330 times a
/// second, which alone saturated a core (`fieldsync-bench --only capacity`, `pg_stat_user_tables`).
enum Revision009 {
    static let sql = """
        CREATE INDEX territory_owners_by_user ON territory_owners (tenant_id, user_id);
        """
}
