public import FieldModel
public import SyncCore

extension DeviceStore {
    /// Starts a draft order for a customer, priced from the customer's price list.
    public func createOrder(customer: RecordID, visit: RecordID? = nil) async throws -> ActionReport {
        let wall = Int64(wallClock.now())
        let ((order, warnings), changeSet) = try await act { session, identity, db in
            try Self.draft(customer: customer, visit: visit, at: wall, session: &session, identity: identity, in: db)
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: warnings)
    }

    /// Writes a new draft order for `customer` in `session`; its id and the warnings.
    static func draft(customer: RecordID, visit: RecordID?, at wall: Int64, session: inout LocalSession, identity: Identity,
                      in db: isolated SQLiteDatabase) throws -> (RecordID, [RuleFinding]) {
        let customerState = try session.existing("customers", customer, in: db)
        guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
        guard customerState.text("status") != "blocked" else { throw StoreError(.invalidArgument, "the customer is blocked: it takes no new order") }
        let (priceListID, priceList) = try priceListInForce(for: customerState, at: wall, session: session, in: db)
        var warnings: [RuleFinding] = []
        if let visit {
            let checkedIn = try !db.query("SELECT 1 FROM geo_events WHERE visit_id = ? AND kind = 'check_in' LIMIT 1", [visit.bytes]).isEmpty
            if let finding = ExecutionRules.insideVisit(checkedIn: checkedIn) { warnings.append(finding) }
        }
        let order = session.newID()
        try session.write("sales_orders", order, [
            ("customer_id", .id(customer)), ("visit_id", visit.map(FieldValue.id) ?? .null), ("created_by", .id(user)),
            ("price_list_id", .id(priceListID)), ("currency", priceList.value("currency") ?? .text("USD")),
            ("tax_inclusive", priceList.value("tax_inclusive") ?? .bool(false)), ("order_date", .timestamp(wall)),
            ("status", .state(StateValue(Lifecycles.salesOrder.initial))),
        ], in: db)
        return (order, warnings)
    }

    /// §4.7: the price list in force at `wall` for a customer, as the server will choose it (a
    /// customer without a list of its own: the tenant's default), with its record.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when the phone holds none for the customer.
    static func priceListInForce(for customer: RecordState, at wall: Int64, session: LocalSession, in db: isolated SQLiteDatabase) throws -> (RecordID, RecordState) {
        let lists = try db.query("SELECT id, customer_group, valid_from, valid_to, coalesce(is_default, 0) FROM price_lists WHERE _deleted = 0").compactMap { row -> PriceLists.List? in
            guard let id = RecordID(bytes: try row.read(0, as: [UInt8].self)) else { return nil }
            return PriceLists.List(id: id, customerGroup: try row.read(1, as: String?.self), validFrom: try row.read(2, as: Int64?.self), validTo: try row.read(3, as: Int64?.self),
                                   isDefault: try row.read(4, as: Int64.self) != 0)
        }
        guard let id = PriceLists.inForce(on: wall, customerList: customer.id("price_list_id"), customerGroup: customer.text("customer_group"), lists: lists),
              let list = try session.schema.read("price_lists", id, in: db) else {
            throw StoreError(.invalidArgument, "no price list for the customer on this device")
        }
        return (id, list)
    }

    /// The order states whose lines a repeat copies: what the customer really ordered.
    static let repeatableOrderStates = ["confirmed", "released_to_erp", "delivered", "invoiced"]

    /// Starts a draft order for `customer` with the lines of their latest confirmed order (the
    /// same products and quantities, no discount: a discount is given again, not copied). A
    /// product the phone no longer holds, or no longer sells, is left out.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when the phone holds no confirmed order of the
    ///   customer, or the customer has no price list on the phone.
    public func repeatLastOrder(customer: RecordID, visit: RecordID? = nil) async throws -> ActionReport {
        let last = try await database.query("""
            SELECT id FROM sales_orders WHERE customer_id = ? AND _deleted = 0 AND status IN (\(Self.repeatableOrderStates.map { "'\($0)'" }.joined(separator: ", ")))
            ORDER BY order_date DESC, id DESC LIMIT 1
            """, [customer.bytes]).first.flatMap { RecordID(bytes: try $0.read(0, as: [UInt8].self)) }
        guard let last else { throw StoreError(.invalidArgument, "the phone holds no confirmed order of this customer to repeat") }
        let lines = try await database.query("""
            SELECT l.product_id, l.quantity FROM order_lines l JOIN products p ON p.id = l.product_id AND p._deleted = 0 AND coalesce(p.active, 1) != 0
            WHERE l.order_id = ? AND l._deleted = 0 ORDER BY l.id
            """, [last.bytes]).compactMap { row -> (RecordID, Int64)? in
            guard let product = RecordID(bytes: try row.read(0, as: [UInt8].self)), let quantity = try row.read(1, as: Int64?.self) else { return nil }
            return (product, quantity)
        }
        let wall = Int64(wallClock.now())
        // The order and its lines in one change set: the phone never shows half a repeat.
        let ((order, warnings), changeSet) = try await act { session, identity, db in
            let (order, warnings) = try Self.draft(customer: customer, visit: visit, at: wall, session: &session, identity: identity, in: db)
            for (product, quantity) in lines {
                try session.write("order_lines", session.newID(), [("order_id", .id(order)), ("product_id", .id(product)),
                                                                   ("quantity", .integer(quantity)), ("discount_bp", .integer(0))], in: db)
            }
            return (order, warnings)
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: warnings)
    }

