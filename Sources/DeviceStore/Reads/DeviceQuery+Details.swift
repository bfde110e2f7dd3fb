public import SyncCore

/// What a rep's and a technician's screens show beyond the day's list: a customer with its
/// contacts, last prices, open orders and recent visits; an order with its lines, payments and
/// outcome; a technician's work orders, and one with its asset and parts. Each is one
/// ``DeviceQuery``, so each can be observed; each reads through an index (`DeviceSchema.indexes`,
/// checked by the query-plan test).
extension DeviceStore {
    /// A customer with what a rep looks at before a visit.
    public struct CustomerDetail: Sendable, Hashable {
        /// The customer as lists show it.
        public var summary: CustomerSummary
        /// The street address.
        public var streetAddress: String?
        /// Its contacts, by name.
        public var contacts: [Contact]
        /// The last price of each product the customer ordered, newest first (at most 50).
        public var lastPrices: [ProductPrice]
        /// Orders not yet cancelled, delivered or invoiced, newest first.
        public var openOrders: [OrderSummary]
        /// The last ten visits planned at the customer (any rep's the phone holds), newest first.
        public var recentVisits: [VisitSummary]

        /// A person at a customer.
        public struct Contact: Sendable, Hashable {
            /// The contact.
            public var id: RecordID
            /// Name, title, phone and email.
            public var name: String
            /// See ``name``.
            public var title: String?
            /// See ``name``.
            public var phone: String?
            /// See ``name``.
            public var email: String?
        }

        /// The last price a customer paid for one product.
        public struct ProductPrice: Sendable, Hashable {
            /// The product and its name.
            public var productID: RecordID
            /// See ``productID``.
            public var productName: String
            /// The unit price, in minor units, and when it was ordered.
            public var unitPriceMinor: Int64
            /// See ``unitPriceMinor``.
            public var orderedAt: Int64?
        }
    }

    /// An order in a list.
    public struct OrderSummary: Sendable, Hashable {
        /// The order.
        public var id: RecordID
        /// The customer and its name.
        public var customerID: RecordID
        /// See ``customerID``.
        public var customerName: String
        /// The order's date (milliseconds since the epoch).
        public var orderDate: Int64?
        /// `draft`, `submitted`, `pending_approval`, `confirmed`, …
        public var status: String
        /// `not_required`, `pending`, `approved`, `rejected`.
        public var approvalState: String?
        /// The total in minor units: the server's once priced, else the phone's preview.
        public var totalMinor: Int64?
        /// The ERP's reference, once released.
        public var erpReference: String?

        /// The query a summary is read from, with `more` columns after the summary's own (read
        /// from index 8 on).
        static func select(adding more: String = "") -> String {
            """
            SELECT o.id, o.customer_id, c.name, o.order_date, o.status, o.approval_state, coalesce(o.total_minor, o.device_total_minor), o.erp_reference\(more)
            FROM sales_orders o JOIN customers c ON c.id = o.customer_id
            """
        }

        init(row: SQLiteRow) throws {
            id = RecordID(bytes: try row.read(0, as: [UInt8].self))!
            customerID = RecordID(bytes: try row.read(1, as: [UInt8].self))!
            customerName = try row.read(2, as: String?.self) ?? ""
            orderDate = try row.read(3, as: Int64?.self)
            status = try row.read(4, as: String?.self) ?? "draft"
            approvalState = try row.read(5, as: String?.self)
            totalMinor = try row.read(6, as: Int64?.self)
            erpReference = try row.read(7, as: String?.self)
        }
    }

    /// An order with its lines, payments and what the server said of it.
    public struct OrderDetail: Sendable, Hashable {
        /// The order as lists show it.
        public var summary: OrderSummary
        /// Subtotal and tax in minor units, as the server priced them.
        public var subtotalMinor: Int64?
        /// See ``subtotalMinor``.
        public var taxMinor: Int64?
        /// The lines, in the order they were added.
        public var lines: [Line]
        /// The payments collected against it, oldest first.
        public var payments: [Payment]
        /// The server's answers to the changes of this order and its lines and payments, newest
        /// first: what the rep must see (a refusal, a flag).
        public var outcomes: [StoredOutcome]

