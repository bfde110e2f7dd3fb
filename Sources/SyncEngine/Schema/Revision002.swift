/// Schema revision 2: registered device installs and their replica numbers.
enum Revision002 {
    static let sql = """
        CREATE TABLE devices (
            replica integer GENERATED ALWAYS AS IDENTITY (START WITH 1) PRIMARY KEY,
            tenant_id uuid NOT NULL,
            installation uuid NOT NULL,
            user_id uuid NOT NULL,
            platform text NOT NULL,
            app_version text NOT NULL,
            registered_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, installation)
        );
        """
}
