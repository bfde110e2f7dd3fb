/// Schema revision 24: people who left (issue 21): a user deactivated by an admin keeps the
/// history that names them and is refused on every request.
enum Revision024 {
    static let sql = """
        ALTER TABLE users ADD COLUMN active boolean, ADD COLUMN active__clock bigint, ADD COLUMN active__replica integer;
        CREATE INDEX users_by_email ON users (tenant_id, lower(email)) WHERE NOT _deleted;
        """
}
