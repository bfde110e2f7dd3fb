/// Schema revision 6: indexes for the lookups of the rules on arrival and the office.
///
/// Until revision 5, record tables had their primary key only, so every rule that finds a
/// record's children or siblings read the whole table: pricing an order scanned `order_lines`
/// and `price_list_entries`, the credit check scanned `sales_orders`. `fieldsync-bench` found it
/// (a push slowed as the tenant grew: 22 ms per order priced with 22,000 lines on the server).
/// Each index below serves a query of `SyncEngine/Rules/` or `SyncEngine/Office/`.
enum Revision006 {
    static let sql = """
        CREATE INDEX order_lines_by_order ON order_lines (tenant_id, order_id);
        CREATE INDEX payments_by_order ON payments (tenant_id, order_id);
        CREATE INDEX price_list_entries_by_list ON price_list_entries (tenant_id, price_list_id, product_id);
        CREATE INDEX sales_orders_by_customer ON sales_orders (tenant_id, customer_id);
        CREATE INDEX last_prices_by_customer ON last_prices (tenant_id, customer_id, product_id);
        CREATE INDEX stock_levels_by_location ON stock_levels (tenant_id, stock_location_id, product_id);
        CREATE INDEX stock_levels_by_product ON stock_levels (tenant_id, product_id);
        CREATE INDEX geo_events_by_visit ON geo_events (tenant_id, visit_id);
        CREATE INDEX geo_events_by_user ON geo_events (tenant_id, user_id, device_time);
        CREATE INDEX geo_events_by_place ON geo_events (tenant_id, latitude_e6, longitude_e6);
        CREATE INDEX visit_tasks_by_visit ON visit_tasks (tenant_id, visit_id);
        CREATE INDEX visits_by_executor ON visits (tenant_id, executed_by);
        CREATE INDEX visits_by_assignee ON visits (tenant_id, assignee_id, planned_start);
        CREATE INDEX work_orders_by_assignee ON work_orders (tenant_id, assignee_id);
        CREATE INDEX parts_used_by_work_order ON parts_used (tenant_id, work_order_id);
        CREATE INDEX customers_by_tax_number ON customers (tenant_id, tax_number);
        CREATE INDEX customers_by_normalized_name ON customers (tenant_id, normalized_name);
        CREATE INDEX contact_records_by_customer ON contact_records (tenant_id, customer_id);
        """
}
