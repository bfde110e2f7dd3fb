import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import Testing

@testable import SyncServer

/// Pricing as the domain says (issue 20, item 3), end to end: a customer a rep creates offline
/// can take an order at once and gets the tenant's terms on arrival; an order is priced from the
/// list in force on its date, though a new list took over before it arrived; a blocked
/// customer's new order is refused into quarantine with the reason.
extension StoryTests {
    @Test("a rep's new customer takes an order offline from the default list, and arrives unverified with no credit: the order waits for a manager")
    func newCustomerOrder() async throws {
        try await W.run("story-new-customer") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let territory = try #require(try await world.server("customers", visits[0].customerID).id("territory_id"))
            let list = try #require(try await world.server("customers", visits[0].customerID).id("price_list_id"))
            try await world.store.edit([.init("price_lists", list, [("is_default", .bool(true))])], by: manager, tenant: world.tenant)
            try await rep.sync()
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            // Offline: the new customer, and an order for it straight away.
            let customer = try await rep.store.createCustomer(name: "Kiosk Nuevo", territory: territory, phone: "+1-212-555-0199").record
            let order = try await rep.store.createOrder(customer: customer).record
            #expect(try await rep.store.record("sales_orders", order)?.id("price_list_id") == list)
            _ = try await rep.store.addOrderLine(order: order, product: product, quantity: 2)
            _ = try await rep.store.submitOrder(order)
            let outcomes = try await rep.sync()
            let stored = try await world.server("customers", customer)
            #expect(stored.text("status") == "unverified" && stored.id("price_list_id") == list && stored.integer("credit_limit_minor") == 0, "\(stored)")
            #expect(try await world.decisions(customer).contains { $0.rule == "new_customer_terms" })
            #expect(outcomes.contains { $0.record == order && $0.findings.contains("credit_limit_exceeded") }, "\(outcomes)")
            #expect(try await world.server("sales_orders", order).state()?.name == "credit_hold")
            try await world.store.decide(.release, order: order, comment: "new kiosk, cash on delivery", by: manager)
            #expect(try await world.server("sales_orders", order).state()?.name == "confirmed")
        }
    }

    @Test("an order is priced from the list in force on its date: one dated before the group's new list keeps the old prices, one dated after gets the new list")
    func listInForce() async throws {
        try await W.run("story-list-in-force") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let customer = visits[0].customerID
            let old = try #require(try await world.server("customers", customer).id("price_list_id"))
            let group = try #require(try await world.server("price_lists", old).text("customer_group"))
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            // The phone drafts an order on Monday at 10:00, offline.
            world.clock.set(UInt64(W.at(10)))
            let before = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: before, product: product, quantity: 1)
            _ = try await rep.store.submitOrder(before)
            // Meanwhile the ERP's new list for the group takes over at noon, with the product at 9.99.
            let new = world.store.newID()
            try await world.store.edit([
                .init("price_lists", old, [("valid_to", .timestamp(W.at(12)))]),
                .init("price_lists", new, [("name", .text("From noon")), ("currency", .text("USD")), ("tax_inclusive", .bool(false)), ("customer_group", .text(group)),
                                           ("valid_from", .timestamp(W.at(12)))]),
                .init("price_list_entries", world.store.newID(), [("price_list_id", .id(new)), ("product_id", .id(product)), ("unit_price_minor", .integer(999))]),
            ], by: manager, tenant: world.tenant)
            // At 13:00, still offline, the phone drafts another (with the list it knows).
            world.clock.set(UInt64(W.at(13)))
            let after = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: after, product: product, quantity: 1)
            _ = try await rep.store.submitOrder(after)
            try await rep.sync()
            let first = try await world.server("sales_orders", before), second = try await world.server("sales_orders", after)
            #expect(first.id("price_list_id") == old && second.id("price_list_id") == new)
            #expect(try await world.decisions(after).contains { $0.rule == "price_list_in_force" })
            let lines = try await world.pool.query("SELECT order_id::text, list_price_minor FROM order_lines WHERE tenant_id = $1 AND order_id = ANY($2::uuid[])",
                                                   [world.tenant.uuidString, PostgresArray.literal([before, after])])
            let prices = Dictionary(uniqueKeysWithValues: try lines.map { (RecordID(try $0.read(0, as: String.self))!, try $0.read(1, as: Int64?.self)) })
            #expect(prices[after] == 999 && prices[before] != 999 && prices[before] != nil, "\(prices)")
        }
    }

    @Test("a blocked customer's new order is refused into quarantine with the reason; once the phone knows, it refuses to draft one")
    func blockedCustomer() async throws {
        try await W.run("story-blocked") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let customer = visits[0].customerID
            let product = RecordID(try #require(world.data["products"]).rows[1][0]!)!
            try await world.store.edit([.init("customers", customer, [("status", .text("blocked"))])], by: manager, tenant: world.tenant)
            // The phone has not heard: it drafts and submits.
            let order = try await rep.store.createOrder(customer: customer).record
            _ = try await rep.store.addOrderLine(order: order, product: product, quantity: 1)
            _ = try await rep.store.submitOrder(order)
            let outcomes = try await rep.sync()
            #expect(outcomes.contains { $0.record == order && $0.result == "rejected" && $0.findings.contains("customer_blocked") }, "\(outcomes)")
            #expect(try await world.pool.query("SELECT 1 FROM sales_orders WHERE tenant_id = $1 AND id = $2::uuid", [world.tenant.uuidString, order.uuidString]).isEmpty)
            #expect(try await world.pool.query("SELECT 1 FROM order_lines WHERE tenant_id = $1 AND order_id = $2::uuid", [world.tenant.uuidString, order.uuidString]).isEmpty)
            // Now the phone knows.
            try await rep.sync(until: { try await $0.record("customers", customer)?.text("status") == "blocked" })
            await #expect(throws: StoreError.self) { _ = try await rep.store.createOrder(customer: customer) }
        }
    }

    @Test("quotes: a rep quotes offline, copies and converts into an order that names the quote; the office's quote reaches the rep; an expired one converts flagged")
    func quotes() async throws {
        try await W.run("story-quotes") { world in
            let manager = try world.office(.manager)
            let rep = try await world.phone(try world.users(.rep)[0], role: .rep)
            let visits = try await rep.mondayVisits()
            let customer = visits[0].customerID
            let products = try #require(world.data["products"]).rows.prefix(3).map { RecordID($0[0]!)! }
            // Offline: a quote with two lines, sent; a copy of it; the copy converted into an order.
            let quote = try await rep.store.createQuote(customer: customer, validDays: 14, note: "Summer terrace offer").record
            _ = try await rep.store.addQuoteLine(quote: quote, product: products[1], quantity: 6)
            _ = try await rep.store.addQuoteLine(quote: quote, product: products[2], quantity: 2, discountBP: 0)
            _ = try await rep.store.moveQuote(quote, to: "sent")
            let copy = try await rep.store.copyQuote(quote).record
            let order = try await rep.store.convertQuote(copy, visit: nil).record
            await #expect(throws: StoreError.self) { _ = try await rep.store.addQuoteLine(quote: copy, product: products[1], quantity: 1) }
            await #expect(throws: StoreError.self) { _ = try await rep.store.convertQuote(copy) }
            _ = try await rep.store.submitOrder(order)
            try await rep.sync()
            let stored = try await world.server("sales_orders", order)
            #expect(stored.id("quote_id") == copy && stored.state()?.name == "confirmed", "\(stored)")
            let converted = try await world.server("quotes", copy)
            #expect(converted.state()?.name == "converted" && converted.id("copied_from") == quote)
            #expect(try await world.server("quotes", quote).state()?.name == "sent")
            let lines = try await world.pool.query("SELECT product_id::text, quantity FROM order_lines WHERE tenant_id = $1 AND order_id = $2::uuid ORDER BY quantity",
                                                   [world.tenant.uuidString, order.uuidString]).map { (try $0.read(0, as: String.self), try $0.read(1, as: Int64.self)) }
            #expect(lines.map(\.1) == [2, 6])
            // The office's quote, sent, reaches the rep; the office lists the customer's quotes with the order each became.
            let offered = try await world.store.createQuote(customer: customer, validUntil: W.at(8) + 86_400_000, lines: [.init(product: products[1], quantity: 10)],
                                                            note: nil, by: manager)
            try await rep.sync(until: { try await $0.record("quotes", offered)?.state()?.name == "sent" })
            let listed = try await world.store.quotes(customer: customer, by: manager)
            #expect(Set(listed.map(\.id)) == [quote, copy, offered] && listed.first { $0.id == copy }?.order == order)
            await #expect(throws: SyncStore.OfficeError.self) {
                _ = try await world.store.createQuote(customer: customer, validUntil: W.at(8) + 86_400_000, lines: [.init(product: products[1], quantity: 1)],
                                                      note: nil, by: try world.office(.dispatcher))
            }
            // The office edits its sent quote: the lines replaced and a note; the rep's phone sees it whole. A dispatcher may not.
            try await world.store.editQuote(offered, validUntil: nil, note: .some("Terrace season price"), lines: [.init(product: products[2], quantity: 12, discountBP: 500)],
                                            status: nil, by: manager)
            try await rep.sync(until: { try await $0.record("quotes", offered)?.text("note") == "Terrace season price" })
            let editedLines = try await world.store.quotes(customer: customer, by: manager).first { $0.id == offered }?.lines
            #expect(editedLines == [.init(product: products[2], quantity: 12, discountBP: 500)], "\(String(describing: editedLines))")
            await #expect(throws: SyncStore.OfficeError.self) {
                try await world.store.editQuote(offered, validUntil: nil, note: nil, lines: nil, status: "cancelled", by: try world.office(.dispatcher))
            }
            await #expect(throws: SyncStore.OfficeError.self) { try await world.store.editQuote(copy, validUntil: nil, note: .some("x"), lines: nil, status: nil, by: manager) }
            // Three days later the office's quote has expired: converted all the same, flagged.
            world.clock.set(UInt64(W.at(8) + 3 * 86_400_000))
            let late = try await rep.store.convertQuote(offered)
            #expect(late.warnings.map(\.rule) == [.quoteExpired])
            _ = try await rep.store.submitOrder(late.record)
            let outcomes = try await rep.sync()
            #expect(outcomes.contains { $0.record == late.record && $0.findings.contains("quote_expired") }, "\(outcomes)")
        }
    }
}
