public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// The technicians' resources and the work-order types (issue 19, item 1), kept by dispatchers
/// and admins; and what the office does with automatic dispatch's decisions. Every write is an
/// office edit: the same merge path as a device's change, and the technician's phone receives
/// their own profile, skills, territories and absences in its personal bucket.
extension SyncStore {
    /// A technician's working week and start location.
    public struct TechnicianProfile: Sendable, Hashable {
        /// Where the day starts, in micro-degrees.
        public var startLatitudeE6: Int64?, startLongitudeE6: Int64?
        /// Working hours: minutes after local midnight.
        public var workdayStartMinute: Int, workdayEndMinute: Int
        /// Bit 0 Monday … bit 6 Sunday (31: Monday to Friday).
        public var workingDays: Int
        /// The most jobs in a day.
        public var dailyCapacity: Int

        /// Creates a profile.
        public init(startLatitudeE6: Int64? = nil, startLongitudeE6: Int64? = nil, workdayStartMinute: Int = 8 * 60, workdayEndMinute: Int = 17 * 60,
                    workingDays: Int = 0b001_1111, dailyCapacity: Int = 6) {
            self.startLatitudeE6 = startLatitudeE6
            self.startLongitudeE6 = startLongitudeE6
            self.workdayStartMinute = workdayStartMinute
            self.workdayEndMinute = workdayEndMinute
            self.workingDays = workingDays
            self.dailyCapacity = dailyCapacity
        }
    }

    /// A technician with everything dispatch reads about them.
    public struct TechnicianResources: Sendable, Hashable {
        /// The user and their name.
        public var id: RecordID, name: String
        /// Their working week, if set (without one, automatic dispatch passes them over).
        public var profile: TechnicianProfile?
        /// Skill → level.
        public var skills: [String: Int]
        /// The territories they serve.
        public var territories: [RecordID]
        /// Absences that have not ended: id, start, end, reason.
        public var absences: [(id: RecordID, start: Int64, end: Int64, reason: String?)]
        /// Open work orders assigned to them.
        public var openWorkOrders: Int

