import Hummingbird
import OfficeStore
import SyncCore
import SyncEngine
import SyncWire

/// Quotes from the office (issue 20, item 3; office.md, "Quotes"): `POST /v1/office/quotes` (a
/// manager's quote, sent, with its lines) and `GET /v1/office/quotes?customer=` (a customer's
/// quotes with their lines and the order each became).
extension OfficeRoutes {
    func registerQuotes(on office: RouterGroup<BasicRequestContext>) {
        office.post("quotes") { try await self.handle($0, $1, ["customer_id", "valid_until", "lines", "note"]) { user, body, _, _ in
            let lines = try Self.quoteLines(body)
            let id = try await self.store.createQuote(customer: try body.id("customer_id"), validUntil: try body.time("valid_until"), lines: lines,
                                                      note: try body.optionalText("note"), by: user)
            return JSONValue.fields([("id", OfficeJSON.id(id))])
        } }
        office.post("quotes/:id") { try await self.handle($0, $1, ["valid_until", "lines", "note", "status"]) { user, body, _, context in
            let note: String?? = body.has("note") ? .some(try body.optionalText("note")) : .none
            try await self.store.editQuote(try Self.id(context), validUntil: try body.optionalTime("valid_until"), note: note,
                                           lines: body.has("lines") ? try Self.quoteLines(body) : nil, status: try body.optionalText("status"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.get("quotes") { try await self.handle($0, $1, []) { user, _, request, _ in
            guard let customer = try ListQuery(request).id("customer") else { throw SyncStore.OfficeError(.invalid, "give ?customer=ID") }
            let quotes = try await self.store.quotes(customer: customer, by: user)
            return JSONValue.fields([("quotes", .array(quotes.map { quote in
                JSONValue.fields([
                    ("id", OfficeJSON.id(quote.id)), ("customer_id", OfficeJSON.id(quote.customer)), ("created_by", OfficeJSON.id(quote.createdBy)),
                    ("status", .string(quote.status)), ("quote_date", OfficeJSON.time(quote.quoteDate)), ("valid_until", OfficeJSON.time(quote.validUntil)),
                    ("note", .text(quote.note)), ("copied_from", OfficeJSON.id(quote.copiedFrom)), ("order_id", OfficeJSON.id(quote.order)),
                    ("lines", .array(quote.lines.map { line in
                        JSONValue.fields([("product_id", OfficeJSON.id(line.product)), ("quantity", .integer(line.quantity)), ("discount_bp", .integer(line.discountBP))])
                    })),
                ])
            }))])
        } }
    }

    /// A request's quote lines.
    static func quoteLines(_ body: OfficeBody) throws -> [SyncStore.QuoteLine] {
        try body.array("lines").map { value -> SyncStore.QuoteLine in
            let line = try OfficeBody(Array(value.printed.utf8), allowed: ["product_id", "quantity", "discount_bp"])
            return SyncStore.QuoteLine(product: try line.id("product_id"), quantity: try line.integer("quantity", in: 1...1_000_000),
                                       discountBP: try line.optionalInteger("discount_bp").map { try Self.within($0, 0...10_000, "discount_bp") }.map(Int64.init) ?? 0)
        }
    }
}
