public import FieldModel
public import SyncCore

extension DeviceStore {
    /// A visit on the rep's plan, with what the rep needs to know about the customer.
    public struct VisitSummary: Sendable, Hashable {
        /// The visit.
        public var id: RecordID
        /// Its position on the route.
        public var sequence: Int64?
        /// `planned`, `in_progress`, …
        public var status: String
        /// `routine`, `audit`, `collection`, …
        public var visitType: String
        /// Planned start and end, in milliseconds since the epoch.
        public var plannedStart: Int64?
        /// See ``plannedStart``.
        public var plannedEnd: Int64?
        /// The dispatcher's instructions.
        public var instructions: String?
        /// The customer.
        public var customerID: RecordID
        /// The customer's name.
        public var customerName: String
        /// The customer's street address.
        public var streetAddress: String?
        /// The customer's location.
        public var location: Coordinate?

        /// The columns a summary is read from, for a query to add its `WHERE` and `ORDER BY` to.
        static let select = """
            SELECT v.id, v.sequence, v.status, v.visit_type, v.planned_start, v.planned_end, v.instructions,
                   c.id, c.name, c.street_address, c.latitude_e6, c.longitude_e6
            FROM visits v JOIN customers c ON c.id = v.customer_id
            """
    }

    /// The signed-in user's visits planned between `start` and `end` (milliseconds), in route
    /// order, with their customers: one index-backed query.
    public func visits(from start: Int64, to end: Int64) async throws -> [VisitSummary] {
        try await read(.visits(from: start, to: end))
    }

    /// Checks in at a planned visit: a check-in event with the fix and photos, and the visit moves
    /// to in progress. Outside the geofence, or with a mock location, it is recorded all the same,
    /// with a warning. The photos' bytes are kept in the same transaction and upload once the
    /// server has answered the change set.
    public func checkIn(visit: RecordID, fix: Geofence.Fix, photos: [AttachmentFile] = []) async throws -> ActionReport {
        let (warnings, changeSet) = try await act { session, identity, db in
            let current = try session.existing("visits", visit, in: db)
            var photoIDs: [RecordID] = []
            for photo in photos { photoIDs.append(try session.attach(photo, user: identity.user, in: db)) }
            var warnings = try Self.geofenceWarnings(for: fix, at: current, session: session, in: db)
            let open = try db.query("SELECT 1 FROM visits WHERE assignee_id = ? AND status = 'in_progress' AND id != ? AND _deleted = 0 LIMIT 1",
                                    [identity.user?.bytes, visit.bytes])
            if let finding = ExecutionRules.checkIn(otherVisitInProgress: !open.isEmpty) { warnings.append(finding) }
            try session.recordGeoEvent("check_in", visit: visit, fix: fix, photos: photoIDs, user: identity.user, in: db)
            try session.move("visits", visit, to: "in_progress", machine: Lifecycles.visit, role: identity.role,
                             also: [("actual_start", .timestamp(fix.deviceTime)), ("executed_by", identity.user.map(FieldValue.id) ?? .null)], in: db)
            return warnings
        }
        return ActionReport(record: visit, changeSet: changeSet, warnings: warnings)
    }

    /// Checks out of a visit: a check-out event and the visit's actual end.
    public func checkOut(visit: RecordID, fix: Geofence.Fix) async throws -> ActionReport {
        let (warnings, changeSet) = try await act { session, identity, db in
            let current = try session.existing("visits", visit, in: db)
            guard current.state()?.name == "in_progress" else {
                throw StoreError(.forbiddenTransition, "check out of a visit that is in progress")
            }
            try session.recordGeoEvent("check_out", visit: visit, fix: fix, photos: [], user: identity.user, in: db)
            try session.write("visits", visit, [("actual_end", .timestamp(fix.deviceTime))], in: db)
            return try Self.geofenceWarnings(for: fix, at: current, session: session, in: db)
        }
        return ActionReport(record: visit, changeSet: changeSet, warnings: warnings)
    }

