import Hummingbird
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// The office's detail pages: `GET /v1/office/orders/{id}`, `work-orders/{id}` and `customers/{id}`.
extension OfficeRoutes {
    func registerDetails(on office: RouterGroup<BasicRequestContext>) {
        office.get("orders/:id") { try await self.handle($0, $1, []) { user, _, _, context in
            let detail = try await self.store.order(try Self.id(context), by: user)
            return JSONValue.fields([
                ("order", OfficeJSON.order(detail.order)), ("visit", OfficeJSON.id(detail.visit)),
                ("tax_inclusive", detail.taxInclusive.map(JSONValue.bool) ?? .null),
                ("device_total_minor", OfficeJSON.integer(detail.deviceTotalMinor)), ("subtotal_minor", OfficeJSON.integer(detail.subtotalMinor)),
                ("lines", .array(detail.lines.map { line in
                    JSONValue.fields([("id", OfficeJSON.id(line.id)), ("product", OfficeJSON.id(line.product)), ("sku", .text(line.sku)),
                                      ("product_name", .text(line.productName)), ("quantity", .integer(line.quantity)), ("discount_bp", .integer(line.discountBP)),
                                      ("list_price_minor", OfficeJSON.integer(line.listPriceMinor)), ("unit_price_minor", OfficeJSON.integer(line.unitPriceMinor)),
                                      ("tax_rate_percent", OfficeJSON.thousandths(line.taxRateThousandths)),
                                      ("line_total_minor", OfficeJSON.integer(line.lineTotalMinor))])
                })),
                ("payments", .array(detail.payments.map(OfficeJSON.payment))),
                ("exposure", OfficeJSON.exposure(detail.exposure)),
                ("history", .array(detail.history.map(OfficeJSON.history))),
            ])
        } }
        office.get("work-orders/:id") { try await self.handle($0, $1, []) { user, _, _, context in
            let detail = try await self.store.workOrder(try Self.id(context), by: user)
            return JSONValue.fields([
                ("work_order", OfficeJSON.workOrder(detail.workOrder)), ("description", .text(detail.description)),
                ("resolution", .text(detail.resolution)), ("rating", OfficeJSON.integer(detail.rating)), ("rating_comment", .text(detail.ratingComment)),
                ("signature", OfficeJSON.id(detail.signature)),
                ("asset_serial", .text(detail.assetSerial)), ("asset_model", .text(detail.assetModel)), ("maintenance_plan", .text(detail.maintenancePlan)),
                ("parts", .array(detail.parts.map { part in
                    JSONValue.fields([("id", OfficeJSON.id(part.id)), ("product", OfficeJSON.id(part.product)), ("sku", .text(part.sku)),
                                      ("product_name", .text(part.productName)), ("stock_location", OfficeJSON.id(part.location)),
                                      ("stock_location_name", .text(part.locationName)), ("quantity", .integer(part.quantity)),
                                      ("used_at", OfficeJSON.time(part.usedAt))])
                })),
                ("history", .array(detail.history.map(OfficeJSON.history))),
                ("steps", .array(detail.steps.map { step in
                    JSONValue.fields([("id", OfficeJSON.id(step.id)), ("label", .string(step.label)), ("answer_kind", .string(step.answerKind)),
                                      ("required", .bool(step.required)), ("min_value", OfficeJSON.integer(step.minValue)), ("max_value", OfficeJSON.integer(step.maxValue)),
                                      ("answer", .text(step.answer)), ("answered_by", OfficeJSON.id(step.answeredBy)), ("answered_at", OfficeJSON.time(step.answeredAt))])
                })),
            ])
        } }
        office.get("customers/:id") { try await self.handle($0, $1, []) { user, _, _, context in
            let detail = try await self.store.customer(try Self.id(context), by: user, now: Int64(self.wallClock.now()))
            return JSONValue.fields([
                ("customer", OfficeJSON.customer(detail.customer)), ("postal_code", .text(detail.postalCode)),
                ("latitude_e6", OfficeJSON.integer(detail.latitudeE6)), ("longitude_e6", OfficeJSON.integer(detail.longitudeE6)),
                ("geofence_radius_m", OfficeJSON.integer(detail.geofenceRadiusM)), ("price_list", OfficeJSON.id(detail.priceList)),
                ("price_list_name", .text(detail.priceListName)), ("payment_terms_days", OfficeJSON.integer(detail.paymentTermsDays)),
                ("merged_into", OfficeJSON.id(detail.mergedInto)),
                ("contacts", .array(detail.contacts.map { contact in
                    JSONValue.fields([("id", OfficeJSON.id(contact.id)), ("name", .string(contact.name)), ("title", .text(contact.title)),
                                      ("phone", .text(contact.phone)), ("email", .text(contact.email))])
                })),
                ("exposure", OfficeJSON.exposure(detail.exposure)),
                ("history", .array(detail.history.map(OfficeJSON.history))),
            ])
        } }
    }
}

extension OfficeJSON {
    /// A credit exposure (`limit_minor` and `available_minor` are null without a limit).
    static func exposure(_ exposure: SyncStore.CreditExposure) -> JSONValue {
        JSONValue.fields([("limit_minor", integer(exposure.limitMinor)), ("outstanding_minor", .integer(exposure.outstandingMinor)),
                          ("open_orders", .integer(Int64(exposure.openOrders))), ("open_orders_minor", .integer(exposure.openOrdersMinor)),
                          ("order_minor", .integer(exposure.orderMinor)), ("exposure_minor", .integer(exposure.exposureMinor)),
                          ("available_minor", integer(exposure.availableMinor))])
    }

    /// One entry of a record's history.
    static func history(_ entry: SyncStore.HistoryEntry) -> JSONValue {
        JSONValue.fields([("server_time", time(entry.serverTime)), ("rule", .string(entry.rule)), ("result", .string(entry.result)),
                          ("message", .string(entry.message)), ("author", id(entry.author)), ("author_name", .text(entry.authorName)),
                          ("author_role", .text(entry.authorRole)), ("review", .text(entry.review))])
    }

    /// A decimal held in thousandths, as a JSON number with three decimals (13000 is 13.000).
    static func thousandths(_ value: Int64?) -> JSONValue {
        guard let value else { return .null }
        let magnitude = value.magnitude
        return .number((value < 0 ? "-" : "") + "\(magnitude / 1000)." + String(String(magnitude % 1000 + 1000).dropFirst()))
    }
}