        /// One line.
        public struct Line: Sendable, Hashable {
            /// The line.
            public var id: RecordID
            /// The product and its name.
            public var productID: RecordID
            /// See ``productID``.
            public var productName: String
            /// Units, discount (basis points), unit price and line total (minor units).
            public var quantity: Int64
            /// See ``quantity``.
            public var discountBP: Int64?
            /// See ``quantity``.
            public var unitPriceMinor: Int64?
            /// See ``quantity``.
            public var lineTotalMinor: Int64?
        }

        /// One payment.
        public struct Payment: Sendable, Hashable {
            /// The payment.
            public var id: RecordID
            /// The amount, in minor units.
            public var amountMinor: Int64
            /// `cash`, `card`, `transfer`, `cheque`.
            public var method: String?
            /// The receipt's number.
            public var receiptNumber: String?
            /// When it was collected (milliseconds since the epoch).
            public var collectedAt: Int64?
        }
    }

    /// A work order in a technician's list.
    public struct WorkOrderSummary: Sendable, Hashable {
        /// The work order.
        public var id: RecordID
        /// `repair`, `maintenance`, `installation`, `inspection`.
        public var workType: String
        /// `low`, `normal`, `high`, `urgent`.
        public var priority: String?
        /// `scheduled`, `en_route`, `on_site`, `completed`, …
        public var status: String
        /// What the customer reported.
        public var description: String?
        /// The agreed window (milliseconds since the epoch).
        public var windowStart: Int64?
        /// See ``windowStart``.
        public var windowEnd: Int64?
        /// The customer, its name and street address.
        public var customerID: RecordID
        /// See ``customerID``.
        public var customerName: String
        /// See ``customerID``.
        public var streetAddress: String?

        /// The query a summary is read from, with `more` columns after the summary's own (read
        /// from index 10 on).
        static func select(adding more: String = "") -> String {
            """
            SELECT w.id, w.work_type, w.priority, w.status, w.description, w.window_start, w.window_end, c.id, c.name, c.street_address\(more)
            FROM work_orders w JOIN customers c ON c.id = w.customer_id
            """
        }

        init(row: SQLiteRow) throws {
            id = RecordID(bytes: try row.read(0, as: [UInt8].self))!
            workType = try row.read(1, as: String?.self) ?? ""
            priority = try row.read(2, as: String?.self)
            status = try row.read(3, as: String?.self) ?? "new"
            description = try row.read(4, as: String?.self)
            windowStart = try row.read(5, as: Int64?.self)
            windowEnd = try row.read(6, as: Int64?.self)
            customerID = RecordID(bytes: try row.read(7, as: [UInt8].self))!
            customerName = try row.read(8, as: String?.self) ?? ""
            streetAddress = try row.read(9, as: String?.self)
        }
    }

    /// A work order with its asset, the parts used and the technician's record of the job.
    public struct WorkOrderDetail: Sendable, Hashable {
        /// The work order as the list shows it.
        public var summary: WorkOrderSummary
        /// The asset serviced, if any.
        public var asset: Asset?
        /// The parts used, oldest first.
        public var parts: [Part]
        /// When the technician arrived and finished (milliseconds since the epoch).
        public var actualStart: Int64?
        /// See ``actualStart``.
        public var actualEnd: Int64?
        /// What was done.
        public var resolution: String?
        /// The customer's signature, an attachment.
        public var signatureAttachmentID: RecordID?

        /// The equipment at the customer's.
        public struct Asset: Sendable, Hashable {
            /// The asset.
            public var id: RecordID
            /// Its serial number, model and maintenance plan.
            public var serial: String?
            /// See ``serial``.
            public var model: String?
            /// See ``serial``.
            public var maintenancePlan: String?
        }

        /// One part used.
        public struct Part: Sendable, Hashable {
            /// The record.
            public var id: RecordID
            /// The product and its name.
            public var productID: RecordID
            /// See ``productID``.
            public var productName: String
            /// How many.
            public var quantity: Int64
            /// When (milliseconds since the epoch).
            public var usedAt: Int64?
        }
    }
}

