import FieldModel
import PostgresDriver
import SyncEngine
import SyncCore

/// DOMAIN.md §4.7–4.10 and §4.13: an order's prices, its route through approval and credit, its
/// stock, and payments — money and stock as of arrival.
extension ArrivalJudge {
    /// An order's states the server moves it through.
    /// A submitted order is priced and routed; an order the office confirms reserves its stock.
    mutating func order(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        if change.creates(given: before) {
            try await insideVisit(change, visit: after.id("visit_id"), on: db)
            // §6: an order converted from a quote past its validity keeps today's prices, flagged.
            if let quote = try await record("quotes", after.id("quote_id"), on: db),
               let finding = CommercialRules.quoteValidity(validUntil: quote.timestamp("valid_until"), orderDate: after.timestamp("order_date") ?? now) {
                flag(change, finding)
            }
        }
        guard let written = change.writtenState(), written != before?.state()?.name, after.state()?.name == written else { return }
        switch written {
        case "submitted": try await route(change, order: change.record, after, on: db)
        case "confirmed":
            if before?.state()?.name == "credit_hold" { derived.set("sales_orders", change.record, "credit_state", .text("released")) }
            try await confirm(change, order: change.record, after, on: db)
        case "invoiced":
            // §4.9: the ERP invoiced the order: the customer owes its amount until it is paid.
            if let customer = after.id("customer_id"), let amount = after.integer("invoiced_minor") ?? after.integer("total_minor") {
                derived.adjust(amount, to: "outstanding_minor", of: "customers", customer)
            }
        default: break
        }
    }

