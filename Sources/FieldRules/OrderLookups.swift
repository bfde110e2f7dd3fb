import FieldModel
import PostgresDriver
import SyncCore
import SyncEngine

/// What the order rules (§4.7–4.10) look up, read ahead once per push for every order whose
/// status it writes: each line's list price in the order's price list, each product's first
/// warehouse stock level, and the customer's last-price rows.
///
/// The lines themselves, the products, the stock quantities and the last prices the push
/// itself writes come from the working set (as they stand in the push). What is read ahead is as
/// stored before the push; when the push wrote a row that could change an answer (a price list
/// entry, a stock location, a stock level not read ahead), or asks what was not read ahead, the
/// judge looks it up with SQL as before, so the answer is always what a query after every
/// earlier change set of the push would give.
struct OrderLookups: Sendable {
    struct PriceKey: Hashable, Sendable {
        var priceList: RecordID
        var product: RecordID
    }

    struct LastPriceKey: Hashable, Sendable {
        var customer: RecordID
        var product: RecordID
    }

    /// For each (price list, product) asked, the price of its first entry (`nil`: no entry, or
    /// an entry without a price).
    var prices: [PriceKey: Int64?] = [:]
    /// For each product asked, its stock level in the first warehouse (`nil`: none).
    var levels: [RecordID: RecordID?] = [:]
    /// For each (customer, product) asked, the stored last-price rows.
    var lastPrices: [LastPriceKey: [RecordID]] = [:]

    static let key = "field_rules.orders"

    /// Reads ahead for every order `changes` move, and keeps the answers in the push's memo.
    static func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws {
        let moved = Set(changes.filter { $0.table == "sales_orders" && $0.written("status") != nil }.map(\.record))
        guard !moved.isEmpty else { return }
        let orders = try await reads.states("sales_orders", Array(moved), on: db)
        var priceLists = Set<RecordID>(), customers = Set<RecordID>(), products = Set<RecordID>()
        for change in changes {
            if change.table == "sales_orders", moved.contains(change.record) {
                if case .id(let list)? = change.written("price_list_id") { priceLists.insert(list) }
                if case .id(let customer)? = change.written("customer_id") { customers.insert(customer) }
            }
            if change.table == "order_lines", case .id(let product)? = change.written("product_id") { products.insert(product) }
        }
        for order in moved {
            if let list = orders[order]?.id("price_list_id") { priceLists.insert(list) }
            if let customer = orders[order]?.id("customer_id") { customers.insert(customer) }
            for line in try await reads.rows("order_lines", where: "order_id", is: order, on: db).values {
                if let product = line.id("product_id") { products.insert(product) }
            }
        }
        guard !products.isEmpty else { return }
        let productList = PostgresArray.literal(products.sorted())
        var lookups = OrderLookups()
        for list in priceLists { for product in products { lookups.prices[PriceKey(priceList: list, product: product)] = .some(nil) } }
        for product in products { lookups.levels[product] = .some(nil) }
        for customer in customers { for product in products { lookups.lastPrices[LastPriceKey(customer: customer, product: product)] = [] } }
        // The list prices, the warehouse stock levels and the last prices: one round trip.
        var statements = PostgresBatch()
        statements.add("""
            SELECT DISTINCT ON (e.price_list_id, e.product_id) e.price_list_id::text, e.product_id::text, e.unit_price_minor FROM price_list_entries e
            WHERE e.tenant_id = $1 AND e.price_list_id = ANY($2::uuid[]) AND e.product_id = ANY($3::uuid[]) AND NOT e._deleted
            ORDER BY e.price_list_id, e.product_id, e.id
            """, [reads.tenant.uuidString, PostgresArray.literal(priceLists.sorted()), productList])
        statements.add("""
            SELECT DISTINCT ON (s.product_id) s.product_id::text, s.id::text
            FROM stock_levels s JOIN stock_locations w ON w.tenant_id = s.tenant_id AND w.id = s.stock_location_id
            WHERE s.tenant_id = $1 AND s.product_id = ANY($2::uuid[]) AND w.kind = 'warehouse' AND NOT s._deleted AND NOT w._deleted
            ORDER BY s.product_id, w.id
            """, [reads.tenant.uuidString, productList])
        if !customers.isEmpty {
            statements.add("""
                SELECT lp.customer_id::text, lp.product_id::text, lp.id::text FROM last_prices lp
                WHERE lp.tenant_id = $1 AND lp.customer_id = ANY($2::uuid[]) AND lp.product_id = ANY($3::uuid[]) AND NOT lp._deleted
                """, [reads.tenant.uuidString, PostgresArray.literal(customers.sorted()), productList])
        }
        let answers = try await reads.readAhead([], statements, on: db)
        for row in answers[0] {
            let key = PriceKey(priceList: try row.read(0, as: RecordID.self), product: try row.read(1, as: RecordID.self))
            lookups.prices[key] = try row.read(2, as: Int64?.self)
        }
        for row in answers[1] {
            lookups.levels[try row.read(0, as: RecordID.self)] = RecordID(try row.read(1, as: String.self))
        }
        for row in answers.dropFirst(2).first ?? PostgresRows.empty {
            let key = LastPriceKey(customer: try row.read(0, as: RecordID.self), product: try row.read(1, as: RecordID.self))
            lookups.lastPrices[key, default: []].append(try row.read(2, as: RecordID.self))
        }
        // Products and stock levels, read once, so each judgement reads them from memory.
        _ = try await reads.states("products", products.sorted(), on: db)
        _ = try await reads.states("stock_levels", lookups.levels.values.compactMap { $0 }, on: db)
        reads.memoize(key, lookups)
    }
}

