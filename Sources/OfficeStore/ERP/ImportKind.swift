import FieldModel
import Foundation
import SyncCore

/// What a master-data file holds, and its columns (issue 20, item 1; SyncProtocol/imports.md).
/// Each kind upserts one table by the ERP's key: a row whose key is new creates a record, one
/// whose key exists rewrites the fields that differ, one that differs in nothing is left alone.
public enum ImportKind: String, Sendable, CaseIterable {
    /// Customers by `erp_reference`.
    case customers
    /// Customers' contacts by `erp_reference`, under a customer named by its `erp_reference`.
    case contacts
    /// Products by `erp_reference`.
    case products
    /// Price lists by `price_list` (their `erp_reference`), one row per entry (a product's price).
    case priceLists = "price-lists"
    /// Customers' outstanding balances, by the customer's `erp_reference`.
    case balances
    /// Stock counts by `location` (a stock location's name or id), one row per product: the
    /// count the ERP holds becomes the level's quantity (a counter: the server adds the difference).
    case stock

    /// How a column's text becomes a field's value.
    enum Conversion: Sendable {
        /// By the field's type: text, integer, money (minor units), decimal (`8.875`), bool, timestamp.
        case plain
        /// Decimal degrees to millionths (a coordinate).
        case millionths
        /// A reference, found by the key of another kind's table (or, for a territory, by name or id).
        case lookup(Lookup)
        /// A count of goods that sets a counter: a whole number from 0 to ``ImportKind/countRange``.
        case count
    }

    /// The counts a stock file may give.
    static let countRange: ClosedRange<Int64> = 0...1_000_000_000

    /// How a reference column finds its record.
    enum Lookup: Sendable {
        /// A territory by its name (or id).
        case territory
        /// A record of `table` by its `erp_reference`.
        case erp(table: String)
    }

    /// A column of the file.
    struct Column: Sendable {
        /// The column's name, the field it writes, how, and whether every row must have it.
        let name: String, field: String, conversion: Conversion, required: Bool

        init(_ name: String, field: String? = nil, _ conversion: Conversion = .plain, required: Bool = false) {
            self.name = name
            self.field = field ?? name
            self.conversion = conversion
            self.required = required
        }
    }

    /// The table the kind upserts (a price list's entries go to `price_list_entries` too).
    var table: String {
        switch self {
        case .customers, .balances: "customers"
        case .contacts: "contacts"
        case .products: "products"
        case .priceLists: "price_lists"
        case .stock: "stock_levels"
        }
    }

    /// The column holding the key.
    var keyColumn: String {
        switch self {
        case .customers, .contacts, .products: "erp_reference"
        case .priceLists: "price_list"
        case .balances: "customer"
        case .stock: "location"
        }
    }

    /// The columns besides the key.
    var columns: [Column] {
        switch self {
        case .customers:
            [Column("name", required: true), Column("territory", field: "territory_id", .lookup(.territory), required: true),
             Column("phone"), Column("tax_number"), Column("street_address"), Column("city"), Column("postal_code"),
             Column("latitude", field: "latitude_e6", .millionths), Column("longitude", field: "longitude_e6", .millionths),
             Column("customer_group"), Column("price_list", field: "price_list_id", .lookup(.erp(table: "price_lists"))),
             Column("credit_limit_minor"), Column("payment_terms_days"), Column("status")]
        case .contacts:
            [Column("customer", field: "customer_id", .lookup(.erp(table: "customers")), required: true), Column("name", required: true),
             Column("title"), Column("phone"), Column("email")]
        case .products:
            [Column("sku", required: true), Column("name", required: true), Column("category"), Column("unit"), Column("tax_rate_percent"), Column("active")]
        case .priceLists:
            [Column("name", required: true), Column("currency", required: true), Column("tax_inclusive"), Column("customer_group"), Column("valid_from"),
             Column("valid_to"), Column("is_default"),
             Column("product", field: "product_id", .lookup(.erp(table: "products")), required: true),
             Column("unit_price_minor", required: true)]
        case .balances:
            [Column("outstanding_minor", required: true)]
        case .stock:
            [Column("product", field: "product_id", .lookup(.erp(table: "products")), required: true), Column("quantity", .count, required: true)]
        }
    }

    /// What a new record gets when the file leaves a field out.
    var defaults: [(String, FieldValue)] {
        switch self {
        case .customers:
            [("customer_group", .text("standard")), ("credit_limit_minor", .integer(0)), ("payment_terms_days", .integer(30)), ("status", .text("active")),
             ("outstanding_minor", .integer(0))]
        case .products: [("category", .text("general")), ("unit", .text("each")), ("tax_rate_percent", .integer(0)), ("active", .bool(true))]
        case .priceLists: [("tax_inclusive", .bool(false)), ("customer_group", .text("standard")), ("valid_from", .timestamp(0))]
        case .contacts, .balances, .stock: []
        }
    }

    /// Why a cell's text is not a value of its field.
    struct CellProblem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// The price list's own columns (the rest of a price-list row is its entry).
    static let priceListHeader: Set<String> = ["name", "currency", "tax_inclusive", "customer_group", "valid_from", "valid_to", "is_default"]

    /// The value of `text` for `field` (of the kind's table, or `price_list_entries`), or why not.
    static func value(_ text: String, for field: FieldSchema, _ conversion: Conversion) -> Result<FieldValue, CellProblem> {
        let text = text.trimmingCharacters(in: .whitespaces)
        if case .millionths = conversion {
            guard let number = decimal(text, scale: 6) else { return .failure(CellProblem("“\(text)” is not a number of degrees (at most 6 decimals)")) }
            return .success(.integer(number))
        }
        if case .count = conversion {
            guard let count = Int64(text), countRange.contains(count) else {
                return .failure(CellProblem("“\(text)” is not a count from \(countRange.lowerBound) to \(countRange.upperBound)"))
            }
            return .success(.integer(count))
        }
        switch field.type {
        case .text: return .success(.text(text))
        case .integer, .money:
            guard let number = Int64(text) else { return .failure(CellProblem("“\(text)” is not a whole number")) }
            return .success(.integer(number))
        case .decimal(let scale):
            guard let number = decimal(text, scale: scale) else { return .failure(CellProblem("“\(text)” is not a number with at most \(scale) decimals")) }
            return .success(.integer(number))
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes": return .success(.bool(true))
            case "false", "0", "no": return .success(.bool(false))
            default: return .failure(CellProblem("“\(text)” is not true or false"))
            }
        case .timestamp:
            guard let time = timestamp(text) else { return .failure(CellProblem("“\(text)” is not a date (2027-03-01) or a time (2027-03-01T08:00:00Z)")) }
            return .success(.timestamp(time))
        default: return .failure(CellProblem("the column cannot be imported"))
        }
    }

    /// `text` as an integer count of 10^-scale units, exactly, or `nil`.
    public static func decimal(_ text: String, scale: Int) -> Int64? {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= scale, fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return nil }
        let padded = String(fraction) + String(repeating: "0", count: scale - fraction.count)
        guard let value = Int64(String(whole) + padded) else { return nil }
        return negative ? -value : value
    }

    /// A date (midnight UTC) or an ISO 8601 time, as ms since the epoch.
    static func timestamp(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1_000).rounded()) }
        }
        return nil
    }
}