    /// Adds a line to a draft order.
    public func addOrderLine(order: RecordID, product: RecordID, quantity: Int64, discountBP: Int64 = 0) async throws -> ActionReport {
        try Self.checkLine(quantity: quantity, discountBP: discountBP)
        let (line, changeSet) = try await act { session, _, db in
            try Self.requireDraft(order, session: session, in: db)
            _ = try session.existing("products", product, in: db)
            let line = session.newID()
            try session.write("order_lines", line, [("order_id", .id(order)), ("product_id", .id(product)),
                                                   ("quantity", .integer(quantity)), ("discount_bp", .integer(discountBP))], in: db)
            return line
        }
        return ActionReport(record: line, changeSet: changeSet, warnings: [])
    }

    /// Changes a line of a draft order.
    public func updateOrderLine(_ line: RecordID, quantity: Int64, discountBP: Int64) async throws -> ActionReport {
        try Self.checkLine(quantity: quantity, discountBP: discountBP)
        let (_, changeSet) = try await act { session, _, db in
            guard let order = try session.existing("order_lines", line, in: db).id("order_id") else { throw StoreError.unknown("order_lines", line) }
            try Self.requireDraft(order, session: session, in: db)
            try session.write("order_lines", line, [("quantity", .integer(quantity)), ("discount_bp", .integer(discountBP))], in: db)
        }
        return ActionReport(record: line, changeSet: changeSet, warnings: [])
    }

    /// The order's prices, taxes and totals from the local price list, computed by the same
    /// function the server uses (``Pricing``).
    public func orderPreview(_ order: RecordID) async throws -> Pricing.Totals {
        let schema = self.schema
        return try await database.transaction { db in try Self.price(order, schema: schema, in: db) }
    }

    /// Submits a draft order: its preview total travels with it; warnings preview the discount
    /// policy and the credit limit (the server decides on arrival).
    public func submitOrder(_ order: RecordID) async throws -> ActionReport {
        let (warnings, changeSet) = try await act { session, identity, db in
            try Self.requireDraft(order, session: session, in: db)
            let totals = try Self.price(order, schema: session.schema, in: db)
            guard !totals.lines.isEmpty else { throw StoreError(.invalidArgument, "an order needs at least one line") }
            var warnings: [RuleFinding] = []
            let discounts = try db.query("SELECT discount_bp FROM order_lines WHERE order_id = ? AND _deleted = 0", [order.bytes]).map { try $0.read(0, as: Int64.self) }
            let roleMax = try db.query("SELECT discount_max_bp FROM discount_policies WHERE role = ? AND _deleted = 0", [identity.role?.name])
                .first?.read(0, as: Int64.self) ?? 0
            if let finding = CommercialRules.discount(linesBP: discounts, roleMaxBP: roleMax) { warnings.append(finding) }
            let state = try session.existing("sales_orders", order, in: db)
            if let customer = state.id("customer_id"), let customerState = try session.schema.read("customers", customer, in: db),
               let limit = customerState.integer("credit_limit_minor") {
                if let finding = CommercialRules.credit(outstandingMinor: customerState.integer("outstanding_minor") ?? 0, openOrdersMinor: 0,
                                                        orderMinor: totals.totalMinor, limitMinor: limit) {
                    warnings.append(finding)
                }
            }
            try session.move("sales_orders", order, to: "submitted", machine: Lifecycles.salesOrder, role: identity.role,
                             also: [("device_total_minor", .integer(totals.totalMinor))], in: db)
            return warnings
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: warnings)
    }

