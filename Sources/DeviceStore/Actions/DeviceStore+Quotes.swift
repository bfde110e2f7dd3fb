import FieldModel
public import SyncCore

/// Quotes (报价单, issue 20, item 3): the rep makes one for a customer from the price list in
/// force, edits its lines while it is a draft or sent, copies it, and converts it into an order —
/// a new draft order that names the quote and carries its lines — which ends the quote.
extension DeviceStore {
    /// The quote states whose lines may still change.
    static let editableQuoteStates = ["draft", "sent"]

    /// Starts a quote for `customer`, valid for `validDays` days from now, priced from the list in
    /// force today (as an order would be).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for a blocked customer, one without a price
    ///   list on the phone, or a validity outside 1…365 days.
    public func createQuote(customer: RecordID, validDays: Int = 30, note: String? = nil) async throws -> ActionReport {
        guard (1...365).contains(validDays) else { throw StoreError(.invalidArgument, "a quote is valid for 1 to 365 days") }
        let wall = Int64(wallClock.now())
        let (quote, changeSet) = try await act { session, identity, db in
            try Self.quoteDraft(customer: customer, validUntil: wall + Int64(validDays) * 86_400_000, note: note, copiedFrom: nil, at: wall,
                                session: &session, identity: identity, in: db)
        }
        return ActionReport(record: quote, changeSet: changeSet, warnings: [])
    }

    static func quoteDraft(customer: RecordID, validUntil: Int64, note: String?, copiedFrom: RecordID?, at wall: Int64, session: inout LocalSession,
                           identity: Identity, in db: isolated SQLiteDatabase) throws -> RecordID {
        guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
        let state = try session.existing("customers", customer, in: db)
        guard state.text("status") != "blocked" else { throw StoreError(.invalidArgument, "the customer is blocked: no quotes") }
        let (listID, list) = try priceListInForce(for: state, at: wall, session: session, in: db)
        let quote = session.newID()
        try session.write("quotes", quote, [
            ("customer_id", .id(customer)), ("created_by", .id(user)), ("price_list_id", .id(listID)), ("currency", list.value("currency") ?? .text("USD")),
            ("tax_inclusive", list.value("tax_inclusive") ?? .bool(false)), ("quote_date", .timestamp(wall)), ("valid_until", .timestamp(validUntil)),
            ("copied_from", copiedFrom.map(FieldValue.id) ?? .null), ("status", .state(StateValue(Lifecycles.quote.initial))),
            ("note", note.map(FieldValue.text) ?? .null),
        ], in: db)
        return quote
    }

    /// Adds a line to a quote that is a draft or sent.
    public func addQuoteLine(quote: RecordID, product: RecordID, quantity: Int64, discountBP: Int64 = 0) async throws -> ActionReport {
        try Self.checkLine(quantity: quantity, discountBP: discountBP)
        let (line, changeSet) = try await act { session, _, db in
            let status = try session.existing("quotes", quote, in: db).state()?.name ?? ""
            guard Self.editableQuoteStates.contains(status) else { throw StoreError(.forbiddenTransition, "the quote is \(status); its lines can no longer change") }
            _ = try session.existing("products", product, in: db)
            let line = session.newID()
            try session.write("quote_lines", line, [("quote_id", .id(quote)), ("product_id", .id(product)), ("quantity", .integer(quantity)),
                                                   ("discount_bp", .integer(discountBP))], in: db)
            return line
        }
        return ActionReport(record: line, changeSet: changeSet, warnings: [])
    }

    /// Moves a quote: `sent` (to the customer), `accepted`, `declined` or `cancelled`.
    public func moveQuote(_ quote: RecordID, to status: String) async throws -> ActionReport {
        guard status != "converted" else { throw StoreError(.invalidArgument, "a quote is converted by convertQuote, which makes its order") }
        let (_, changeSet) = try await act { session, identity, db in
            _ = try session.existing("quotes", quote, in: db)
            try session.move("quotes", quote, to: status, machine: Lifecycles.quote, role: identity.role, also: [], in: db)
        }
        return ActionReport(record: quote, changeSet: changeSet, warnings: [])
    }