    /// Completes a visit with its task results (task id → result text); warns when the check-out
    /// is missing, required tasks are open, or the visit was very short.
    public func completeVisit(visit: RecordID, taskResults: [RecordID: String] = [:]) async throws -> ActionReport {
        let (warnings, changeSet) = try await act { session, identity, db in
            _ = try session.existing("visits", visit, in: db)
            for (task, result) in taskResults.sorted(by: { $0.key < $1.key }) {
                let state = try session.existing("visit_tasks", task, in: db)
                guard state.id("visit_id") == visit else { throw StoreError(.invalidArgument, "task \(task.uuidString) is not this visit's") }
                if let kind = state.text("answer_kind"), kind != "text" {
                    throw StoreError(.invalidArgument, "task \(task.uuidString) takes a \(kind) answer: answer it with answerTask")
                }
                if state.state()?.name == "done" {
                    try session.write("visit_tasks", task, [("result", .text(result))], in: db)
                } else {
                    try session.move("visit_tasks", task, to: "done", machine: Lifecycles.visitTask, role: identity.role, also: [("result", .text(result))], in: db)
                }
            }
            // A required task is open until done, and a typed one until answered with its kind.
            let openRequired = try db.query("""
                SELECT count(*) FROM visit_tasks WHERE visit_id = ? AND required = 1 AND _deleted = 0
                  AND (status != 'done' OR (answer_kind = 'yes_no' AND yes_no IS NULL) OR (answer_kind = 'number' AND number_value IS NULL)
                       OR (answer_kind = 'text' AND result IS NULL) OR (answer_kind = 'photo' AND photo_attachment_id IS NULL))
                """, [visit.bytes])[0].read(0, as: Int.self)
            let times = try db.query("""
                SELECT max(CASE WHEN kind = 'check_in' THEN device_time END), max(CASE WHEN kind = 'check_out' THEN device_time END)
                FROM geo_events WHERE visit_id = ?
                """, [visit.bytes])[0]
            let warnings = ExecutionRules.completeVisit(checkInAt: try times.read(0, as: Int64?.self), checkOutAt: try times.read(1, as: Int64?.self),
                                                        openRequiredTasks: openRequired)
            try session.move("visits", visit, to: "completed", machine: Lifecycles.visit, role: identity.role, in: db)
            return warnings
        }
        return ActionReport(record: visit, changeSet: changeSet, warnings: warnings)
    }

    /// Abandons a visit in progress, with the reason.
    public func abandonVisit(visit: RecordID, reason: String) async throws -> ActionReport {
        guard !reason.trimmingSpaces.isEmpty else { throw StoreError(.invalidArgument, "say why the visit was abandoned") }
        let (_, changeSet) = try await act { session, identity, db in
            try session.move("visits", visit, to: "abandoned", machine: Lifecycles.visit, role: identity.role, also: [("abandon_reason", .text(reason))], in: db)
        }
        return ActionReport(record: visit, changeSet: changeSet, warnings: [])
    }

    /// Starts an unplanned visit at a customer: the visit is created in progress, with its check-in.
    public func startAdHocVisit(customer: RecordID, fix: Geofence.Fix, visitType: String = "ad_hoc") async throws -> ActionReport {
        let ((visit, warnings), changeSet) = try await act { session, identity, db in
            _ = try session.existing("customers", customer, in: db)
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            let visit = session.newID()
            try session.write("visits", visit, [
                ("customer_id", .id(customer)), ("assignee_id", .id(user)), ("visit_type", .text(visitType)),
                ("status", .state(StateValue("in_progress"))), ("creation_mode", .text("ad_hoc")),
                ("actual_start", .timestamp(fix.deviceTime)), ("executed_by", .id(user)),
            ], in: db)
            let state = try session.existing("visits", visit, in: db)
            let warnings = try Self.geofenceWarnings(for: fix, at: state, session: session, in: db)
            try session.recordGeoEvent("check_in", visit: visit, fix: fix, photos: [], user: user, in: db)
            return (visit, warnings)
        }
        return ActionReport(record: visit, changeSet: changeSet, warnings: warnings)
    }

    /// Records a shelf stock count of a product during a visit.
    public func recordShelfCount(visit: RecordID, product: RecordID, quantity: Int64, countedAt: Int64) async throws -> ActionReport {
        guard quantity >= 0 else { throw StoreError(.invalidArgument, "a counted quantity cannot be negative") }
        let (id, changeSet) = try await act { session, _, db in
            _ = try session.existing("visits", visit, in: db)
            _ = try session.existing("products", product, in: db)
            let id = session.newID()
            try session.write("shelf_stock_counts", id, [("visit_id", .id(visit)), ("product_id", .id(product)),
                                                         ("quantity", .integer(quantity)), ("counted_at", .timestamp(countedAt))], in: db)
            return id
        }
        return ActionReport(record: id, changeSet: changeSet, warnings: [])
    }

