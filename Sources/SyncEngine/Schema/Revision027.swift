/// Schema revision 27: every change to `users` notifies `fieldsync_people` with its tenant, so
/// that every server instance drops what it kept of its users at once (`Authenticator` in
/// SyncServer): a user deactivated by the operator's command or through another instance is
/// refused on the next request, not after a cache's lifetime. PostgreSQL delivers it at commit and
/// folds repeats within one transaction.
enum Revision027 {
    static let sql = """
        CREATE FUNCTION fieldsync_people_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fieldsync_people', coalesce(NEW.tenant_id, OLD.tenant_id)::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION fieldsync_people_notify();
        """
}