    /// Copies a quote into a new draft with the same customer, note and lines, valid for `validDays` from now.
    public func copyQuote(_ quote: RecordID, validDays: Int = 30) async throws -> ActionReport {
        guard (1...365).contains(validDays) else { throw StoreError(.invalidArgument, "a quote is valid for 1 to 365 days") }
        let wall = Int64(wallClock.now())
        let (copy, changeSet) = try await act { session, identity, db in
            let original = try session.existing("quotes", quote, in: db)
            guard let customer = original.id("customer_id") else { throw StoreError.unknown("quotes", quote) }
            let copy = try Self.quoteDraft(customer: customer, validUntil: wall + Int64(validDays) * 86_400_000, note: original.text("note"), copiedFrom: quote,
                                           at: wall, session: &session, identity: identity, in: db)
            for (product, quantity, discount) in try Self.quoteLines(quote, in: db) {
                try session.write("quote_lines", session.newID(), [("quote_id", .id(copy)), ("product_id", .id(product)), ("quantity", .integer(quantity)),
                                                                   ("discount_bp", .integer(discount))], in: db)
            }
            return copy
        }
        return ActionReport(record: copy, changeSet: changeSet, warnings: [])
    }

    /// Converts a quote into an order: a new draft order for its customer that names the quote and
    /// carries its lines (priced, like any order, from the list in force today), in one change set
    /// with the quote's move to `converted`. A quote past its validity converts with a warning
    /// (the server flags it too).
    public func convertQuote(_ quote: RecordID, visit: RecordID? = nil) async throws -> ActionReport {
        let wall = Int64(wallClock.now())
        let ((order, warnings), changeSet) = try await act { session, identity, db in
            let state = try session.existing("quotes", quote, in: db)
            let status = state.state()?.name ?? ""
            guard ["draft", "sent", "accepted"].contains(status) else { throw StoreError(.forbiddenTransition, "the quote is \(status); it cannot be converted") }
            guard let customer = state.id("customer_id") else { throw StoreError.unknown("quotes", quote) }
            let lines = try Self.quoteLines(quote, in: db)
            guard !lines.isEmpty else { throw StoreError(.invalidArgument, "a quote needs at least one line to become an order") }
            var (order, warnings) = try Self.draft(customer: customer, visit: visit, at: wall, session: &session, identity: identity, in: db)
            try session.write("sales_orders", order, [("quote_id", .id(quote))], in: db)
            for (product, quantity, discount) in lines {
                try session.write("order_lines", session.newID(), [("order_id", .id(order)), ("product_id", .id(product)), ("quantity", .integer(quantity)),
                                                                   ("discount_bp", .integer(discount))], in: db)
            }
            try session.move("quotes", quote, to: "converted", machine: Lifecycles.quote, role: identity.role, also: [], in: db)
            if let finding = CommercialRules.quoteValidity(validUntil: state.timestamp("valid_until"), orderDate: wall) { warnings.append(finding) }
            return (order, warnings)
        }
        return ActionReport(record: order, changeSet: changeSet, warnings: warnings)
    }

    /// A quote's lines: product, quantity, discount, in id order.
    static func quoteLines(_ quote: RecordID, in db: isolated SQLiteDatabase) throws -> [(RecordID, Int64, Int64)] {
        try db.query("SELECT product_id, quantity, discount_bp FROM quote_lines WHERE quote_id = ? AND _deleted = 0 ORDER BY id", [quote.bytes]).compactMap { row in
            guard let product = RecordID(bytes: try row.read(0, as: [UInt8].self)) else { return nil }
            return (product, try row.read(1, as: Int64?.self) ?? 0, try row.read(2, as: Int64?.self) ?? 0)
        }
    }
}