    /// §4.7–4.9: prices every line from the price list, recomputes the totals, flags a device
    /// total that differs, then sends the order to pending approval (a discount over the role's
    /// maximum, or a product without a price), to credit hold (over the credit limit), or confirms it.
    mutating func route(_ change: Change, order: RecordID, _ state: RecordState, on db: isolated PostgresConnection) async throws {
        // §4.7: the list in force on the order date, whatever list the phone chose.
        var state = state
        if let list = try await priceListInForce(for: state, on: db), list.id != state.id("price_list_id") {
            let terms: [(String, FieldValue)] = [("price_list_id", .id(list.id)), ("currency", .text(list.currency)), ("tax_inclusive", .bool(list.taxInclusive))]
            derived.set("sales_orders", order, terms)
            for (field, value) in terms { state.fields[field] = FieldState(value: value, version: state.fields[field]?.version ?? Version(clock: HLC(rawValue: 0), replica: .server)) }
            note(change, "sales_orders", order, RuleFinding(.priceListInForce, "priced from the list in force on the order date (\(list.id.uuidString)), not the one the phone chose"))
        }
        let lines: [OrderLine]
        if let known = try await pricedLines(of: order, priceList: state.id("price_list_id"), on: db) {
            lines = known
        } else {
            lines = try await reads.query("""
                SELECT l.id::text, l.product_id::text, l.quantity, l.discount_bp, e.unit_price_minor, p.tax_rate_percent
                FROM order_lines l
                LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
                LEFT JOIN LATERAL (SELECT unit_price_minor FROM price_list_entries e
                                   WHERE e.tenant_id = l.tenant_id AND e.price_list_id = $3 AND e.product_id = l.product_id AND NOT e._deleted
                                   ORDER BY e.id LIMIT 1) e ON true
                WHERE l.tenant_id = $1 AND l.order_id = $2 AND NOT l._deleted ORDER BY l.id
                """, [tenant.uuidString, order.uuidString, state.id("price_list_id")?.uuidString ?? ""], on: db).map { row in
                OrderLine(id: try row.read(0, as: RecordID.self), product: try row.read(1, as: String?.self).flatMap { RecordID($0) },
                          quantity: try row.read(2, as: Int64?.self), discountBP: try row.read(3, as: Int64?.self), listPriceMinor: try row.read(4, as: Int64?.self),
                          taxRate: try row.read(5, as: Int64?.self))
            }
        }
        var routeToApproval: [RuleFinding] = []
        var inputs: [Pricing.LineInput] = []
        var ids: [RecordID] = []
        for line in lines {
            if line.listPriceMinor == nil {
                routeToApproval.append(RuleFinding(.unpricedProduct, "product \(line.product?.uuidString ?? "") has no price in the order's price list"))
            }
            ids.append(line.id)
            inputs.append(Pricing.LineInput(quantity: line.quantity ?? 0, listPriceMinor: line.listPriceMinor ?? 0,
                                            discountBP: line.discountBP ?? 0, taxRateMillipercent: line.taxRate ?? 0))
        }
        let totals: Pricing.Totals
        do {
            totals = try Pricing.price(inputs, taxInclusive: state.bool("tax_inclusive") ?? false)
        } catch {
            flag(change, RuleFinding(.totalMismatch, "the order cannot be priced: \(error.message)"))
            setStatus(order, state, "pending_approval", ("approval_state", .text("pending")))
            return
        }
        for (index, line) in totals.lines.enumerated() {
            derived.set("order_lines", ids[index], [("list_price_minor", .integer(inputs[index].listPriceMinor)), ("unit_price_minor", .integer(line.unitPriceMinor)),
                                                     ("tax_rate_percent", .integer(inputs[index].taxRateMillipercent)), ("line_total_minor", .integer(line.totalMinor))])
        }
        derived.set("sales_orders", order, [("subtotal_minor", .integer(totals.subtotalMinor)), ("tax_minor", .integer(totals.taxMinor)),
                                             ("total_minor", .integer(totals.totalMinor))])
        if let finding = Pricing.check(deviceTotalMinor: state.integer("device_total_minor"), serverTotalMinor: totals.totalMinor) { flag(change, finding) }

        let role = author?.role.name ?? "rep"
        var policies = PushLookups.known(unless: "discount_policies", reads: reads).discountMax
        if policies == nil {
            let read = try PushLookups.discountMax(try await reads.query(PushLookups.discountPoliciesSQL, [tenant.uuidString], on: db))
            PushLookups.keep(reads) { $0.discountMax = read }
            policies = read
        }
        let policy = policies?[role]
        let roleMax = (policy ?? nil) ?? 0
        if let finding = CommercialRules.discount(linesBP: inputs.map(\.discountBP), roleMaxBP: roleMax) { routeToApproval.append(finding) }
        if !routeToApproval.isEmpty {
            for finding in routeToApproval { flag(change, finding) }
            setStatus(order, state, "pending_approval", ("approval_state", .text("pending")))
            return
        }
        if let finding = try await credit(order: order, state, totalMinor: totals.totalMinor, on: db) {
            flag(change, finding)
            setStatus(order, state, "credit_hold", ("credit_state", .text("hold")))
            return
        }
        setStatus(order, state, "confirmed", ("approval_state", .text("not_required")), ("credit_state", .text("ok")))
        try await confirm(change, order: order, state, on: db)
    }

    /// A price list as the choice of the list in force reads it, with the terms an order takes from it.
    struct PriceListTerms: Sendable {
        var list: PriceLists.List
        var currency: String
        var taxInclusive: Bool

        /// The lists in `rows`, read by ``PushLookups/priceListsSQL``.
        static func lists(_ rows: PostgresRows) throws -> [RecordID: PriceListTerms] {
            var lists: [RecordID: PriceListTerms] = [:]
            for row in rows {
                guard let id = RecordID(try row.read(0, as: String.self)) else { continue }
                lists[id] = PriceListTerms(list: PriceLists.List(id: id, customerGroup: try row.read(1, as: String?.self), validFrom: try row.read(2, as: Int64?.self),
                                                                 validTo: try row.read(3, as: Int64?.self), isDefault: try row.read(4, as: Bool.self)),
                                           currency: try row.read(5, as: String.self), taxInclusive: try row.read(6, as: Bool.self))
            }
            return lists
        }
    }

    /// The tenant's price lists, read once per push (again after the push wrote one).
    func priceLists(on db: isolated PostgresConnection) async throws -> [RecordID: PriceListTerms] {
        if let known = PushLookups.known(unless: "price_lists", reads: reads).priceLists { return known }
        let lists = try PriceListTerms.lists(try await reads.query(PushLookups.priceListsSQL, [tenant.uuidString], on: db))
        PushLookups.keep(reads) { $0.priceLists = lists }
        return lists
    }

