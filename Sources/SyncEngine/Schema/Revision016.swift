/// Schema revision 16: assets' maintenance plans (issue 19, item 3) and the plan and due date of
/// the work orders they generate.
enum Revision016 {
    static let sql = """
        CREATE TABLE maintenance_plans (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            asset_id uuid,
            asset_id__clock bigint,
            asset_id__replica integer,
            work_type text,
            work_type__clock bigint,
            work_type__replica integer,
            priority text,
            priority__clock bigint,
            priority__replica integer,
            interval_days bigint,
            interval_days__clock bigint,
            interval_days__replica integer,
            interval_months bigint,
            interval_months__clock bigint,
            interval_months__replica integer,
            starts_at bigint,
            starts_at__clock bigint,
            starts_at__replica integer,
            ends_at bigint,
            ends_at__clock bigint,
            ends_at__replica integer,
            lead_days bigint,
            lead_days__clock bigint,
            lead_days__replica integer,
            window_days bigint,
            window_days__clock bigint,
            window_days__replica integer,
            active boolean,
            active__clock bigint,
            active__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        ALTER TABLE work_orders
            ADD COLUMN maintenance_plan_id uuid, ADD COLUMN maintenance_plan_id__clock bigint, ADD COLUMN maintenance_plan_id__replica integer,
            ADD COLUMN due_at bigint, ADD COLUMN due_at__clock bigint, ADD COLUMN due_at__replica integer;
        CREATE INDEX work_orders_by_plan ON work_orders (tenant_id, maintenance_plan_id) WHERE maintenance_plan_id IS NOT NULL;
        """
}
