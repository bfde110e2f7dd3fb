import SyncCore
import Testing

@testable import FieldModel

@Suite("FieldSalesSchema")
struct FieldSalesSchemaTests {
    let schema = FieldSalesSchema.schema

    @Test("declares every record of DOMAIN.md §1 and the technicians' resources of §6")
    func everyRecord() {
        let expected = [
            "tenants", "users", "territories", "territory_owners", "products", "price_lists", "price_list_entries",
            "discount_policies", "customers", "contacts", "last_prices", "attachments", "visit_plans", "visits", "visit_tasks",
            "geo_events", "shelf_stock_counts", "contact_records", "manager_comments", "sales_orders", "order_lines",
            "payments", "assets", "work_orders", "stock_locations", "stock_levels", "stock_ledger", "parts_used",
            "work_order_types", "work_order_type_skills", "technician_profiles", "technician_skills", "service_territories", "absences", "maintenance_plans", "work_order_type_steps", "step_answers",
            "meter_readings", "quotes", "quote_lines", "visit_schedules", "week_plans", "week_plan_visits",
        ]
        #expect(Set(schema.tables.map(\.name)) == Set(expected))
    }

    @Test("statuses are forward-only over their machine; facts are append-only; money is never a float")
    func policies() throws {
        for (table, machine) in [("visits", Lifecycles.visit), ("work_orders", Lifecycles.workOrder), ("sales_orders", Lifecycles.salesOrder)] {
            #expect(try #require(schema.table(table)?.field("status")).policy == machine.policy, "\(table)")
        }
        for table in ["geo_events", "payments", "parts_used", "stock_ledger", "manager_comments", "shelf_stock_counts", "step_answers", "meter_readings"] {
            #expect(schema.table(table)?.kind == .appendOnly, "\(table)")
        }
        #expect(schema.table("stock_levels")?.field("quantity")?.policy == .counter)
        for table in schema.tables {
            for field in table.fields where field.name.hasSuffix("_minor") {
                #expect(field.type == .money, "\(table.name).\(field.name)")
            }
        }
    }

    @Test("who edits what follows DOMAIN.md §3")
    func access() throws {
        func access(_ table: String, _ field: String) throws -> WriteAccess { try #require(schema.table(table)?.field(field)).access }
        #expect(try !access("visits", "assignee_id").allows(.rep), "dispatcher-owned")
        #expect(try access("visits", "assignee_id").allows(.rep, creating: true), "an ad hoc visit is created assigned to its rep")
        #expect(try !access("customers", "territory_id").allows(.rep) && access("customers", "territory_id").allows(.rep, creating: true))
        #expect(try access("visits", "assignee_id").allows(.dispatcher))
        #expect(try access("visits", "status").allows(.rep) && access("visits", "status").allows(.dispatcher))
        #expect(try access("customers", "phone").allows(.rep), "a rep corrects contact data")
        #expect(try !access("customers", "credit_limit_minor").allows(.rep) && access("customers", "credit_limit_minor").allows(.manager))
        #expect(try access("sales_orders", "total_minor") == .serverOnly)
        #expect(try !access("sales_orders", "approval_state").allows(.rep))
        #expect(try access("order_lines", "quantity").allows(.rep))
        #expect(try access("work_orders", "window_end").allows(.dispatcher) && !access("work_orders", "window_end").allows(.technician))
        #expect(try access("work_orders", "actual_start").allows(.technician) && !access("work_orders", "actual_start").allows(.dispatcher))
        #expect(try access("geo_events", "verification") == .serverOnly)
    }

    @Test("every table has at least one bucket")
    func buckets() {
        for table in schema.tables { #expect(!table.buckets.isEmpty, "\(table.name)") }
    }

    @Test("an inconsistent schema is refused with a reason")
    func inconsistent() {
        let order = StateOrder(name: "s", ranking: ["a", "b"])
        #expect(throws: SchemaError.self) {
            try Schema(revision: 1, tables: [TableSchema(name: "t", fields: [FieldSchema("s", .state(order), access: .everyone)], buckets: [.constant("c")])])
        }
        #expect(throws: SchemaError.self) {
            try Schema(revision: 1, tables: [TableSchema(name: "t", fields: [FieldSchema("x", .reference("nowhere"), access: .everyone)], buckets: [.constant("c")])])
        }
        #expect(throws: SchemaError.self) {
            try Schema(revision: 1, tables: [TableSchema(name: "t", kind: .appendOnly, fields: [FieldSchema("x", .integer, access: .everyone)], buckets: [.constant("c")])])
        }
    }
}
