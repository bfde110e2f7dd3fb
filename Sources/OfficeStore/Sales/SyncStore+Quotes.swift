import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Quotes from the office (issue 20, item 3): a manager makes a quote for a customer — sent, with
/// its lines, priced from the list in force — that reaches the customer's rep, who converts it on
/// the phone like one of their own; and the office reads a customer's quotes.
extension SyncStore {
    /// A quote line as the office writes and reads it.
    public struct QuoteLine: Sendable, Hashable {
        /// The product, quantity and discount (basis points).
        public var product: RecordID, quantity: Int64, discountBP: Int64

        /// A line.
        public init(product: RecordID, quantity: Int64, discountBP: Int64 = 0) {
            self.product = product
            self.quantity = quantity
            self.discountBP = discountBP
        }
    }

    /// A quote as the office reads it.
    public struct Quote: Sendable, Hashable {
        /// The quote, its customer, author, status, dates, note, the quote it copies and the order it became.
        public var id: RecordID, customer: RecordID?, createdBy: RecordID?, status: String, quoteDate: Int64?, validUntil: Int64?
        /// See ``id``.
        public var note: String?, copiedFrom: RecordID?, order: RecordID?
        /// Its lines.
        public var lines: [QuoteLine]
    }

    /// A manager's quote for `customer`, valid until `validUntil`, sent with `lines`; returns its id.
    public func createQuote(customer: RecordID, validUntil: Int64, lines: [QuoteLine], note: String?, by office: OfficeUser) async throws -> RecordID {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins make quotes in the office") }
        guard !lines.isEmpty, lines.count <= 1_000 else { throw OfficeError(.invalid, "a quote has 1 to 1,000 lines") }
        let state = try await record("customers", customer, tenant: office.tenant)
        guard state.text("status") != "blocked" else { throw OfficeError(.invalidState, "the customer is blocked: no quotes") }
        let now = Int64(clock.milliseconds)
        guard validUntil > now else { throw OfficeError(.invalid, "valid_until is in the past") }
        var lists: [PriceLists.List] = []
        for row in try await pool.query("SELECT id::text, customer_group, valid_from, valid_to, coalesce(is_default, false) FROM price_lists WHERE tenant_id = $1 AND NOT _deleted",
                                        [office.tenant.uuidString]) {
            lists.append(PriceLists.List(id: try row.read(0, as: RecordID.self), customerGroup: try row.read(1, as: String?.self),
                                         validFrom: try row.read(2, as: Int64?.self), validTo: try row.read(3, as: Int64?.self), isDefault: try row.read(4, as: Bool.self)))
        }
        guard let listID = PriceLists.inForce(on: now, customerList: state.id("price_list_id"), customerGroup: state.text("customer_group"), lists: lists) else {
            throw OfficeError(.invalidState, "the customer has no price list")
        }
        let list = try await record("price_lists", listID, tenant: office.tenant)
        let quote = newID()
        var edits = [OfficeEdit("quotes", quote, [
            ("customer_id", .id(customer)), ("created_by", .id(office.user)), ("price_list_id", .id(listID)), ("currency", .text(list.text("currency") ?? "USD")),
            ("tax_inclusive", .bool(list.bool("tax_inclusive") ?? false)), ("quote_date", .timestamp(now)), ("valid_until", .timestamp(validUntil)),
            ("status", .state(StateValue("sent"))), ("note", note.map(FieldValue.text) ?? .null),
        ])]
        for line in lines {
            edits.append(OfficeEdit("quote_lines", newID(), [("quote_id", .id(quote)), ("product_id", .id(line.product)), ("quantity", .integer(line.quantity)),
                                                            ("discount_bp", .integer(line.discountBP))]))
        }
        try await edit(edits, by: office, tenant: office.tenant)
        return quote
    }

