import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Orders out (issue 20, item 2): the ERP reads confirmed orders from an export feed and answers
/// with what became of them.
///
/// **The feed.** Every order that becomes `confirmed`, or is `cancelled` after it was, is recorded
/// in `order_exports` by a trigger in the very transaction that moves it, under that transaction's
/// id (revision 20). A page serves entries after the cursor from transactions older than every one
/// still running — the sync feed's watermark — so an entry committed late by a long transaction is
/// never skipped: the cursor waits for it. Each entry carries the order as it stands when read,
/// with its lines, prices and tax. The cursor is `xid.seq`, opaque to the ERP, which keeps the last
/// one it stored and resumes from it; reading again from an older cursor serves the same entries.
///
/// **The answers.** The ERP moves an order forward along `confirmed → released_to_erp → delivered
/// → invoiced` (a later answer may come first: the order moves straight to it; an answer the order
/// is already past changes nothing), with its reference and, when invoiced, the amount. The rules
/// on arrival make an invoice raise the customer's `outstanding_minor` and each payment lower it.
extension SyncStore {
    /// A place in the export feed: a transaction id and the entry's sequence in it.
    public struct ExportCursor: Sendable, Hashable, Comparable, LosslessStringConvertible {
        /// The transaction id, and the sequence.
        public var xid: UInt64, seq: Int64

        /// The start of the feed.
        public static let start = ExportCursor(xid: 0, seq: 0)

        /// A cursor.
        public init(xid: UInt64, seq: Int64) {
            self.xid = xid
            self.seq = seq
        }

        /// Reads `xid.seq`.
        public init?(_ description: String) {
            let parts = description.split(separator: ".")
            guard parts.count == 2, let xid = UInt64(parts[0]), let seq = Int64(parts[1]), seq >= 0 else { return nil }
            self.init(xid: xid, seq: seq)
        }