    /// §4.7: the price list in force on `order`'s date for its customer (PriceLists).
    func priceListInForce(for order: RecordState, on db: isolated PostgresConnection) async throws -> (id: RecordID, currency: String, taxInclusive: Bool)? {
        let lists = try await priceLists(on: db)
        let customer = try await record("customers", order.id("customer_id"), on: db)
        guard let chosen = PriceLists.inForce(on: order.timestamp("order_date") ?? now, customerList: customer?.id("price_list_id"),
                                              customerGroup: customer?.text("customer_group"), lists: lists.values.map(\.list)),
              let terms = lists[chosen] else { return nil }
        return (chosen, terms.currency, terms.taxInclusive)
    }

    /// §4.9: the customer's outstanding balance, open orders and this order against the limit.
    func credit(order: RecordID, _ state: RecordState, totalMinor: Int64, on db: isolated PostgresConnection) async throws -> RuleFinding? {
        guard let customer = try await record("customers", state.id("customer_id"), on: db), let limit = customer.integer("credit_limit_minor") else { return nil }
        // The customer's other open orders.
        guard let customerID = state.id("customer_id") else { return nil }
        let table = reads.table("sales_orders")
        let open = Self.sum(try await reads.rows("sales_orders", where: "customer_id", is: customerID, on: db).filter { other, row in
            other != order && CommercialRules.creditOpenOrderStates.contains(row.state()?.name ?? "") && !row.isDeleted(under: table.tombstones)
        }.values.map { $0.integer("total_minor") ?? 0 })
        return CommercialRules.credit(outstandingMinor: customer.integer("outstanding_minor") ?? 0, openOrdersMinor: open, orderMinor: totalMinor, limitMinor: limit)
    }

    /// §4.10 and the last prices: a confirmed order reserves stock in the warehouse (what is
    /// short is backordered and flagged) and becomes the customer's last price for its products.
    mutating func confirm(_ change: Change?, order: RecordID, _ state: RecordState, on db: isolated PostgresConnection) async throws {
        note(change, "sales_orders", order, RuleFinding(.orderConfirmed, "the order passed the rules on price, discount and credit"))
        let lines: [OrderLine]
        if let known = try await stockedLines(of: order, customer: state.id("customer_id"), on: db) {
            lines = known
        } else {
            lines = try await reads.query("""
                SELECT l.product_id::text, l.quantity, s.id::text, s.quantity, lp.id::text, l.unit_price_minor, l.id::text
                FROM order_lines l
                LEFT JOIN LATERAL (SELECT s.id, s.quantity FROM stock_levels s JOIN stock_locations w ON w.tenant_id = s.tenant_id AND w.id = s.stock_location_id
                                   WHERE s.tenant_id = l.tenant_id AND s.product_id = l.product_id AND w.kind = 'warehouse' AND NOT s._deleted AND NOT w._deleted
                                   ORDER BY w.id LIMIT 1) s ON true
                LEFT JOIN last_prices lp ON lp.tenant_id = l.tenant_id AND lp.customer_id = $3 AND lp.product_id = l.product_id AND NOT lp._deleted
                WHERE l.tenant_id = $1 AND l.order_id = $2 AND NOT l._deleted ORDER BY l.id
                """, [tenant.uuidString, order.uuidString, state.id("customer_id")?.uuidString ?? ""], on: db).map { row in
                let level = try row.read(2, as: String?.self).flatMap { RecordID($0) }
                return OrderLine(id: try row.read(6, as: RecordID.self), product: try row.read(0, as: String?.self).flatMap { RecordID($0) },
                                 quantity: try row.read(1, as: Int64?.self), unitPriceMinor: try row.read(5, as: Int64?.self),
                                 level: try level.map { ($0, try row.read(3, as: Int64?.self) ?? 0) }, lastPrice: try row.read(4, as: String?.self).flatMap { RecordID($0) })
            }
        }
        var short: [String] = []
        for line in lines {
            guard let product = line.product else { continue }
            let quantity = line.quantity ?? 0
            // Priced in this transaction (a submit confirmed at once), or earlier (an approval).
            var unitPrice = line.unitPriceMinor ?? 0
            if case .integer(let priced)? = derived.value(of: "unit_price_minor", "order_lines", line.id) {
                unitPrice = priced
            }
            if let (level, available) = line.level {
                let reserved = min(quantity, max(0, available))
                if reserved > 0 {
                    derived.add(-reserved, to: "quantity", of: "stock_levels", level)
                    let location = try await record("stock_levels", level, on: db)?.id("stock_location_id")
                    if let location {
                        derived.set("stock_ledger", mint("stock_ledger"), [("stock_location_id", .id(location)), ("product_id", .id(product)), ("delta", .integer(-reserved)),
                                                                   ("reason", .text("reserve")), ("reference_id", .text(order.uuidString))])
                    }
                }
                if quantity > available { short.append("\(quantity - max(0, available)) of \(product.uuidString)") }
            }
            if let customer = state.id("customer_id") {
                let lastPrice = line.lastPrice ?? mint("last_prices")
                derived.set("last_prices", lastPrice, [("customer_id", .id(customer)), ("product_id", .id(product)),
                                                       ("unit_price_minor", .integer(unitPrice)), ("ordered_at", .timestamp(state.timestamp("order_date") ?? now))])
            }
        }
        if !short.isEmpty {
            let finding = RuleFinding(.insufficientStock, "backordered: \(short.joined(separator: ", "))")
            if let change { flag(change, finding) } else { note(nil, "sales_orders", order, finding) }
        } else if !lines.isEmpty {
            note(change, "sales_orders", order, RuleFinding(.stockReserved, "stock reserved for \(lines.count) line(s) where the warehouse keeps it"))
        }
    }

