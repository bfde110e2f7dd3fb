import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

/// The company's ERP in the swarm (issue 20, item 5), at night while the phones are offline: it
/// loads its master data — new customers in every territory with a contact, then their balances
/// and a renamed catalogue — takes the export feed from where it stopped, and answers: released
/// at once, delivered and invoiced a night later (now and then the invoice before the delivery,
/// and a repeated answer). Before the first day it dates a price change: the first territory's
/// price list ends at noon on the second day and a dearer list for its group takes over, so
/// orders taken offline before noon and arriving after keep the old prices.
/// The oracle checks that every confirmed order was exported exactly once and that every priced
/// order was priced from the list in force on its date.
extension SwarmWorld {
    func erpNight(day: Int) async throws {
        // Master data in, as files.
        if day == 0 {
            var customers = "erp_reference,name,territory,city,customer_group\n", contacts = "erp_reference,customer,name,phone\n"
            let names = try await pool.query("SELECT id::text, name FROM territories WHERE tenant_id = $1 AND NOT _deleted ORDER BY id", [tenant.uuidString])
            for (index, row) in names.enumerated() {
                let territory = try row.read(1, as: String.self)
                for n in 0..<2 {
                    customers += "SW-C\(index)-\(n),\"ERP customer \(index)-\(n), Inc.\",\"\(territory.replacingOccurrences(of: "\"", with: "\"\""))\",Springfield,horeca\n"
                    contacts += "SW-K\(index)-\(n),SW-C\(index)-\(n),Buyer \(index)-\(n),+1-212-555-\(1000 + index * 10 + n)\n"
                }
            }
            try await load(.customers, customers)
            try await load(.contacts, contacts)
        } else {
            var balances = "customer,outstanding_minor\n"
            for index in 0..<territories.count { balances += "SW-C\(index)-0,\(1_000 * (day + 1) + index)\n" }
            try await load(.balances, balances)
            let renamed = "erp_reference,name\n" + (0..<2).map { "SW-C0-\($0),\"ERP customer 0-\($0) (night \(day))\"" }.joined(separator: "\n") + "\n"
            try await load(.customers, renamed)
        }
        // Orders out: the feed from the stored cursor, page by page.
        var page: (entries: [SyncStore.ExportEntry], hasMore: Bool)
        repeat {
            page = try await store.exportOrders(after: erpCursor, limit: 50, by: manager)
            for entry in page.entries {
                exportedEvents[entry.order.id, default: []].append(entry.event)
                if entry.event == "confirmed" { erpOrders.append((entry.order.id, day)) }
            }
            erpCursor = page.entries.last?.cursor ?? erpCursor
        } while page.hasMore
        // The answers: today's released; yesterday's delivered and invoiced, in either order, now and then twice.
        for (order, night) in erpOrders {
            do {
                if night == day {
                    try await store.answerFromERP(order: order, status: "released_to_erp", erpReference: "SO-\(order.uuidString.prefix(8))", invoicedMinor: nil, by: manager)
                } else if night == day - 1 {
                    let answers = random.next() % 3 == 0 ? ["invoiced", "delivered"] : ["delivered", "invoiced"]
                    for answer in answers + (random.next() % 5 == 0 ? ["invoiced"] : []) {
                        try await store.answerFromERP(order: order, status: answer, erpReference: nil, invoicedMinor: nil, by: manager)
                        if answer == "invoiced" { report.erpInvoiced += 1 }
                    }
                }
            } catch let error as SyncStore.OfficeError where error.code == .invalidState {
                // Cancelled by the office after its export: the ERP's answer is refused, as it should be.
            }
        }
    }

    /// The ERP's file of `kind`, loaded as the operator's command would.
    func load(_ kind: ImportKind, _ text: String) async throws {
        let report = try await store.importMasterData(kind, try ImportFile(Array(text.utf8), format: .csv), tenant: tenant)
        self.report.imported += report.created + report.updated
    }

    /// The first territory's price list ends at `noon`; a list for its group, 10 % dearer, takes over.
    func datePriceChange(at noon: Int64) async throws {
        guard let territory = territories.first, let customer = customers[territory]?.first,
              let list = try await pool.query("SELECT price_list_id::text FROM customers WHERE tenant_id = $1 AND id = $2::uuid", [tenant.uuidString, customer.uuidString])
                .first.flatMap({ try $0.read(0, as: String?.self) }).flatMap({ RecordID($0) }),
              let group = try await pool.query("SELECT customer_group FROM price_lists WHERE tenant_id = $1 AND id = $2::uuid", [tenant.uuidString, list.uuidString])
                .first.flatMap({ try $0.read(0, as: String?.self) }) else { return }
        try await store.edit([.init("price_lists", list, [("valid_to", .timestamp(noon))])], by: manager, tenant: tenant)
        let entries = try await pool.query("""
            SELECT p.erp_reference, e.unit_price_minor, p.id::text FROM price_list_entries e JOIN products p ON p.tenant_id = e.tenant_id AND p.id = e.product_id
            WHERE e.tenant_id = $1 AND e.price_list_id = $2::uuid AND NOT e._deleted ORDER BY p.id
            """, [tenant.uuidString, list.uuidString])
        // The demo products have no ERP key yet: the ERP links them to its own first.
        var keyed: [RecordID: String] = [:]
        for row in entries {
            guard let product = RecordID(try row.read(2, as: String.self)) else { continue }
            keyed[product] = try row.read(0, as: String?.self) ?? "SW-P-\(product.uuidString.prefix(13))"
        }
        try await store.edit(keyed.sorted { $0.key < $1.key }.map { .init("products", $0.key, [("erp_reference", .text($0.value))]) }, by: nil, tenant: tenant)
        var prices = "price_list,name,currency,customer_group,valid_from,product,unit_price_minor\n"
        let date = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(noon) / 1_000))
        for row in entries {
            guard let product = RecordID(try row.read(2, as: String.self)), let key = keyed[product], let price = try row.read(1, as: Int64?.self) else { continue }
            prices += "SW-DEARER,Dearer from noon,USD,\(group),\(date),\(key),\(price + price / 10)\n"
        }
        try await load(.priceLists, prices)
    }

    /// The ERP's promises, judged at the end: every order that reached `confirmed` was exported
    /// once as confirmed (none missed, none twice); every priced order was priced from the list in
    /// force on its date.
    func reconcileERP() async throws {
        var errors = 0
        let confirmed = try await pool.query("""
            SELECT id::text FROM sales_orders WHERE tenant_id = $1 AND status IN ('confirmed', 'released_to_erp', 'delivered', 'invoiced')
            """, [tenant.uuidString]).compactMap { RecordID(try $0.read(0, as: String.self)) }
        // What the ERP has not read yet, it reads now.
        var page: (entries: [SyncStore.ExportEntry], hasMore: Bool)
        repeat {
            page = try await store.exportOrders(after: erpCursor, limit: 200, by: manager)
            for entry in page.entries { exportedEvents[entry.order.id, default: []].append(entry.event) }
            erpCursor = page.entries.last?.cursor ?? erpCursor
        } while page.hasMore
        for order in confirmed where exportedEvents[order]?.filter({ $0 == "confirmed" }).count != 1 {
            errors += 1
            if report.details.count < 10 { report.details.append("order \(order.uuidString) exported as confirmed \(exportedEvents[order]?.filter { $0 == "confirmed" }.count ?? 0) times") }
        }
        report.erpExported = exportedEvents.values.reduce(0) { $0 + $1.count }
        // Prices: each priced order's list against the choice made afresh from the stored lists.
        var lists: [PriceLists.List] = []
        for row in try await pool.query("SELECT id::text, customer_group, valid_from, valid_to, coalesce(is_default, false) FROM price_lists WHERE tenant_id = $1 AND NOT _deleted",
                                        [tenant.uuidString]) {
            lists.append(PriceLists.List(id: try row.read(0, as: RecordID.self), customerGroup: try row.read(1, as: String?.self),
                                         validFrom: try row.read(2, as: Int64?.self), validTo: try row.read(3, as: Int64?.self), isDefault: try row.read(4, as: Bool.self)))
        }
        for row in try await pool.query("""
            SELECT o.price_list_id::text, o.order_date, c.price_list_id::text, c.customer_group, o.id::text, o.status FROM sales_orders o
            JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
            WHERE o.tenant_id = $1 AND NOT o._deleted AND o.total_minor IS NOT NULL
            """, [tenant.uuidString]) {
            let used = try row.read(0, as: String?.self).flatMap { RecordID($0) }
            let wanted = PriceLists.inForce(on: try row.read(1, as: Int64?.self) ?? 0, customerList: try row.read(2, as: String?.self).flatMap { RecordID($0) },
                                            customerGroup: try row.read(3, as: String?.self), lists: lists)
            if used != wanted {
                errors += 1
                if report.details.count < 10 {
                    report.details.append("order \(try row.read(4, as: String.self)) (\(try row.read(5, as: String?.self) ?? "")) priced from \(used?.uuidString ?? "none"), in force on its date: \(wanted?.uuidString ?? "none")")
                }
            }
        }
        report.pricedFromNewList = try await pool.query("""
            SELECT count(*) FROM sales_orders o JOIN price_lists p ON p.tenant_id = o.tenant_id AND p.id = o.price_list_id
            WHERE o.tenant_id = $1 AND p.erp_reference = 'SW-DEARER' AND o.total_minor IS NOT NULL
            """, [tenant.uuidString])[0].read(0, as: Int.self)
        report.erpErrors = errors
    }
}