        public var description: String { "\(xid).\(seq)" }

        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.xid, lhs.seq) < (rhs.xid, rhs.seq) }
    }

    /// An order as the ERP receives it.
    public struct ExportedOrder: Sendable, Hashable {
        /// The order, its ERP reference (once released) and status.
        public var id: RecordID, erpReference: String?, status: String
        /// The customer: its id, ERP reference and name.
        public var customer: RecordID?, customerERPReference: String?, customerName: String?
        /// Who took it, and when (ms since the epoch).
        public var createdBy: RecordID?, orderDate: Int64?
        /// Its price list (id and ERP reference), currency, and whether prices include tax.
        public var priceList: RecordID?, priceListERPReference: String?, currency: String?, taxInclusive: Bool
        /// The server's totals: before tax, tax, total (minor units).
        public var subtotalMinor: Int64?, taxMinor: Int64?, totalMinor: Int64?
        /// Its lines, in id order.
        public var lines: [Line]

        /// An order line as exported.
        public struct Line: Sendable, Hashable {
            /// The line, and its product's id, ERP reference and SKU.
            public var id: RecordID, product: RecordID?, productERPReference: String?, sku: String?
            /// Quantity; list price, discount (basis points), the price charged and the line's total (minor units).
            public var quantity: Int64, listPriceMinor: Int64?, discountBP: Int64, unitPriceMinor: Int64?, lineTotalMinor: Int64?
            /// The tax rate in thousandths of a percent (8.875 % is 8875).
            public var taxRateThousandths: Int64?
        }
    }

    /// One entry of the export feed: where it is, what happened, and the order as it stands.
    public struct ExportEntry: Sendable, Hashable {
        /// The entry's cursor (resume after it).
        public var cursor: ExportCursor
        /// `confirmed`, or `cancelled` (after it was confirmed).
        public var event: String
        /// The order.
        public var order: ExportedOrder
    }

    /// The entries after `cursor`, at most `limit`, from settled transactions only; with whether more are waiting.
    public func exportOrders(after cursor: ExportCursor, limit: Int, by office: OfficeUser) async throws -> (entries: [ExportEntry], hasMore: Bool) {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins read the ERP export") }
        let limit = max(1, min(limit, 500))
        // The transaction id is read as text but ordered as a number (ordered by the text, 1006 would
        // come before 826).
        let rows = try await pool.query("""
            SELECT e.xid::text AS xid_text, e.seq, e.order_id::text, e.event FROM order_exports e
            WHERE e.tenant_id = $1 AND (e.xid > $2::text::xid8 OR (e.xid = $2::text::xid8 AND e.seq > $3)) AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY e.xid, e.seq LIMIT $4
            """, [office.tenant.uuidString, String(cursor.xid), cursor.seq, limit + 1])
        var found: [(cursor: ExportCursor, order: RecordID, event: String)] = []
        for row in rows {
            guard let xid = UInt64(try row.read(0, as: String.self)), let order = RecordID(try row.read(2, as: String.self)) else { continue }
            found.append((ExportCursor(xid: xid, seq: try row.read(1, as: Int64.self)), order, try row.read(3, as: String.self)))
        }
        let hasMore = found.count > limit
        found = Array(found.prefix(limit))
        let orders = try await exportedOrders(Array(Set(found.map(\.order))), tenant: office.tenant)
        return (found.compactMap { entry in orders[entry.order].map { ExportEntry(cursor: entry.cursor, event: entry.event, order: $0) } }, hasMore)
    }

    func exportedOrders(_ ids: [RecordID], tenant: RecordID) async throws -> [RecordID: ExportedOrder] {
        guard !ids.isEmpty else { return [:] }
        var orders: [RecordID: ExportedOrder] = [:]
        for row in try await pool.query("""
            SELECT o.id::text, o.erp_reference, coalesce(o.status, 'draft'), o.customer_id::text, c.erp_reference, c.name, o.created_by::text, o.order_date,
                   o.price_list_id::text, p.erp_reference, o.currency, coalesce(o.tax_inclusive, false), o.subtotal_minor, o.tax_minor, o.total_minor
            FROM sales_orders o
            LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
            LEFT JOIN price_lists p ON p.tenant_id = o.tenant_id AND p.id = o.price_list_id
            WHERE o.tenant_id = $1 AND o.id = ANY($2::uuid[])
            """, [tenant.uuidString, PostgresArray.literal(ids)]) {
            guard let id = RecordID(try row.read(0, as: String.self)) else { continue }
            orders[id] = ExportedOrder(
                id: id, erpReference: try row.read(1, as: String?.self), status: try row.read(2, as: String.self),
                customer: try row.read(3, as: String?.self).flatMap { RecordID($0) }, customerERPReference: try row.read(4, as: String?.self), customerName: try row.read(5, as: String?.self),
                createdBy: try row.read(6, as: String?.self).flatMap { RecordID($0) }, orderDate: try row.read(7, as: Int64?.self),
                priceList: try row.read(8, as: String?.self).flatMap { RecordID($0) }, priceListERPReference: try row.read(9, as: String?.self), currency: try row.read(10, as: String?.self),
                taxInclusive: try row.read(11, as: Bool.self), subtotalMinor: try row.read(12, as: Int64?.self), taxMinor: try row.read(13, as: Int64?.self),
                totalMinor: try row.read(14, as: Int64?.self), lines: [])
        }
        for row in try await pool.query("""
            SELECT l.order_id::text, l.id::text, l.product_id::text, p.erp_reference, p.sku, coalesce(l.quantity, 0), l.list_price_minor, coalesce(l.discount_bp, 0),
                   l.unit_price_minor, l.tax_rate_percent, l.line_total_minor
            FROM order_lines l LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
            WHERE l.tenant_id = $1 AND l.order_id = ANY($2::uuid[]) AND NOT l._deleted ORDER BY l.order_id, l.id
            """, [tenant.uuidString, PostgresArray.literal(ids)]) {
            guard let order = RecordID(try row.read(0, as: String.self)), let id = RecordID(try row.read(1, as: String.self)) else { continue }
            orders[order]?.lines.append(ExportedOrder.Line(
                id: id, product: try row.read(2, as: String?.self).flatMap { RecordID($0) }, productERPReference: try row.read(3, as: String?.self), sku: try row.read(4, as: String?.self),
                quantity: try row.read(5, as: Int64.self), listPriceMinor: try row.read(6, as: Int64?.self), discountBP: try row.read(7, as: Int64.self),
                unitPriceMinor: try row.read(8, as: Int64?.self), lineTotalMinor: try row.read(10, as: Int64?.self), taxRateThousandths: try row.read(9, as: Int64?.self)))
        }
        return orders
    }

    /// The states the ERP moves an order through, in order.
    public static let erpStates = ["confirmed", "released_to_erp", "delivered", "invoiced"]

    /// The ERP's answer about an order: it moves forward to `status` (`released_to_erp`,
    /// `delivered` or `invoiced`), keeps `erpReference`, and, when invoiced, the amount
    /// (`invoicedMinor`, else the order's total). An answer the order is already past changes
    /// only a missing reference. Returns the order's status afterwards.
    @discardableResult
    public func answerFromERP(order: RecordID, status target: String, erpReference: String?, invoicedMinor: Int64?, by office: OfficeUser) async throws -> String {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins record the ERP's answers") }
        guard let wanted = Self.erpStates.firstIndex(of: target), wanted > 0 else {
            throw OfficeError(.invalid, "the ERP answers released_to_erp, delivered or invoiced")
        }
        if let erpReference, erpReference.isEmpty || erpReference.utf8.count > 64 { throw OfficeError(.invalid, "an ERP reference has 1 to 64 bytes") }
        if let invoicedMinor, !(0...1_000_000_000_000_000).contains(invoicedMinor) { throw OfficeError(.invalid, "invoiced_minor runs from 0 to 10^18") }
        let state = try await record("sales_orders", order, tenant: office.tenant)
        let current = state.state() ?? StateValue("draft")
        guard let held = Self.erpStates.firstIndex(of: current.name) else {
            throw OfficeError(.invalidState, "the order is \(current.name); the ERP answers only for confirmed orders")
        }
        var fields: [(String, FieldValue)] = []
        if let erpReference, held < wanted || state.text("erp_reference") == nil, state.text("erp_reference") != erpReference {
            fields.append(("erp_reference", .text(erpReference)))
        }
        if held < wanted {
            if target == "invoiced", let invoicedMinor { fields.append(("invoiced_minor", .integer(invoicedMinor))) }
            fields.append(("status", .state(StateValue(target, epoch: current.epoch))))
        }
        guard !fields.isEmpty else { return current.name }
        try await edit([OfficeEdit("sales_orders", order, fields)], by: nil, tenant: office.tenant)
        try await audit(table: "sales_orders", record: order, rule: .review, message: "the ERP answered \(target)" + (erpReference.map { " (\($0))" } ?? ""), by: office)
        return held < wanted ? target : current.name
    }
}