/// One line of an order as the order rules read it.
struct OrderLine {
    var id: RecordID
    var product: RecordID?
    var quantity: Int64?
    var discountBP: Int64?
    var unitPriceMinor: Int64?
    /// The list price of the product in the order's price list (pricing only).
    var listPriceMinor: Int64?
    /// The product's tax rate (pricing only).
    var taxRate: Int64?
    /// The product's stock level in the first warehouse and its quantity (confirming only).
    var level: (id: RecordID, quantity: Int64)?
    /// The customer's last-price row for the product, if any (confirming only).
    var lastPrice: RecordID?
}

extension ArrivalJudge {
    /// The order's lines not deleted, in id order, as they stand in the push.
    func lines(of order: RecordID, on db: isolated PostgresConnection) async throws -> [(RecordID, RecordState)] {
        let table = reads.table("order_lines")
        return try await reads.rows("order_lines", where: "order_id", is: order, on: db)
            .filter { !$0.value.isDeleted(under: table.tombstones) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The order's lines with their list prices and tax rates from the read-ahead; `nil` when it
    /// cannot answer exactly (look them up with SQL instead).
    func pricedLines(of order: RecordID, priceList: RecordID?, on db: isolated PostgresConnection) async throws -> [OrderLine]? {
        guard let lookups = reads.memo(OrderLookups.key) as? OrderLookups, reads.merged("price_list_entries").isEmpty else { return nil }
        var result: [OrderLine] = []
        for (id, line) in try await lines(of: order, on: db) {
            let product = line.id("product_id")
            var price: Int64?
            if let product, let priceList {
                guard let known = lookups.prices[OrderLookups.PriceKey(priceList: priceList, product: product)] else { return nil }
                price = known
            }
            let tax = if let product { try await reads.state("products", product, on: db)?.integer("tax_rate_percent") } else { Int64?.none }
            result.append(OrderLine(id: id, product: product, quantity: line.integer("quantity"), discountBP: line.integer("discount_bp"),
                                    unitPriceMinor: line.integer("unit_price_minor"), listPriceMinor: price, taxRate: tax))
        }
        return result
    }

    /// The order's lines with their warehouse stock and the customer's last-price rows, from the
    /// read-ahead; `nil` when it cannot answer exactly (look them up with SQL instead). A line
    /// appears once per last-price row, as the SQL join gives it.
    func stockedLines(of order: RecordID, customer: RecordID?, on db: isolated PostgresConnection) async throws -> [OrderLine]? {
        guard let lookups = reads.memo(OrderLookups.key) as? OrderLookups, reads.merged("stock_locations").isEmpty else { return nil }
        let known = Set(lookups.levels.values.compactMap { $0 })
        let levels = reads.table("stock_levels"), prices = reads.table("last_prices")
        if reads.merged("stock_levels").contains(where: { !known.contains($0.key) || $0.value.isDeleted(under: levels.tombstones) }) { return nil }
        let written = reads.merged("last_prices")
        var result: [OrderLine] = []
        for (id, line) in try await lines(of: order, on: db) {
            guard let product = line.id("product_id"), let first = lookups.levels[product] else { return nil }
            var stock: (id: RecordID, quantity: Int64)?
            if let first, let state = try await reads.state("stock_levels", first, on: db) {
                if case .counter(let counter)? = state.value("quantity") { stock = (first, counter.sum) } else { stock = (first, 0) }
            }
            var rows: [RecordID?] = [nil]
            if let customer {
                guard let stored = lookups.lastPrices[OrderLookups.LastPriceKey(customer: customer, product: product)] else { return nil }
                var ids = Set(stored.filter { written[$0] == nil })
                for (id, row) in written where row.id("customer_id") == customer && row.id("product_id") == product && !row.isDeleted(under: prices.tombstones) {
                    ids.insert(id)
                }
                if !ids.isEmpty { rows = ids.sorted().map(Optional.some) }
            }
            for lastPrice in rows {
                result.append(OrderLine(id: id, product: product, quantity: line.integer("quantity"), discountBP: line.integer("discount_bp"),
                                        unitPriceMinor: line.integer("unit_price_minor"), level: stock, lastPrice: lastPrice))
            }
        }
        return result
    }
}