    /// Records a contact with a customer (a call, a visit conversation) and the next action.
    public func addContactRecord(customer: RecordID, visit: RecordID? = nil, channel: String, notes: String, nextAction: String? = nil, nextActionAt: Int64? = nil) async throws -> ActionReport {
        guard !notes.trimmingSpaces.isEmpty else { throw StoreError(.invalidArgument, "a contact record needs notes") }
        let (id, changeSet) = try await act { session, identity, db in
            _ = try session.existing("customers", customer, in: db)
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            let id = session.newID()
            try session.write("contact_records", id, [
                ("customer_id", .id(customer)), ("visit_id", visit.map(FieldValue.id) ?? .null), ("author_id", .id(user)),
                ("channel", .text(channel)), ("notes", .text(notes)), ("next_action", nextAction.map(FieldValue.text) ?? .null),
                ("next_action_at", nextActionAt.map(FieldValue.timestamp) ?? .null),
            ], in: db)
            return id
        }
        return ActionReport(record: id, changeSet: changeSet, warnings: [])
    }

    static func geofenceWarnings(for fix: Geofence.Fix, at visit: RecordState, session: LocalSession, in db: isolated SQLiteDatabase) throws -> [RuleFinding] {
        guard let customerID = visit.id("customer_id"), let customer = try session.schema.read("customers", customerID, in: db) else { return [] }
        let store = Coordinate.at(latitudeE6: customer.integer("latitude_e6"), longitudeE6: customer.integer("longitude_e6"))
        let tenantRadius = try db.query("SELECT geofence_radius_m FROM tenants LIMIT 1").first?.read(0, as: Int?.self) ?? 200
        let radius = Geofence.radius(customer: customer.integer("geofence_radius_m").map(Int.init), visitType: nil, tenant: tenantRadius)
        return Geofence.verify(fix, store: store, radiusMeters: radius).findings
    }
}

extension LocalSession {
    mutating func recordGeoEvent(_ kind: String, visit: RecordID, fix: Geofence.Fix, photos: [RecordID], user: RecordID?, in db: isolated SQLiteDatabase) throws {
        guard let user else { throw StoreError(.notRegistered, "no user is signed in") }
        guard fix.accuracyMeters >= 0 else { throw StoreError(.invalidArgument, "a fix's accuracy cannot be negative") }
        try write("geo_events", newID(), [
            ("visit_id", .id(visit)), ("user_id", .id(user)), ("kind", .text(kind)), ("device_time", .timestamp(fix.deviceTime)),
            ("latitude_e6", .integer(fix.coordinate.latitudeE6)), ("longitude_e6", .integer(fix.coordinate.longitudeE6)),
            ("accuracy_m", .integer(Int64(fix.accuracyMeters))), ("provider", .text("gps")), ("mock_location", .bool(fix.mockLocation)),
            ("photo_ids", photos.isEmpty ? .null : .text(photos.map(\.uuidString).joined(separator: ","))),
        ], in: db)
    }
}

extension String {
    var trimmingSpaces: Substring {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}

extension DeviceStore.VisitSummary {
    /// A summary from a row of ``select``.
    init(row: SQLiteRow) throws {
        let latitude = try row.read(10, as: Int64?.self)
        let longitude = try row.read(11, as: Int64?.self)
        self.init(
            id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, sequence: try row.read(1, as: Int64?.self),
            status: try row.read(2, as: String.self), visitType: try row.read(3, as: String.self),
            plannedStart: try row.read(4, as: Int64?.self), plannedEnd: try row.read(5, as: Int64?.self),
            instructions: try row.read(6, as: String?.self), customerID: RecordID(bytes: try row.read(7, as: [UInt8].self))!,
            customerName: try row.read(8, as: String.self), streetAddress: try row.read(9, as: String?.self),
            location: Coordinate.at(latitudeE6: latitude, longitudeE6: longitude)
        )
    }
}
