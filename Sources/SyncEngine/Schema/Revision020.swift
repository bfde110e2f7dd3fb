/// Schema revision 20: orders out to the ERP (issue 20, item 2). An order's invoiced amount; and
/// the export feed: every order that becomes `confirmed`, or is `cancelled` after it was, is
/// recorded by a trigger in the transaction that moves it, under that transaction's id, so the
/// export reads it exactly like the sync feed (older than every transaction still running).
enum Revision020 {
    static let sql = """
        ALTER TABLE sales_orders ADD COLUMN invoiced_minor bigint, ADD COLUMN invoiced_minor__clock bigint, ADD COLUMN invoiced_minor__replica integer;

        CREATE TABLE order_exports (
            tenant_id uuid NOT NULL,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            seq bigserial,
            order_id uuid NOT NULL,
            event text NOT NULL,
            PRIMARY KEY (tenant_id, xid, seq)
        );

        CREATE FUNCTION fieldsync_order_export() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status = 'confirmed' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'confirmed') THEN
                INSERT INTO order_exports (tenant_id, order_id, event) VALUES (NEW.tenant_id, NEW.id, 'confirmed');
            ELSIF TG_OP = 'UPDATE' AND NEW.status = 'cancelled' AND OLD.status = 'confirmed' THEN
                INSERT INTO order_exports (tenant_id, order_id, event) VALUES (NEW.tenant_id, NEW.id, 'cancelled');
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER sales_orders_export AFTER INSERT OR UPDATE OF status ON sales_orders
            FOR EACH ROW EXECUTE FUNCTION fieldsync_order_export();
        """
}