        public static func == (a: Self, b: Self) -> Bool {
            a.id == b.id && a.name == b.name && a.profile == b.profile && a.skills == b.skills && a.territories == b.territories
                && a.absences.map(\.id) == b.absences.map(\.id) && a.openWorkOrders == b.openWorkOrders
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    /// A work-order type.
    public struct WorkOrderType: Sendable, Hashable {
        /// The record, and its code (a work order's `work_type`).
        public var id: RecordID, code: String
        /// Its name, duration, whether completion needs a signature, and whether it is in use.
        public var name: String, durationMinutes: Int, signatureRequired: Bool, active: Bool
        /// Skill → minimum level.
        public var skills: [String: Int]
        /// Its checklist, in order.
        public var steps: [StepDefinition] = []
    }

    /// A step of a work-order type's checklist, as the office writes it.
    public struct StepDefinition: Sendable, Hashable {
        /// What to do or check, and the kind of answer (`yes_no`, `number`, `text`, `photo`).
        public var label: String, answerKind: String
        /// Whether completion needs it.
        public var required: Bool
        /// For a number, the range an answer should fall in.
        public var minValue: Int64?, maxValue: Int64?

        /// Creates a step.
        public init(label: String, answerKind: String, required: Bool = true, minValue: Int64? = nil, maxValue: Int64? = nil) {
            self.label = label
            self.answerKind = answerKind
            self.required = required
            self.minValue = minValue
            self.maxValue = maxValue
        }
    }

    /// Refuses anyone but a dispatcher or an admin.
    func requireDispatching(_ office: OfficeUser) throws {
        guard office.role == .dispatcher || office.role == .admin else {
            throw OfficeError(.forbidden, "only dispatchers and admins manage technicians and dispatch")
        }
    }

    /// Refuses a user who is not one of the tenant's technicians.
    func requireTechnician(_ user: RecordID, tenant: RecordID) async throws {
        let role = try await pool.query("SELECT role FROM users WHERE tenant_id = $1 AND id = $2::uuid AND NOT _deleted", [tenant.uuidString, user.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }
        guard let role else { throw OfficeError(.notFound, "no user \(user.uuidString)") }
        guard role == Role.technician.name else { throw OfficeError(.invalid, "\(user.uuidString) is a \(role), not a technician") }
    }

    /// The ids of `table`'s rows whose `user_id` is `user`, with `key` (text) for each.
    private func rows(of table: String, user: RecordID, key: String, tenant: RecordID) async throws -> [(id: RecordID, key: String?)] {
        try await pool.query("SELECT id::text, \(key)::text FROM \(table) WHERE tenant_id = $1 AND user_id = $2::uuid AND NOT _deleted ORDER BY id",
                             [tenant.uuidString, user.uuidString])
            .map { (RecordID(try $0.read(0, as: String.self))!, try $0.read(1, as: String?.self)) }
    }

    /// Sets a technician's working week and start location.
    public func setTechnicianProfile(_ user: RecordID, _ profile: TechnicianProfile, by office: OfficeUser) async throws {
        try requireDispatching(office)
        try await requireTechnician(user, tenant: office.tenant)
        guard profile.workdayStartMinute < profile.workdayEndMinute else { throw OfficeError(.invalid, "the working day must end after it starts") }
        guard (profile.startLatitudeE6 == nil) == (profile.startLongitudeE6 == nil) else {
            throw OfficeError(.invalid, "a start location needs both start_latitude_e6 and start_longitude_e6")
        }
        let id = try await rows(of: "technician_profiles", user: user, key: "id", tenant: office.tenant).first?.id ?? newID()
        try await edit([OfficeEdit("technician_profiles", id, [
            ("user_id", .id(user)), ("start_latitude_e6", profile.startLatitudeE6.map(FieldValue.integer) ?? .null),
            ("start_longitude_e6", profile.startLongitudeE6.map(FieldValue.integer) ?? .null),
            ("workday_start_minute", .integer(Int64(profile.workdayStartMinute))), ("workday_end_minute", .integer(Int64(profile.workdayEndMinute))),
            ("working_days", .integer(Int64(profile.workingDays))), ("daily_capacity", .integer(Int64(profile.dailyCapacity))),
        ])], by: office, tenant: office.tenant)
    }

    /// Sets a technician's skills to exactly `skills` (skill → level): levels change in place,
    /// skills not listed are deleted.
    public func setTechnicianSkills(_ user: RecordID, _ skills: [String: Int], by office: OfficeUser) async throws {
        try requireDispatching(office)
        try await requireTechnician(user, tenant: office.tenant)
        let existing = try await rows(of: "technician_skills", user: user, key: "skill", tenant: office.tenant)
        var edits: [OfficeEdit] = []
        var kept: Set<String> = []
        for row in existing {
            if let skill = row.key, let level = skills[skill], !kept.contains(skill) {
                kept.insert(skill)
                edits.append(OfficeEdit("technician_skills", row.id, [("level", .integer(Int64(level)))]))
            } else {
                edits.append(.delete("technician_skills", row.id))
            }
        }
        for (skill, level) in skills.sorted(by: { $0.key < $1.key }) where !kept.contains(skill) {
            edits.append(OfficeEdit("technician_skills", newID(), [("user_id", .id(user)), ("skill", .text(skill)), ("level", .integer(Int64(level)))]))
        }
        guard !edits.isEmpty else { return }
        try await edit(edits, by: office, tenant: office.tenant)
    }

    /// Sets the territories a technician serves to exactly `territories`.
    public func setServiceTerritories(_ user: RecordID, _ territories: [RecordID], by office: OfficeUser) async throws {
        try requireDispatching(office)
        try await requireTechnician(user, tenant: office.tenant)
        for territory in Set(territories) { _ = try await record("territories", territory, tenant: office.tenant) }
        let existing = try await rows(of: "service_territories", user: user, key: "territory_id", tenant: office.tenant)
        let wanted = Set(territories)
        var kept: Set<RecordID> = []
        var edits: [OfficeEdit] = []
        for row in existing {
            if let territory = row.key.flatMap({ RecordID($0) }), wanted.contains(territory), !kept.contains(territory) {
                kept.insert(territory)
            } else {
                edits.append(.delete("service_territories", row.id))
            }
        }
        for territory in wanted.subtracting(kept).sorted() {
            edits.append(OfficeEdit("service_territories", newID(), [("user_id", .id(user)), ("territory_id", .id(territory))]))
        }
        guard !edits.isEmpty else { return }
        try await edit(edits, by: office, tenant: office.tenant)
    }

    /// Records an absence of a technician; returns its id.
    public func addAbsence(_ user: RecordID, from start: Int64, to end: Int64, reason: String?, by office: OfficeUser) async throws -> RecordID {
        try requireDispatching(office)
        try await requireTechnician(user, tenant: office.tenant)
        guard start < end else { throw OfficeError(.invalid, "an absence must end after it starts") }
        let id = newID()
        var fields: [(String, FieldValue)] = [("user_id", .id(user)), ("starts_at", .timestamp(start)), ("ends_at", .timestamp(end))]
        if let reason { fields.append(("reason", .text(reason))) }
        try await edit([OfficeEdit("absences", id, fields)], by: office, tenant: office.tenant)
        return id
    }

    /// Removes an absence.
    public func removeAbsence(_ absence: RecordID, by office: OfficeUser) async throws {
        try requireDispatching(office)
        _ = try await record("absences", absence, tenant: office.tenant)
        try await edit([.delete("absences", absence)], by: office, tenant: office.tenant)
    }

    /// Every technician of the tenant with their resources, by name.
    public func technicians(by office: OfficeUser, now: Int64) async throws -> [TechnicianResources] {
        try requireDispatching(office)
        let tenant = office.tenant.uuidString
        var people: [RecordID: TechnicianResources] = [:]
        for row in try await pool.query("""
            SELECT u.id::text, coalesce(u.name, ''), p.start_latitude_e6, p.start_longitude_e6, p.workday_start_minute, p.workday_end_minute, p.working_days, p.daily_capacity,
                   (SELECT count(*) FROM work_orders w WHERE w.tenant_id = u.tenant_id AND w.assignee_id = u.id AND NOT w._deleted
                      AND coalesce(w.status, 'new') IN ('new', 'scheduled', 'on_hold', 'dispatched', 'en_route', 'on_site'))
            FROM users u
            LEFT JOIN LATERAL (SELECT * FROM technician_profiles p WHERE p.tenant_id = u.tenant_id AND p.user_id = u.id AND NOT p._deleted ORDER BY p.id LIMIT 1) p ON true
            WHERE u.tenant_id = $1 AND u.role = 'technician' AND NOT u._deleted
            """, [tenant]) {
            let id = try row.read(0, as: RecordID.self)
            var profile: TechnicianProfile?
            if let start = try row.read(4, as: Int64?.self), let end = try row.read(5, as: Int64?.self), let days = try row.read(6, as: Int64?.self),
               let capacity = try row.read(7, as: Int64?.self) {
                profile = TechnicianProfile(startLatitudeE6: try row.read(2, as: Int64?.self), startLongitudeE6: try row.read(3, as: Int64?.self),
                                            workdayStartMinute: Int(start), workdayEndMinute: Int(end), workingDays: Int(days), dailyCapacity: Int(capacity))
            }
            people[id] = TechnicianResources(id: id, name: try row.read(1, as: String.self), profile: profile, skills: [:], territories: [], absences: [],
                                             openWorkOrders: Int(try row.read(8, as: Int64.self)))
        }
        for row in try await pool.query("SELECT user_id::text, skill, level FROM technician_skills WHERE tenant_id = $1 AND NOT _deleted AND skill IS NOT NULL AND level IS NOT NULL", [tenant]) {
            guard let id = RecordID(try row.read(0, as: String.self)) else { continue }
            people[id]?.skills[try row.read(1, as: String.self)] = Int(try row.read(2, as: Int64.self))
        }
        for row in try await pool.query("SELECT user_id::text, territory_id::text FROM service_territories WHERE tenant_id = $1 AND NOT _deleted AND territory_id IS NOT NULL ORDER BY territory_id", [tenant]) {
            guard let id = RecordID(try row.read(0, as: String.self)) else { continue }
            people[id]?.territories.append(try row.read(1, as: RecordID.self))
        }
        for row in try await pool.query("""
            SELECT user_id::text, id::text, starts_at, ends_at, reason FROM absences WHERE tenant_id = $1 AND NOT _deleted AND ends_at > $2 ORDER BY starts_at, id
            """, [tenant, now]) {
            guard let id = RecordID(try row.read(0, as: String.self)) else { continue }
            people[id]?.absences.append((try row.read(1, as: RecordID.self), try row.read(2, as: Int64.self), try row.read(3, as: Int64.self),
                                         try row.read(4, as: String?.self)))
        }
        return people.values.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    // MARK: - Work-order types

    /// Creates or updates the type with `code`, its required skills set to exactly `skills`; returns its id.
    ///
    /// - Parameter steps: Its checklist, in order, when given: the steps take these places, labels
    ///   and kinds in order (answers already given stay with the step at their place), and steps
    ///   past the end are deleted; `nil` keeps the checklist.
    public func saveWorkOrderType(code: String, name: String, durationMinutes: Int, signatureRequired: Bool, active: Bool = true,
                                  skills: [String: Int], steps: [StepDefinition]? = nil, by office: OfficeUser) async throws -> RecordID {
        try requireDispatching(office)
        for step in steps ?? [] {
            guard FieldSalesSchema.stepAnswerKinds.contains(step.answerKind) else {
                throw OfficeError(.invalid, "a step's answer_kind is \(FieldSalesSchema.stepAnswerKinds.joined(separator: ", "))")
            }
            if let low = step.minValue, let high = step.maxValue, low > high { throw OfficeError(.invalid, "a step's min_value is at most its max_value") }
        }
        let existing = try await pool.query("SELECT id::text FROM work_order_types WHERE tenant_id = $1 AND code = $2 AND NOT _deleted ORDER BY id LIMIT 1",
                                            [office.tenant.uuidString, code]).first.flatMap { RecordID(try $0.read(0, as: String.self)) }
        let id = existing ?? newID()
        var edits = [OfficeEdit("work_order_types", id, [("code", .text(code)), ("name", .text(name)), ("duration_minutes", .integer(Int64(durationMinutes))),
                                                         ("signature_required", .bool(signatureRequired)), ("active", .bool(active))])]
        var kept: Set<String> = []
        if existing != nil {
            for row in try await pool.query("SELECT id::text, skill FROM work_order_type_skills WHERE tenant_id = $1 AND work_order_type_id = $2::uuid AND NOT _deleted ORDER BY id",
                                            [office.tenant.uuidString, id.uuidString]) {
                let skillID = try row.read(0, as: RecordID.self)
                if let skill = try row.read(1, as: String?.self), let level = skills[skill], !kept.contains(skill) {
                    kept.insert(skill)
                    edits.append(OfficeEdit("work_order_type_skills", skillID, [("min_level", .integer(Int64(level)))]))
                } else {
                    edits.append(.delete("work_order_type_skills", skillID))
                }
            }
        }
        for (skill, level) in skills.sorted(by: { $0.key < $1.key }) where !kept.contains(skill) {
            edits.append(OfficeEdit("work_order_type_skills", newID(), [("work_order_type_id", .id(id)), ("skill", .text(skill)), ("min_level", .integer(Int64(level)))]))
        }
        if let steps {
            let existingSteps = existing == nil ? [] : try await pool.query("""
                SELECT id::text FROM work_order_type_steps WHERE tenant_id = $1 AND work_order_type_id = $2::uuid AND NOT _deleted ORDER BY position, id
                """, [office.tenant.uuidString, id.uuidString]).map { RecordID(try $0.read(0, as: String.self))! }
            for (index, step) in steps.enumerated() {
                edits.append(OfficeEdit("work_order_type_steps", index < existingSteps.count ? existingSteps[index] : newID(), [
                    ("work_order_type_id", .id(id)), ("position", .integer(Int64(index))), ("label", .text(step.label)), ("answer_kind", .text(step.answerKind)),
                    ("required", .bool(step.required)), ("min_value", step.minValue.map(FieldValue.integer) ?? .null), ("max_value", step.maxValue.map(FieldValue.integer) ?? .null),
                ]))
            }
            for stale in existingSteps.dropFirst(steps.count) { edits.append(.delete("work_order_type_steps", stale)) }
        }
        try await edit(edits, by: office, tenant: office.tenant)
        return id
    }

    /// The tenant's work-order types, by code.
    public func workOrderTypes(tenant: RecordID) async throws -> [WorkOrderType] {
        var types: [RecordID: WorkOrderType] = [:]
        for row in try await pool.query("""
            SELECT id::text, coalesce(code, ''), coalesce(name, ''), coalesce(duration_minutes, 60), coalesce(signature_required, false), coalesce(active, true)
            FROM work_order_types WHERE tenant_id = $1 AND NOT _deleted
            """, [tenant.uuidString]) {
            let id = try row.read(0, as: RecordID.self)
            types[id] = WorkOrderType(id: id, code: try row.read(1, as: String.self), name: try row.read(2, as: String.self),
                                      durationMinutes: Int(try row.read(3, as: Int64.self)), signatureRequired: try row.read(4, as: Bool.self),
                                      active: try row.read(5, as: Bool.self), skills: [:])
        }
        for row in try await pool.query("SELECT work_order_type_id::text, skill, min_level FROM work_order_type_skills WHERE tenant_id = $1 AND NOT _deleted AND skill IS NOT NULL AND min_level IS NOT NULL",
                                        [tenant.uuidString]) {
            guard let id = try row.read(0, as: String?.self).flatMap({ RecordID($0) }) else { continue }
            types[id]?.skills[try row.read(1, as: String.self)] = Int(try row.read(2, as: Int64.self))
        }
        for row in try await pool.query("""
            SELECT work_order_type_id::text, coalesce(label, ''), coalesce(answer_kind, ''), coalesce(required, false), min_value, max_value
            FROM work_order_type_steps WHERE tenant_id = $1 AND NOT _deleted ORDER BY position, id
            """, [tenant.uuidString]) {
            guard let id = try row.read(0, as: String?.self).flatMap({ RecordID($0) }) else { continue }
            types[id]?.steps.append(StepDefinition(label: try row.read(1, as: String.self), answerKind: try row.read(2, as: String.self), required: try row.read(3, as: Bool.self),
                                                   minValue: try row.read(4, as: Int64?.self), maxValue: try row.read(5, as: Int64?.self)))
        }
        return types.values.sorted { ($0.code, $0.id) < ($1.code, $1.id) }
    }

    // MARK: - The office and dispatch's decisions

    /// Turns automatic dispatch on or off for one work order (`auto`, `manual`), or back to the tenant's setting (`nil`).
    public func setDispatchMode(_ order: RecordID, _ mode: String?, by office: OfficeUser) async throws {
        try requireDispatching(office)
        if let mode, !FieldSalesSchema.dispatchModes.contains(mode) { throw OfficeError(.invalid, "mode must be auto, manual or null") }
        _ = try await record("work_orders", order, tenant: office.tenant)
        try await requireInSight(customer: try await customer(of: "work_orders", order, tenant: office.tenant), of: office)
        try await edit([OfficeEdit("work_orders", order, [("dispatch_mode", mode.map(FieldValue.text) ?? .null)])], by: office, tenant: office.tenant)
    }

    /// Turns the tenant's automatic dispatch on or off (admins).
    public func setAutoDispatch(_ enabled: Bool, by office: OfficeUser) async throws {
        guard office.role == .admin else { throw OfficeError(.forbidden, "only an admin turns automatic dispatch on or off") }
        let row = try await pool.query("SELECT id::text FROM tenants WHERE tenant_id = $1 AND NOT _deleted ORDER BY id LIMIT 1", [office.tenant.uuidString]).first
        guard let id = try row.flatMap({ RecordID(try $0.read(0, as: String.self)) }) else { throw OfficeError(.notFound, "the tenant has no settings row") }
        // The tenant's row is the server's: written as the server, on the admin's request.
        try await edit([OfficeEdit("tenants", id, [("auto_dispatch", .bool(enabled))])], by: nil, tenant: office.tenant)
    }

    /// The decisions of automatic dispatch, newest first: of one work order, or in one review
    /// state; `limit` at a time before the decision number `before`.
    public func dispatchDecisions(workOrder: RecordID? = nil, review: String? = nil, limit: Int = 100, before: Int64? = nil,
                                  by office: OfficeUser) async throws -> [DispatchDecision] {
        try requireDispatching(office)
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "limit must be 1...\(Self.listPageMax)") }
        if let review, !["open", "accepted", "overridden", "superseded"].contains(review) {
            throw OfficeError(.invalid, "review must be open, accepted, overridden or superseded")
        }
        let sight = try await sight(of: office)
        var values: [any PostgresBindable] = [office.tenant.uuidString, limit]
        var conditions = ["d.tenant_id = $1"]
        if let workOrder { values.append(workOrder.uuidString); conditions.append("d.work_order_id = $\(values.count)::uuid") }
        if let review { values.append(review); conditions.append("d.review = $\(values.count)") }
        if let before { values.append(before); conditions.append("d.id < $\(values.count)") }
        if let territories = sight.territories {
            values.append(PostgresArray.literal(territories))
            conditions.append("""
                EXISTS (SELECT 1 FROM work_orders w JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
                        WHERE w.tenant_id = d.tenant_id AND w.id = d.work_order_id AND c.territory_id = ANY($\(values.count)::uuid[]))
                """)
        }
        return try await pool.query("""
            SELECT d.id, d.work_order_id::text, d.decided_at, d.outcome, d.technician_id::text, u.name, d.slot_start, d.slot_end, d.reason, d.review,
                   d.reviewed_by::text, d.reviewed_at
            FROM dispatch_decisions d LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.technician_id
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY d.id DESC LIMIT $2
            """, values).map { row in
            DispatchDecision(id: try row.read(0, as: Int64.self), workOrder: try row.read(1, as: RecordID.self), decidedAt: try row.read(2, as: Int64.self),
                             outcome: try row.read(3, as: String.self), technician: try row.read(4, as: String?.self).flatMap { RecordID($0) },
                             technicianName: try row.read(5, as: String?.self), slotStart: try row.read(6, as: Int64?.self), slotEnd: try row.read(7, as: Int64?.self),
                             reason: try row.read(8, as: String.self), review: try row.read(9, as: String.self),
                             reviewedBy: try row.read(10, as: String?.self).flatMap { RecordID($0) }, reviewedAt: try row.read(11, as: Int64?.self))
        }
    }

    /// Accepts an open assignment of automatic dispatch (the dispatcher has looked at it).
    ///
    /// - Throws: ``OfficeError/Code/invalidState`` for a wait, or a decision already reviewed or superseded.
    public func acceptDispatch(_ decision: Int64, by office: OfficeUser) async throws {
        try requireDispatching(office)
        guard let row = try await pool.query("SELECT work_order_id::text, outcome, review FROM dispatch_decisions WHERE tenant_id = $1 AND id = $2",
                                             [office.tenant.uuidString, decision]).first else {
            throw OfficeError(.notFound, "no dispatch decision \(decision)")
        }
        try await requireInSight(customer: try await customer(of: "work_orders", try row.read(0, as: RecordID.self), tenant: office.tenant), of: office)
        guard try row.read(1, as: String.self) == "assigned", try row.read(2, as: String.self) == "open" else {
            throw OfficeError(.invalidState, "only an open assignment is accepted; this one is \(try row.read(1, as: String.self)), \(try row.read(2, as: String.self))")
        }
        try await pool.query("UPDATE dispatch_decisions SET review = 'accepted', reviewed_by = $3::uuid, reviewed_at = $4 WHERE tenant_id = $1 AND id = $2 AND review = 'open'",
                             [office.tenant.uuidString, decision, office.user.uuidString, Int64(clock.milliseconds)])
    }

    /// Marks the open decision of `order` overridden when a dispatcher assigns it by hand to
    /// someone else than dispatch chose, or while it waited (accepted when to the same technician).
    func reviewDispatch(of order: RecordID, assignedTo technician: RecordID, by office: OfficeUser) async throws {
        try await pool.query("""
            UPDATE dispatch_decisions SET review = CASE WHEN outcome = 'assigned' AND technician_id = $3::uuid THEN 'accepted' ELSE 'overridden' END,
                   reviewed_by = $4::uuid, reviewed_at = $5
            WHERE tenant_id = $1 AND work_order_id = $2::uuid AND review = 'open'
            """, [office.tenant.uuidString, order.uuidString, technician.uuidString, office.user.uuidString, Int64(clock.milliseconds)])
    }
}