    /// The sum of `amounts`, held to 64 bits (a hostile client's thousands of payments cannot trap it).
    static func sum(_ amounts: some Sequence<Int64>) -> Int64 {
        let total = amounts.reduce(Int128(0)) { $0 + Int128($1) }
        return Int64(clamping: total)
    }

    /// Moves an order to `status` (keeping its epoch) with other server fields.
    mutating func setStatus(_ order: RecordID, _ state: RecordState, _ status: String, _ also: (String, FieldValue)...) {
        derived.set("sales_orders", order, "status", .state(StateValue(status, epoch: state.state()?.epoch ?? 0)))
        derived.set("sales_orders", order, also)
    }

    /// §4.13 and §4.4: payments past the order's total are flagged; a collection inside a visit
    /// needs a check-in. (A receipt number already recorded is refused by ``screen(_:states:on:)``.)
    mutating func payment(_ change: Change, before: RecordState?, _ payment: RecordState, on db: isolated PostgresConnection) async throws {
        guard change.written("order_id") != nil, let orderID = payment.id("order_id"), let order = try await record("sales_orders", orderID, on: db) else { return }
        unjudgedPayments.remove(change.record)
        // §4.9: a payment collected lowers what the customer owes (once: a repeated insert changes nothing).
        if before == nil, let customer = order.id("customer_id"), let amount = payment.integer("amount_minor"), amount > 0 {
            derived.adjust(-amount, to: "outstanding_minor", of: "customers", customer)
        }
        // Every other payment of the order (deleted ones too), but not those of this change set not judged yet.
        let paid = Self.sum(try await reads.rows("payments", where: "order_id", is: orderID, on: db)
            .filter { $0.key != change.record && !unjudgedPayments.contains($0.key) }.values.map { $0.integer("amount_minor") ?? 0 })
        if let total = order.integer("total_minor") ?? order.integer("device_total_minor"),
           let finding = CommercialRules.payment(amountMinor: payment.integer("amount_minor") ?? 0, receiptNumber: payment.text("receipt_number") ?? "",
                                                 existingReceipts: [], paidMinor: paid, orderTotalMinor: total, toleranceMinor: 1) {
            flag(change, finding)
        }
        try await insideVisit(change, visit: order.id("visit_id"), on: db)
    }
}
