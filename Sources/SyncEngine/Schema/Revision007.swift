/// Schema revision 7: what the server needs to trust no client.
///
/// - `devices.registered_clock` and `devices.clock_max`: the server's clock (milliseconds) when
///   the install first registered, and the newest change clock it has pushed. A change stamped
///   before either is a backdated clock and is refused (`clock_behind`): a rep cannot restore a
///   lost territory by stamping work a month back.
/// - `push_attempts`: the change sets of a push in flight. A change set whose previous attempt
///   never finished (the process died under it) is applied alone, and refused if it dies again,
///   so no input can stop the server on every retry.
enum Revision007 {
    static let sql = """
        ALTER TABLE devices ADD COLUMN registered_clock bigint NOT NULL DEFAULT 0;
        ALTER TABLE devices ADD COLUMN clock_max bigint NOT NULL DEFAULT 0;

        CREATE TABLE push_attempts (
            tenant_id uuid NOT NULL, change_set_id uuid NOT NULL, attempts integer NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, change_set_id)
        );
        """
}
