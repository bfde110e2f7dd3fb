public import SyncEngine
public import FieldModel
import Foundation
import PostgresDriver
public import SyncCore

/// Automatic dispatch on the server (issue 19, item 2): the open, unassigned work orders of a
/// tenant are planned by ``DispatchPlanner`` against the technicians' resources, and each
/// assignment is written through the same merge path as any office write — a change set of the
/// server's replica, judged and fed to the technician's phone like a dispatcher's. Every decision,
/// an assignment or a wait, is kept in `dispatch_decisions` with its reason for the dispatcher,
/// who accepts it, overrides it (assigns someone else by hand), or turns dispatch off for the
/// work order (`dispatch_mode` `manual`) or the tenant (`tenants.auto_dispatch`).
extension SyncStore {
    /// One decision of automatic dispatch, as the office sees it.
    public struct DispatchDecision: Sendable, Hashable {
        /// Its number (ascending in time, per tenant).
        public var id: Int64
        /// The work order.
        public var workOrder: RecordID
        /// When it was made (ms since the epoch).
        public var decidedAt: Int64
        /// `assigned` or `waiting`.
        public var outcome: String
        /// The technician chosen, and their name.
        public var technician: RecordID?, technicianName: String?
        /// The booked slot.
        public var slotStart: Int64?, slotEnd: Int64?
        /// Why.
        public var reason: String
        /// `open`, `accepted`, `overridden` or `superseded` (a later decision replaced it).
        public var review: String
        /// Who accepted or overrode it, and when.
        public var reviewedBy: RecordID?, reviewedAt: Int64?
    }

    /// The advisory lock class of a tenant's dispatch run ("disp"), so two servers never plan one tenant at once.
    static let dispatchLockClass: Int32 = 0x6469_7370

    /// Plans and assigns the tenant's open, unassigned work orders that automatic dispatch may take
    /// (their `dispatch_mode` is `auto`, or unset while the tenant's `auto_dispatch` is on), or
    /// exactly `only` when given (a dispatcher's "dispatch these now", which ignores the modes).
    /// Returns the decisions made; a run that finds another server already planning the tenant
    /// returns none. Idempotent: a work order assigned by one run is not open for the next, and a
    /// waiting one is recorded again only when its reason changes.
    ///
    /// - Parameter office: who asked (their sight limits the work orders), or `nil` for the job.
    @discardableResult
    public func autoDispatch(tenant: RecordID, now: Int64, only: [RecordID]? = nil, by office: OfficeUser? = nil) async throws -> [DispatchDecision] {
        if let office { try requireDispatching(office) }
        let sight = if let office { try await self.sight(of: office, now: now) } else { OfficeSight.tenant }
        return try await pool.withConnection { lock in
            guard try await lock.query("SELECT pg_try_advisory_lock($1, hashtext($2))", [Self.dispatchLockClass, tenant.uuidString]).first?.read(0, as: Bool.self) == true else {
                return []
            }
            do {
                let decisions = try await self.dispatch(tenant: tenant, now: now, only: only, sight: sight, by: office)
                _ = try await lock.query("SELECT pg_advisory_unlock($1, hashtext($2))", [Self.dispatchLockClass, tenant.uuidString])
                return decisions
            } catch {
                _ = try? await lock.query("SELECT pg_advisory_unlock($1, hashtext($2))", [Self.dispatchLockClass, tenant.uuidString])
                throw error
            }
        }
    }

    /// Every tenant whose automatic dispatch is on, or that has work orders set to `auto`, for the job.
    public func tenantsDispatchingAutomatically() async throws -> [RecordID] {
        try await pool.query("""
            SELECT id::text FROM tenants WHERE tenant_id = id AND auto_dispatch AND NOT _deleted
            UNION SELECT DISTINCT tenant_id::text FROM work_orders WHERE dispatch_mode = 'auto' AND assignee_id IS NULL AND status IN ('new', 'scheduled') AND NOT _deleted
            """).compactMap { RecordID(try $0.read(0, as: String.self)) }
    }

