/// Schema revision 15: a work order's service levels (issue 19, item 5): when its response and
/// its arrival are due, from its priority, and the breach the server flagged.
enum Revision015 {
    static let sql = """
        ALTER TABLE work_orders
            ADD COLUMN response_due_at bigint, ADD COLUMN response_due_at__clock bigint, ADD COLUMN response_due_at__replica integer,
            ADD COLUMN arrival_due_at bigint, ADD COLUMN arrival_due_at__clock bigint, ADD COLUMN arrival_due_at__replica integer,
            ADD COLUMN service_level_breach text, ADD COLUMN service_level_breach__clock bigint, ADD COLUMN service_level_breach__replica integer;
        CREATE INDEX work_orders_due ON work_orders (tenant_id, arrival_due_at) WHERE NOT _deleted;
        """
}
