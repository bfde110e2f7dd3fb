import Hummingbird
import OfficeStore
import SyncEngine
import SyncWire

/// The company's ERP (issue 20, items 1 and 2), for managers and admins: master data in —
/// `POST /v1/office/imports/{kind}` with the file as the body (CSV, or JSON Lines with
/// `?format=jsonl` or a JSON content type), all or nothing, a refused file answering 400 with
/// every problem by line and column (imports.md); and orders out — `GET /v1/office/exports/orders`
/// and the ERP's answers, `POST /v1/office/orders/{id}/erp` (erp.md).
extension OfficeRoutes {
    /// The largest file an import takes over HTTP (the operator's command takes any size).
    static let importBytesMax = 64 * 1024 * 1024

    func registerImports(on office: RouterGroup<BasicRequestContext>) {
        office.post("imports/:kind") { try await self.handleFile($0, $1, bytesMax: Self.importBytesMax) { user, body, request, context in
            guard let kind = context.parameters.get("kind").flatMap(ImportKind.init(rawValue:)) else {
                throw SyncStore.OfficeError(.notFound, "imports are of \(ImportKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let report = try await self.store.importMasterData(kind, try ImportFile(body.file, format: try Self.importFormat(request)), by: user)
            return JSONValue.fields([("kind", .string(kind.rawValue)), ("rows", .integer(Int64(report.rows))), ("created", .integer(Int64(report.created))),
                                     ("updated", .integer(Int64(report.updated))), ("unchanged", .integer(Int64(report.unchanged)))])
        } }
        office.get("exports/orders") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let cursor = try query.text("after").map { text throws -> SyncStore.ExportCursor in
                guard let cursor = SyncStore.ExportCursor(text) else { throw SyncStore.OfficeError(.invalid, "after is a cursor the export gave (xid.seq)") }
                return cursor
            } ?? .start
            let limit = try query.limit()
            guard (1...500).contains(limit) else { throw SyncStore.OfficeError(.invalid, "\"limit\" runs from 1 to 500") }
            let (entries, hasMore) = try await self.store.exportOrders(after: cursor, limit: limit, by: user)
            return JSONValue.fields([
                ("orders", .array(entries.map(Self.json))), ("next", .string((entries.last?.cursor ?? cursor).description)), ("has_more", .bool(hasMore)),
                // Cursors hold within a generation only: after a restore the ERP reads again from the start (erp.md).
                ("generation", .string(try await self.store.generation().rawValue)),
            ])
        } }
        office.post("orders/:id/erp") { try await self.handle($0, $1, ["status", "erp_reference", "invoiced_minor"]) { user, body, _, context in
            let status = try await self.store.answerFromERP(order: try Self.id(context), status: try body.text("status"), erpReference: try body.optionalText("erp_reference"),
                                                            invoicedMinor: try body.optionalInteger("invoiced_minor"), by: user)
            return JSONValue.fields([("status", .string(status))])
        } }
    }

    static func json(_ entry: SyncStore.ExportEntry) -> JSONValue {
        let order = entry.order
        return JSONValue.fields([
            ("cursor", .string(entry.cursor.description)), ("event", .string(entry.event)),
            ("order", JSONValue.fields([
                ("id", OfficeJSON.id(order.id)), ("erp_reference", .text(order.erpReference)), ("status", .string(order.status)),
                ("customer", JSONValue.fields([("id", OfficeJSON.id(order.customer)), ("erp_reference", .text(order.customerERPReference)), ("name", .text(order.customerName))])),
                ("created_by", OfficeJSON.id(order.createdBy)), ("order_date", OfficeJSON.time(order.orderDate)),
                ("price_list", JSONValue.fields([("id", OfficeJSON.id(order.priceList)), ("erp_reference", .text(order.priceListERPReference))])),
                ("currency", .text(order.currency)), ("tax_inclusive", .bool(order.taxInclusive)), ("subtotal_minor", OfficeJSON.integer(order.subtotalMinor)),
                ("tax_minor", OfficeJSON.integer(order.taxMinor)), ("total_minor", OfficeJSON.integer(order.totalMinor)),
                ("lines", .array(order.lines.map { line in
                    JSONValue.fields([
                        ("id", OfficeJSON.id(line.id)),
                        ("product", JSONValue.fields([("id", OfficeJSON.id(line.product)), ("erp_reference", .text(line.productERPReference)), ("sku", .text(line.sku))])),
                        ("quantity", .integer(line.quantity)), ("list_price_minor", OfficeJSON.integer(line.listPriceMinor)), ("discount_bp", .integer(line.discountBP)),
                        ("unit_price_minor", OfficeJSON.integer(line.unitPriceMinor)),
                        ("tax_rate_percent", OfficeJSON.thousandths(line.taxRateThousandths)),
                        ("line_total_minor", OfficeJSON.integer(line.lineTotalMinor)),
                    ])
                })),
            ])),
        ])
    }

    /// The file's format: `?format=`, else the content type (JSON Lines for any JSON type:
    /// `application/jsonl`, `application/x-ndjson`, `application/json`), else CSV.
    static func importFormat(_ request: Request) throws -> ImportFile.Format {
        if let given = request.uri.queryParameters.get("format") {
            guard let format = ImportFile.Format(rawValue: given) else { throw SyncStore.OfficeError(.invalid, "format is csv or jsonl") }
            return format
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        return type.contains("json") ? .jsonl : .csv
    }
}