/// The order states in which an order is still open for the rep.
let openOrderStates = ["draft", "submitted", "pending_approval", "credit_hold", "rejected", "confirmed", "released_to_erp"]

extension DeviceQuery where Value == DeviceStore.CustomerDetail? {
    /// A customer with its contacts, last prices, open orders and recent visits; `nil` when the
    /// phone does not hold it.
    public static func customer(_ id: RecordID) -> Self {
        Self { db, _ in
            guard let row = try db.query("SELECT id, name, phone, city, tax_number, status, street_address FROM customers WHERE id = ? AND _deleted = 0",
                                         [id.bytes]).first else { return nil }
            let summary = DeviceStore.CustomerSummary(id: id, name: try row.read(1, as: String?.self) ?? "", phone: try row.read(2, as: String?.self),
                                                      city: try row.read(3, as: String?.self), taxNumber: try row.read(4, as: String?.self),
                                                      status: try row.read(5, as: String?.self))
            let contacts = try db.query("SELECT id, name, title, phone, email FROM contacts WHERE customer_id = ? AND _deleted = 0 ORDER BY name, id",
                                        [id.bytes]).map { row in
                DeviceStore.CustomerDetail.Contact(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, name: try row.read(1, as: String?.self) ?? "",
                                                   title: try row.read(2, as: String?.self), phone: try row.read(3, as: String?.self),
                                                   email: try row.read(4, as: String?.self))
            }
            let prices = try db.query("""
                SELECT l.product_id, p.name, l.unit_price_minor, l.ordered_at FROM last_prices l JOIN products p ON p.id = l.product_id
                WHERE l.customer_id = ? AND l._deleted = 0 ORDER BY l.ordered_at DESC LIMIT 50
                """, [id.bytes]).map { row in
                DeviceStore.CustomerDetail.ProductPrice(productID: RecordID(bytes: try row.read(0, as: [UInt8].self))!, productName: try row.read(1, as: String?.self) ?? "",
                                                        unitPriceMinor: try row.read(2, as: Int64?.self) ?? 0, orderedAt: try row.read(3, as: Int64?.self))
            }
            let orders = try db.query("""
                \(DeviceStore.OrderSummary.select())
                WHERE o.customer_id = ? AND o._deleted = 0 AND o.status IN (\(openOrderStates.map { "'\($0)'" }.joined(separator: ", ")))
                ORDER BY o.order_date DESC, o.id
                """, [id.bytes]).map(DeviceStore.OrderSummary.init(row:))
            let visits = try db.query("""
                \(DeviceStore.VisitSummary.select)
                WHERE v.customer_id = ? AND v._deleted = 0 ORDER BY v.planned_start DESC LIMIT 10
                """, [id.bytes]).map(DeviceStore.VisitSummary.init(row:))
            return DeviceStore.CustomerDetail(summary: summary, streetAddress: try row.read(6, as: String?.self), contacts: contacts, lastPrices: prices,
                                              openOrders: orders, recentVisits: visits)
        }
    }
}