    /// A manager's edit of a quote that is a draft or sent (DOMAIN.md §6: the rep or the office
    /// edits it until converted): a new validity or note, its lines replaced, or a move (`sent`,
    /// `accepted`, `declined`, `cancelled`); in one change set, so the rep's phone sees it whole.
    public func editQuote(_ id: RecordID, validUntil: Int64?, note: String??, lines: [QuoteLine]?, status: String?, by office: OfficeUser) async throws {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins edit quotes in the office") }
        let state = try await record("quotes", id, tenant: office.tenant)
        try await requireInSight(customer: state.id("customer_id"), of: office)
        let current = state.state()?.name ?? "draft"
        guard ["draft", "sent"].contains(current) else { throw OfficeError(.invalidState, "the quote is \(current); it no longer changes") }
        if let lines, lines.isEmpty || lines.count > 1_000 { throw OfficeError(.invalid, "a quote has 1 to 1,000 lines") }
        if let validUntil, validUntil <= Int64(clock.milliseconds) { throw OfficeError(.invalid, "valid_until is in the past") }
        guard status != "converted" else { throw OfficeError(.invalid, "a quote is converted on the phone, into the order it becomes") }
        var fields: [(String, FieldValue)] = []
        if let validUntil { fields.append(("valid_until", .timestamp(validUntil))) }
        if let note { fields.append(("note", note.map(FieldValue.text) ?? .null)) }
        if let status { fields.append(("status", try move(state, Lifecycles.quote, to: status, by: office.role, what: "quote"))) }
        var edits = fields.isEmpty ? [] : [OfficeEdit("quotes", id, fields)]
        if let lines {
            for row in try await pool.query("SELECT id::text FROM quote_lines WHERE tenant_id = $1 AND quote_id = $2::uuid AND NOT _deleted",
                                            [office.tenant.uuidString, id.uuidString]) {
                edits.append(.delete("quote_lines", try row.read(0, as: RecordID.self)))
            }
            for line in lines {
                edits.append(OfficeEdit("quote_lines", newID(), [("quote_id", .id(id)), ("product_id", .id(line.product)), ("quantity", .integer(line.quantity)),
                                                                ("discount_bp", .integer(line.discountBP))]))
            }
        }
        guard !edits.isEmpty else { throw OfficeError(.invalid, "give valid_until, note, lines or status") }
        try await edit(edits, by: office, tenant: office.tenant)
    }

    /// A customer's quotes, newest first, with their lines and the order each became.
    public func quotes(customer: RecordID, by office: OfficeUser) async throws -> [Quote] {
        try await requireInSight(customer: customer, of: office)
        var quotes = try await pool.query("""
            SELECT q.id::text, q.customer_id::text, q.created_by::text, coalesce(q.status, 'draft'), q.quote_date, q.valid_until, q.note, q.copied_from::text,
                   (SELECT o.id::text FROM sales_orders o WHERE o.tenant_id = q.tenant_id AND o.quote_id = q.id AND NOT o._deleted ORDER BY o.id LIMIT 1)
            FROM quotes q WHERE q.tenant_id = $1 AND q.customer_id = $2::uuid AND NOT q._deleted ORDER BY q.quote_date DESC, q.id DESC LIMIT 200
            """, [office.tenant.uuidString, customer.uuidString]).map { row in
            Quote(id: try row.read(0, as: RecordID.self), customer: try row.read(1, as: String?.self).flatMap { RecordID($0) },
                  createdBy: try row.read(2, as: String?.self).flatMap { RecordID($0) }, status: try row.read(3, as: String.self), quoteDate: try row.read(4, as: Int64?.self),
                  validUntil: try row.read(5, as: Int64?.self), note: try row.read(6, as: String?.self), copiedFrom: try row.read(7, as: String?.self).flatMap { RecordID($0) },
                  order: try row.read(8, as: String?.self).flatMap { RecordID($0) }, lines: [])
        }
        var index: [RecordID: Int] = [:]
        for (position, quote) in quotes.enumerated() { index[quote.id] = position }
        for row in try await pool.query("""
            SELECT quote_id::text, product_id::text, coalesce(quantity, 0), coalesce(discount_bp, 0) FROM quote_lines
            WHERE tenant_id = $1 AND quote_id = ANY($2::uuid[]) AND NOT _deleted ORDER BY id
            """, [office.tenant.uuidString, PostgresArray.literal(quotes.map(\.id))]) {
            guard let quote = RecordID(try row.read(0, as: String.self)), let position = index[quote], let product = RecordID(try row.read(1, as: String.self)) else { continue }
            quotes[position].lines.append(QuoteLine(product: product, quantity: try row.read(2, as: Int64.self), discountBP: try row.read(3, as: Int64.self)))
        }
        return quotes
    }
}
