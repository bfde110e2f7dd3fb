/// Schema revision 25: devices an admin revoked or wiped (issue 21, item 3), and the oldest app
/// version the operator serves a tenant on each platform.
enum Revision025 {
    static let sql = """
        ALTER TABLE devices ADD COLUMN revoked_at timestamptz, ADD COLUMN wipe boolean NOT NULL DEFAULT false;
        CREATE TABLE app_version_minimums (
            tenant_id uuid NOT NULL,
            platform text NOT NULL,
            minimum text NOT NULL,
            set_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, platform)
        );
        """
}