extension DeviceQuery where Value == DeviceStore.OrderDetail? {
    /// An order with its lines, payments and the server's answers; `nil` when the phone does not
    /// hold it.
    public static func order(_ id: RecordID) -> Self {
        Self { db, _ in
            guard let row = try db.query("\(DeviceStore.OrderSummary.select(adding: ", o.subtotal_minor, o.tax_minor")) WHERE o.id = ? AND o._deleted = 0",
                                         [id.bytes]).first else { return nil }
            let lines = try db.query("""
                SELECT l.id, l.product_id, p.name, l.quantity, l.discount_bp, l.unit_price_minor, l.line_total_minor
                FROM order_lines l LEFT JOIN products p ON p.id = l.product_id WHERE l.order_id = ? AND l._deleted = 0 ORDER BY l.id
                """, [id.bytes]).map { row in
                DeviceStore.OrderDetail.Line(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, productID: RecordID(bytes: try row.read(1, as: [UInt8].self))!,
                                             productName: try row.read(2, as: String?.self) ?? "", quantity: try row.read(3, as: Int64?.self) ?? 0,
                                             discountBP: try row.read(4, as: Int64?.self), unitPriceMinor: try row.read(5, as: Int64?.self),
                                             lineTotalMinor: try row.read(6, as: Int64?.self))
            }
            let payments = try db.query("""
                SELECT id, amount_minor, method, receipt_number, collected_at FROM payments WHERE order_id = ? AND _deleted = 0 ORDER BY collected_at, id
                """, [id.bytes]).map { row in
                DeviceStore.OrderDetail.Payment(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, amountMinor: try row.read(1, as: Int64?.self) ?? 0,
                                                method: try row.read(2, as: String?.self), receiptNumber: try row.read(3, as: String?.self),
                                                collectedAt: try row.read(4, as: Int64?.self))
            }
            let records = [id.bytes] + lines.map(\.id.bytes) + payments.map(\.id.bytes)
            let outcomes = try db.query("""
                SELECT \(DeviceStore.StoredOutcome.columns) FROM outcomes WHERE record IN (\(records.map { _ in "?" }.joined(separator: ", ")))
                ORDER BY received_at DESC, change_id
                """, records).map(DeviceStore.StoredOutcome.init(row:))
            return DeviceStore.OrderDetail(summary: try DeviceStore.OrderSummary(row: row), subtotalMinor: try row.read(8, as: Int64?.self),
                                           taxMinor: try row.read(9, as: Int64?.self), lines: lines, payments: payments, outcomes: outcomes)
        }
    }
}

extension DeviceQuery where Value == [DeviceStore.WorkOrderSummary] {
    /// The signed-in technician's work orders whose window starts in `[start, end)`
    /// (milliseconds since the epoch), by window.
    public static func workOrders(from start: Int64, to end: Int64) -> Self {
        Self { db, _ in
            try db.query("""
                \(DeviceStore.WorkOrderSummary.select())
                WHERE w.assignee_id = ? AND w.window_start >= ? AND w.window_start < ? AND w._deleted = 0
                ORDER BY w.window_start, w.id
                """, [try DeviceStore.signedInUser(in: db).bytes, start, end]).map(DeviceStore.WorkOrderSummary.init(row:))
        }
    }
}

extension DeviceQuery where Value == DeviceStore.WorkOrderDetail? {
    /// A work order with its asset and parts; `nil` when the phone does not hold it.
    public static func workOrder(_ id: RecordID) -> Self {
        Self { db, _ in
            let more = ", w.asset_id, w.actual_start, w.actual_end, w.resolution, w.signature_attachment_id"
            guard let row = try db.query("\(DeviceStore.WorkOrderSummary.select(adding: more)) WHERE w.id = ? AND w._deleted = 0", [id.bytes]).first else { return nil }
            let asset = try (try row.read(10, as: [UInt8]?.self)).flatMap { asset in
                try db.query("SELECT id, serial, model, maintenance_plan FROM assets WHERE id = ? AND _deleted = 0", [asset]).first.map { row in
                    DeviceStore.WorkOrderDetail.Asset(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, serial: try row.read(1, as: String?.self),
                                                      model: try row.read(2, as: String?.self), maintenancePlan: try row.read(3, as: String?.self))
                }
            }
            let parts = try db.query("""
                SELECT u.id, u.product_id, p.name, u.quantity, u.used_at FROM parts_used u LEFT JOIN products p ON p.id = u.product_id
                WHERE u.work_order_id = ? AND u._deleted = 0 ORDER BY u.used_at, u.id
                """, [id.bytes]).map { row in
                DeviceStore.WorkOrderDetail.Part(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, productID: RecordID(bytes: try row.read(1, as: [UInt8].self))!,
                                                 productName: try row.read(2, as: String?.self) ?? "", quantity: try row.read(3, as: Int64?.self) ?? 0,
                                                 usedAt: try row.read(4, as: Int64?.self))
            }
            return DeviceStore.WorkOrderDetail(summary: try DeviceStore.WorkOrderSummary(row: row), asset: asset, parts: parts,
                                               actualStart: try row.read(11, as: Int64?.self), actualEnd: try row.read(12, as: Int64?.self),
                                               resolution: try row.read(13, as: String?.self),
                                               signatureAttachmentID: try row.read(14, as: [UInt8]?.self).flatMap(RecordID.init(bytes:)))
        }
    }
}
