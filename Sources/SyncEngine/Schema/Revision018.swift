/// Schema revision 18: maintenance plans by meter (issue 19, item 3): assets' meter readings,
/// append-only; a plan's meter and interval in its units; the reading a work order is due at.
enum Revision018 {
    static let sql = """
        ALTER TABLE maintenance_plans ADD COLUMN meter text, ADD COLUMN meter__clock bigint, ADD COLUMN meter__replica integer,
            ADD COLUMN interval_meter bigint, ADD COLUMN interval_meter__clock bigint, ADD COLUMN interval_meter__replica integer,
            ADD COLUMN meter_start bigint, ADD COLUMN meter_start__clock bigint, ADD COLUMN meter_start__replica integer;
        ALTER TABLE work_orders ADD COLUMN due_meter bigint, ADD COLUMN due_meter__clock bigint, ADD COLUMN due_meter__replica integer;

        CREATE TABLE meter_readings (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            asset_id uuid,
            asset_id__clock bigint,
            asset_id__replica integer,
            work_order_id uuid,
            work_order_id__clock bigint,
            work_order_id__replica integer,
            meter text,
            meter__clock bigint,
            meter__replica integer,
            reading bigint,
            reading__clock bigint,
            reading__replica integer,
            read_by uuid,
            read_by__clock bigint,
            read_by__replica integer,
            read_at bigint,
            read_at__clock bigint,
            read_at__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX meter_readings_by_asset ON meter_readings (tenant_id, asset_id, meter, read_at) WHERE NOT _deleted;
        """
}