    /// Reopens an order a manager rejected: it becomes a draft again (a new epoch of its status,
    /// so the reopen wins over the rejection everywhere), its lines can change, and it is
    /// submitted again like a new one, to be judged again on arrival.
    public func reopenOrder(_ order: RecordID) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, identity, db in
            guard try session.existing("sales_orders", order, in: db).state()?.name == "rejected" else {
                throw StoreError(.forbiddenTransition, "only a rejected order is reopened")
            }
            try session.move("sales_orders", order, to: "draft", machine: Lifecycles.salesOrder, role: identity.role, in: db)
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: [])
    }

    /// Cancels an order (before it is released to the ERP).
    public func cancelOrder(_ order: RecordID) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, identity, db in
            try session.move("sales_orders", order, to: "cancelled", machine: Lifecycles.salesOrder, role: identity.role, in: db)
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: [])
    }

    /// Records a payment against an order (several per order); warns on a receipt number already
    /// used and on payments past the order's total.
    public func recordPayment(order: RecordID, amountMinor: Int64, method: String, receiptNumber: String, collectedAt: Int64) async throws -> ActionReport {
        guard amountMinor > 0 else { throw StoreError(.invalidArgument, "a payment's amount must be positive") }
        guard !receiptNumber.trimmingSpaces.isEmpty else { throw StoreError(.invalidArgument, "a payment needs a receipt number") }
        let ((payment, warnings), changeSet) = try await act { session, identity, db in
            _ = try session.existing("sales_orders", order, in: db)
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            let previous = try db.query("SELECT receipt_number, amount_minor FROM payments WHERE order_id = ?", [order.bytes])
            let receipts = Set(try previous.map { try $0.read(0, as: String.self) })
            let paid = try previous.reduce(0) { $0 + (try $1.read(1, as: Int64.self)) }
            let total = try Self.price(order, schema: session.schema, in: db).totalMinor
            let warnings = CommercialRules.payment(amountMinor: amountMinor, receiptNumber: receiptNumber, existingReceipts: receipts,
                                                   paidMinor: paid, orderTotalMinor: total).map { [$0] } ?? []
            let payment = session.newID()
            try session.write("payments", payment, [
                ("order_id", .id(order)), ("amount_minor", .integer(amountMinor)), ("method", .text(method)),
                ("receipt_number", .text(receiptNumber)), ("collected_by", .id(user)), ("collected_at", .timestamp(collectedAt)),
            ], in: db)
            return (payment, warnings)
        }
        return ActionReport(record: payment, changeSet: changeSet, warnings: warnings)
    }

    /// A customer's orders, newest first: one index-backed query.
    public func orderHistory(customer: RecordID, limit: Int = 20) async throws -> [(id: RecordID, status: String, orderDate: Int64, totalMinor: Int64?)] {
        let rows = try await database.query("""
            SELECT id, status, order_date, coalesce(total_minor, device_total_minor) FROM sales_orders
            WHERE customer_id = ? AND _deleted = 0 ORDER BY order_date DESC LIMIT ?
            """, [customer.bytes, limit])
        return try rows.map {
            (RecordID(bytes: try $0.read(0, as: [UInt8].self))!, try $0.read(1, as: String.self), try $0.read(2, as: Int64.self), try $0.read(3, as: Int64?.self))
        }
    }

    static func checkLine(quantity: Int64, discountBP: Int64) throws {
        guard (1...Pricing.quantityMax).contains(quantity) else {
            throw StoreError(.invalidArgument, "a quantity runs from 1 to \(Pricing.quantityMax)")
        }
        guard (0...Pricing.fullDiscountBP).contains(discountBP) else {
            throw StoreError(.invalidArgument, "a discount runs from 0 to 10000 basis points")
        }
    }

    static func requireDraft(_ order: RecordID, session: LocalSession, in db: isolated SQLiteDatabase) throws {
        guard try session.existing("sales_orders", order, in: db).state()?.name == "draft" else {
            throw StoreError(.forbiddenTransition, "only a draft order's lines can change")
        }
    }

    static func price(_ order: RecordID, schema: DeviceSchema, in db: isolated SQLiteDatabase) throws -> Pricing.Totals {
        guard let state = try schema.read("sales_orders", order, in: db), let priceList = state.id("price_list_id") else {
            throw StoreError.unknown("sales_orders", order)
        }
        let lines = try db.query("""
            SELECT l.quantity, e.unit_price_minor, l.discount_bp, p.tax_rate_percent
            FROM order_lines l JOIN products p ON p.id = l.product_id
            LEFT JOIN price_list_entries e ON e.price_list_id = ? AND e.product_id = l.product_id AND e._deleted = 0
            WHERE l.order_id = ? AND l._deleted = 0 ORDER BY l.id
            """, [priceList.bytes, order.bytes])
        let inputs = try lines.map { row -> Pricing.LineInput in
            guard let price = try row.read(1, as: Int64?.self) else {
                throw StoreError(.invalidArgument, "a product on the order has no price in the customer's price list")
            }
            return Pricing.LineInput(quantity: try row.read(0, as: Int64.self), listPriceMinor: price,
                                     discountBP: try row.read(2, as: Int64.self), taxRateMillipercent: try row.read(3, as: Int64.self))
        }
        if case .bool(let inclusive)? = state.value("tax_inclusive") {
            do { return try Pricing.price(inputs, taxInclusive: inclusive) } catch { throw StoreError(.invalidArgument, error.message) }
        }
        do { return try Pricing.price(inputs, taxInclusive: false) } catch { throw StoreError(.invalidArgument, error.message) }
    }
}