    // MARK: - The steps of a run

    /// The plan a run would make now, read and computed but not written (what the bench times, and a dry run).
    public func dispatchPlan(tenant: RecordID, now: Int64, only: [RecordID]? = nil) async throws -> [DispatchPlanner.Decision] {
        try await plan(tenant: tenant, now: now, only: only, sight: .tenant).plan
    }

    /// Reads what a run needs and plans it.
    private func plan(tenant: RecordID, now: Int64, only: [RecordID]?, sight: OfficeSight)
        async throws -> (plan: [DispatchPlanner.Decision], jobs: [(job: DispatchPlanner.Job, status: StateValue)]) {
        let settings = try await dispatchSettings(tenant: tenant)
        let jobs = try await openJobs(tenant: tenant, only: only, automatic: settings.automatic, sight: sight)
        guard !jobs.isEmpty else { return ([], []) }
        let technicians = try await dispatchTechnicians(tenant: tenant, now: now)
        return (DispatchPlanner.plan(jobs: jobs.map(\.job), technicians: technicians, now: now, timeZone: settings.timeZone), jobs)
    }

    private func dispatch(tenant: RecordID, now: Int64, only: [RecordID]?, sight: OfficeSight, by office: OfficeUser?) async throws -> [DispatchDecision] {
        let (plan, jobs) = try await plan(tenant: tenant, now: now, only: only, sight: sight)
        guard !jobs.isEmpty else { return [] }
        let previous = try await latestReasons(tenant: tenant, of: jobs.map(\.job.id))
        let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.job.id, $0) })
        var edits: [OfficeEdit] = []
        var recorded: [DispatchPlanner.Decision] = []
        for decision in plan {
            if let assignment = decision.assignment {
                var fields: [(String, FieldValue)] = [
                    ("assignee_id", .id(assignment.technician)), ("scheduled_start", .timestamp(assignment.time.start)),
                    ("scheduled_end", .timestamp(assignment.time.end)), ("dispatch_reason", .text(decision.reason)),
                    ("status", .state(StateValue("dispatched", epoch: byID[decision.job]?.status.epoch ?? 0))),
                ]
                if byID[decision.job]?.job.windowStart == nil {
                    fields += [("window_start", .timestamp(assignment.time.start)), ("window_end", .timestamp(assignment.time.end))]
                }
                edits.append(OfficeEdit("work_orders", decision.job, fields))
                recorded.append(decision)
            } else if previous[decision.job] != decision.reason {
                edits.append(OfficeEdit("work_orders", decision.job, [("dispatch_reason", .text(decision.reason))]))
                recorded.append(decision)
            }
        }
        let refused = try await writeDispatch(edits, tenant: tenant)
        // An assignment the merge path refused (the work order moved on meanwhile) is recorded as a wait, with the refusal.
        recorded = recorded.map { decision in
            guard let message = refused[decision.job] else { return decision }
            return DispatchPlanner.Decision(job: decision.job, assignment: nil, reason: "waiting: the assignment was refused: \(message)")
        }
        return try await record(recorded, tenant: tenant, now: now)
    }

    /// The tenant's time zone and whether it dispatches automatically.
    private func dispatchSettings(tenant: RecordID) async throws -> (timeZone: TimeZone, automatic: Bool) {
        let row = try await pool.query("SELECT time_zone, coalesce(auto_dispatch, false) FROM tenants WHERE tenant_id = $1 AND id = $1", [tenant.uuidString]).first
        let zone = try row?.read(0, as: String?.self).flatMap { TimeZone(identifier: $0) } ?? TimeZone(identifier: "UTC")!
        return (zone, try row?.read(1, as: Bool.self) ?? false)
    }

    /// The work orders a run plans: open (`new` or `scheduled`), unassigned, not deleted, in the
    /// caller's sight, with their customer's territory and place and their type's duration and skills.
    private func openJobs(tenant: RecordID, only: [RecordID]?, automatic: Bool, sight: OfficeSight) async throws -> [(job: DispatchPlanner.Job, status: StateValue)] {
        var conditions = ["w.tenant_id = $1", "NOT w._deleted", "w.assignee_id IS NULL", "coalesce(w.status, 'new') IN ('new', 'scheduled')"]
        var values: [any PostgresBindable] = [tenant.uuidString]
        if let only {
            values.append(PostgresArray.literal(only))
            conditions.append("w.id = ANY($\(values.count)::uuid[])")
        } else {
            conditions.append(automatic ? "coalesce(w.dispatch_mode, 'auto') = 'auto'" : "w.dispatch_mode = 'auto'")
        }
        if let territories = sight.territories {
            values.append(PostgresArray.literal(territories))
            conditions.append("c.territory_id = ANY($\(values.count)::uuid[])")
        }
        let rows = try await pool.query("""
            SELECT w.id::text, c.territory_id::text, c.latitude_e6, c.longitude_e6, coalesce(t.duration_minutes, 60), coalesce(w.priority, 'normal'),
                   w.window_start, w.window_end, coalesce(w.status, 'new'), coalesce(w.status__epoch, 0), t.id::text
            FROM work_orders w
            LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
            LEFT JOIN LATERAL (SELECT id, duration_minutes FROM work_order_types t WHERE t.tenant_id = w.tenant_id AND t.code = w.work_type
                               AND NOT t._deleted AND coalesce(t.active, true) ORDER BY t.id LIMIT 1) t ON true
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY w.id LIMIT 5000
            """, values)
        // Each type's required skills (the highest level named, should a skill be listed twice).
        var required: [String: [String: Int]] = [:]
        for row in try await pool.query("""
            SELECT work_order_type_id::text, skill, min_level FROM work_order_type_skills
            WHERE tenant_id = $1 AND NOT _deleted AND skill IS NOT NULL AND min_level IS NOT NULL
            """, [tenant.uuidString]) {
            let type = try row.read(0, as: String.self), skill = try row.read(1, as: String.self)
            let level = max(Int(try row.read(2, as: Int64.self)), required[type]?[skill] ?? 0)
            required[type, default: [:]][skill] = level
        }
        return try rows.map { row in
            let location = Coordinate.at(latitudeE6: try row.read(2, as: Int64?.self), longitudeE6: try row.read(3, as: Int64?.self))
            let job = DispatchPlanner.Job(id: try row.read(0, as: RecordID.self), territory: try row.read(1, as: String?.self).flatMap { RecordID($0) },
                                          location: location, requiredSkills: try row.read(10, as: String?.self).flatMap { required[$0] } ?? [:],
                                          durationMinutes: Int(try row.read(4, as: Int64.self)), priority: try row.read(5, as: String.self),
                                          windowStart: try row.read(6, as: Int64?.self), windowEnd: try row.read(7, as: Int64?.self))
            return (job, StateValue(try row.read(8, as: String.self), epoch: UInt32(clamping: try row.read(9, as: Int64.self))))
        }
    }

    /// Every technician with a working week, their skills, territories, absences ahead and bookings.
    private func dispatchTechnicians(tenant: RecordID, now: Int64) async throws -> [DispatchPlanner.Technician] {
        let rows = try await pool.query("""
            SELECT u.id::text, p.start_latitude_e6, p.start_longitude_e6, p.workday_start_minute, p.workday_end_minute, p.working_days, p.daily_capacity
            FROM users u
            JOIN LATERAL (SELECT * FROM technician_profiles p WHERE p.tenant_id = u.tenant_id AND p.user_id = u.id AND NOT p._deleted ORDER BY p.id LIMIT 1) p ON true
            WHERE u.tenant_id = $1 AND u.role = 'technician' AND NOT u._deleted
              AND p.workday_start_minute IS NOT NULL AND p.workday_end_minute IS NOT NULL AND p.working_days IS NOT NULL AND p.daily_capacity IS NOT NULL
            ORDER BY u.id
            """, [tenant.uuidString])
        var technicians: [RecordID: DispatchPlanner.Technician] = [:]
        for row in rows {
            let id = try row.read(0, as: RecordID.self)
            technicians[id] = DispatchPlanner.Technician(
                id: id, skills: [:], territories: [],
                start: Coordinate.at(latitudeE6: try row.read(1, as: Int64?.self), longitudeE6: try row.read(2, as: Int64?.self)),
                workdayStartMinute: Int(try row.read(3, as: Int64.self)), workdayEndMinute: Int(try row.read(4, as: Int64.self)),
                workingDays: Int(try row.read(5, as: Int64.self)), dailyCapacity: Int(try row.read(6, as: Int64.self)))
        }
        guard !technicians.isEmpty else { return [] }
        let ids = PostgresArray.literal(Array(technicians.keys))
        for row in try await pool.query("""
            SELECT user_id::text, skill, level FROM technician_skills
            WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND NOT _deleted AND skill IS NOT NULL AND level IS NOT NULL
            """, [tenant.uuidString, ids]) {
            let id = try row.read(0, as: RecordID.self), skill = try row.read(1, as: String.self)
            let level = max(Int(try row.read(2, as: Int64.self)), technicians[id]?.skills[skill] ?? 0)
            technicians[id]?.skills[skill] = level
        }
        for row in try await pool.query("""
            SELECT user_id::text, territory_id::text FROM service_territories
            WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND NOT _deleted AND territory_id IS NOT NULL
            """, [tenant.uuidString, ids]) {
            technicians[try row.read(0, as: RecordID.self)]?.territories.insert(try row.read(1, as: RecordID.self))
        }
        for row in try await pool.query("""
            SELECT user_id::text, starts_at, ends_at FROM absences
            WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND NOT _deleted AND ends_at > $3 AND starts_at < ends_at
            """, [tenant.uuidString, ids, now]) {
            let id = try row.read(0, as: RecordID.self)
            technicians[id]?.absences.append(DispatchPlanner.Interval(start: try row.read(1, as: Int64.self), end: try row.read(2, as: Int64.self)))
        }
        // Bookings: open work orders with a slot (the appointment, or else the window) that ends after a day ago.
        for row in try await pool.query("""
            SELECT w.assignee_id::text, w.id::text, coalesce(w.scheduled_start, w.window_start), coalesce(w.scheduled_end, w.window_end), c.latitude_e6, c.longitude_e6
            FROM work_orders w LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
            WHERE w.tenant_id = $1 AND w.assignee_id = ANY($2::uuid[]) AND NOT w._deleted
              AND coalesce(w.status, 'new') IN ('new', 'scheduled', 'on_hold', 'dispatched', 'en_route', 'on_site')
              AND coalesce(w.scheduled_start, w.window_start) IS NOT NULL AND coalesce(w.scheduled_end, w.window_end) > $3
              AND coalesce(w.scheduled_end, w.window_end) > coalesce(w.scheduled_start, w.window_start)
            ORDER BY 3, 2
            """, [tenant.uuidString, ids, now - 86_400_000]) {
            let id = try row.read(0, as: RecordID.self)
            technicians[id]?.bookings.append(DispatchPlanner.Booking(
                workOrder: try row.read(1, as: RecordID.self),
                time: DispatchPlanner.Interval(start: try row.read(2, as: Int64.self), end: try row.read(3, as: Int64.self)),
                location: Coordinate.at(latitudeE6: try row.read(4, as: Int64?.self), longitudeE6: try row.read(5, as: Int64?.self))))
        }
        return technicians.values.sorted { $0.id < $1.id }
    }

    /// The reason of each work order's latest decision.
    private func latestReasons(tenant: RecordID, of workOrders: [RecordID]) async throws -> [RecordID: String] {
        var reasons: [RecordID: String] = [:]
        for row in try await pool.query("""
            SELECT DISTINCT ON (work_order_id) work_order_id::text, reason FROM dispatch_decisions
            WHERE tenant_id = $1 AND work_order_id = ANY($2::uuid[]) ORDER BY work_order_id, id DESC
            """, [tenant.uuidString, PostgresArray.literal(workOrders)]) {
            reasons[try row.read(0, as: RecordID.self)] = try row.read(1, as: String.self)
        }
        return reasons
    }

    /// Writes the assignments a hundred work orders to a change set; a change set refused as a
    /// whole is retried one work order at a time, so one refusal (a work order cancelled in the
    /// meantime) never holds back the others.
    /// Returns the work orders refused, with the refusal.
    private func writeDispatch(_ edits: [OfficeEdit], tenant: RecordID) async throws -> [RecordID: String] {
        var refused: [RecordID: String] = [:]
        for start in stride(from: 0, to: edits.count, by: 100) {
            let chunk = Array(edits[start..<min(start + 100, edits.count)])
            do {
                try await edit(chunk, by: nil, tenant: tenant)
            } catch let error as OfficeError where error.code == .rejected || error.code == .invalid {
                for single in chunk {
                    do {
                        try await edit([single], by: nil, tenant: tenant)
                    } catch let error as OfficeError where error.code == .rejected || error.code == .invalid {
                        refused[single.record] = error.message
                    }
                }
            }
        }
        return refused
    }

    /// Records `decisions` and supersedes the open ones they replace.
    private func record(_ decisions: [DispatchPlanner.Decision], tenant: RecordID, now: Int64) async throws -> [DispatchDecision] {
        guard !decisions.isEmpty else { return [] }
        let ids = PostgresArray.literal(decisions.map(\.job))
        try await pool.query("""
            UPDATE dispatch_decisions SET review = 'superseded' WHERE tenant_id = $1 AND work_order_id = ANY($2::uuid[]) AND review = 'open'
            """, [tenant.uuidString, ids])
        let rows = try await pool.query("""
            INSERT INTO dispatch_decisions (tenant_id, work_order_id, decided_at, outcome, technician_id, slot_start, slot_end, reason)
            SELECT $1, w, $3, CASE WHEN t IS NULL THEN 'waiting' ELSE 'assigned' END, t, s, e, r
            FROM unnest($2::uuid[], $4::uuid[], $5::bigint[], $6::bigint[], $7::text[]) AS d(w, t, s, e, r)
            RETURNING id, work_order_id::text
            """, [tenant.uuidString, ids, now,
                  "{" + decisions.map { $0.assignment?.technician.uuidString ?? "NULL" }.joined(separator: ",") + "}",
                  "{" + decisions.map { $0.assignment.map { String($0.time.start) } ?? "NULL" }.joined(separator: ",") + "}",
                  "{" + decisions.map { $0.assignment.map { String($0.time.end) } ?? "NULL" }.joined(separator: ",") + "}",
                  PostgresArray.literal(decisions.map(\.reason))])
        var numbers: [RecordID: Int64] = [:]
        for row in rows { numbers[try row.read(1, as: RecordID.self)] = try row.read(0, as: Int64.self) }
        return decisions.map { decision in
            DispatchDecision(id: numbers[decision.job] ?? 0, workOrder: decision.job, decidedAt: now, outcome: decision.assignment == nil ? "waiting" : "assigned",
                             technician: decision.assignment?.technician, technicianName: nil, slotStart: decision.assignment?.time.start,
                             slotEnd: decision.assignment?.time.end, reason: decision.reason, review: "open", reviewedBy: nil, reviewedAt: nil)
        }
    }

}
