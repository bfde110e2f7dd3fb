/// Schema revision 11: the office's lists in their own order.
///
/// `GET /v1/office/orders` pages sales orders newest first, `work-orders` by their window, latest
/// first, and `customers` by name: each page reads its rows from an index in the list's order
/// after the cursor, instead of sorting every row of the tenant for every page.
enum Revision011 {
    static let sql = """
        CREATE INDEX sales_orders_newest ON sales_orders (tenant_id, coalesce(order_date, 0) DESC, id DESC);
        CREATE INDEX work_orders_latest_window ON work_orders (tenant_id, coalesce(window_start, 0) DESC, id DESC);
        CREATE INDEX customers_by_name ON customers (tenant_id, coalesce(name, ''), id);
        """
}
