public import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Recurring visit plans (issue 20, item 4): the office says how often a rep visits a customer —
/// every N weeks, on a weekday, at a local time — and the job turns each plan into dated visits
/// `lead_days` ahead, planned and assigned to the rep, named by the plan. The job is idempotent: a
/// visit's id is derived from its plan and start (`VisitPlanning.scheduledVisitID`), so a second
/// run, or a run on another instance at the same moment, writes the same record. Editing a plan
/// re-plans its future: planned visits it no longer has are cancelled, those it still has follow
/// its rep and visit type; ending, deactivating or deleting it cancels its planned future ones.
/// Visits already started are the rep's and are left alone.
extension SyncStore {
    /// A recurring visit plan as the office writes and reads it.
    public struct VisitSchedule: Sendable, Hashable {
        /// The customer visited, by which rep, and the visit type.
        public var customer: RecordID, rep: RecordID, visitType: String
        /// The rhythm: every N weeks on a weekday at a local time, from a first day to an end.
        public var rhythm: VisitPlanning.Schedule
        /// How many days ahead visits are made.
        public var leadDays: Int
        /// Whether it makes visits.
        public var active: Bool

        /// A plan.
        public init(customer: RecordID, rep: RecordID, visitType: String = "sales", rhythm: VisitPlanning.Schedule, leadDays: Int = 14, active: Bool = true) {
            self.customer = customer
            self.rep = rep
            self.visitType = visitType
            self.rhythm = rhythm
            self.leadDays = leadDays
            self.active = active
        }
    }

    /// Creates a plan (or, with `id`, rewrites one); returns its id. The next run re-plans its visits.
    public func saveVisitSchedule(_ schedule: VisitSchedule, id existing: RecordID? = nil, by office: OfficeUser) async throws -> RecordID {
        guard office.role != .rep && office.role != .technician else { throw OfficeError(.forbidden, "only the office plans recurring visits") }
        if let end = schedule.rhythm.endsOn, end <= schedule.rhythm.startsOn { throw OfficeError(.invalid, "a plan ends after it starts") }
        if let existing { _ = try await record("visit_schedules", existing, tenant: office.tenant) }
        _ = try await record("customers", schedule.customer, tenant: office.tenant)
        try await requireInSight(customer: schedule.customer, of: office)
        try await requireInTeam(schedule.rep, of: office)
        let role = try await pool.query("SELECT role FROM users WHERE tenant_id = $1 AND id = $2::uuid AND NOT _deleted",
                                        [office.tenant.uuidString, schedule.rep.uuidString]).first.flatMap { try $0.read(0, as: String?.self) }
        guard role == Role.rep.name else { throw OfficeError(.invalid, "\(schedule.rep.uuidString) is not a rep") }
        let id = existing ?? newID()
        let rhythm = schedule.rhythm
        try await edit([OfficeEdit("visit_schedules", id, [
            ("customer_id", .id(schedule.customer)), ("rep_id", .id(schedule.rep)), ("visit_type", .text(schedule.visitType)),
            ("every_weeks", .integer(Int64(rhythm.everyWeeks))), ("weekday", .integer(Int64(rhythm.weekday))), ("start_minute", .integer(Int64(rhythm.startMinute))),
            ("duration_minutes", .integer(Int64(rhythm.durationMinutes))), ("starts_on", .timestamp(rhythm.startsOn)),
            ("ends_on", rhythm.endsOn.map(FieldValue.timestamp) ?? .null), ("lead_days", .integer(Int64(schedule.leadDays))), ("active", .bool(schedule.active)),
        ])], by: office, tenant: office.tenant)
        return id
    }

    /// The tenant's recurring plans (of one rep, or customer), with their ids, within the caller's team.
    public func visitSchedules(rep: RecordID? = nil, customer: RecordID? = nil, by office: OfficeUser) async throws -> [(id: RecordID, schedule: VisitSchedule)] {
        guard office.role != .rep && office.role != .technician else { throw OfficeError(.forbidden, "only the office reads recurring visit plans") }
        let team: Set<RecordID>? = office.role == .manager ? Set(try await team(of: office).map(\.user)) : nil
        return try await schedules(tenant: office.tenant, all: false).filter { found in
            (rep == nil || found.schedule.rep == rep) && (customer == nil || found.schedule.customer == customer) && (team?.contains(found.schedule.rep) ?? true)
        }.map { ($0.id, $0.schedule) }
    }

    private func schedules(tenant: RecordID, all: Bool) async throws -> [(id: RecordID, schedule: VisitSchedule, live: Bool)] {
        try await pool.query("""
            SELECT id::text, customer_id::text, rep_id::text, coalesce(visit_type, 'sales'), coalesce(every_weeks, 1), coalesce(weekday, 1),
                   coalesce(start_minute, 540), coalesce(duration_minutes, 60), coalesce(starts_on, 0), ends_on, coalesce(lead_days, 14), coalesce(active, true), _deleted
            FROM visit_schedules WHERE tenant_id = $1 AND ($2 OR NOT _deleted) ORDER BY id
            """, [tenant.uuidString, all]).compactMap { row in
            guard let id = RecordID(try row.read(0, as: String.self)), let customer = try row.read(1, as: String?.self).flatMap({ RecordID($0) }),
                  let rep = try row.read(2, as: String?.self).flatMap({ RecordID($0) }) else { return nil }
            let rhythm = VisitPlanning.Schedule(everyWeeks: Int(try row.read(4, as: Int64.self)), weekday: Int(try row.read(5, as: Int64.self)),
                                                startMinute: Int(try row.read(6, as: Int64.self)), durationMinutes: Int(try row.read(7, as: Int64.self)),
                                                startsOn: try row.read(8, as: Int64.self), endsOn: try row.read(9, as: Int64?.self))
            let schedule = VisitSchedule(customer: customer, rep: rep, visitType: try row.read(3, as: String.self), rhythm: rhythm,
                                         leadDays: Int(try row.read(10, as: Int64.self)), active: try row.read(11, as: Bool.self))
            let deleted = try row.read(12, as: Bool.self)
            return (id, schedule, schedule.active && !deleted)
        }
    }

    /// What one run of the recurring-visit job did.
    public struct ScheduleRun: Sendable, Hashable {
        /// Visits created, updated to the plan's new rep or type, and cancelled.
        public var created = 0, updated = 0, cancelled = 0

        /// A run's counts.
        public init(created: Int = 0, updated: Int = 0, cancelled: Int = 0) {
            (self.created, self.updated, self.cancelled) = (created, updated, cancelled)
        }
    }

    /// Creates, updates and cancels the tenant's scheduled visits as of `now` (the job; see the type's discussion).
    @discardableResult
    public func generateScheduledVisits(tenant: RecordID, now: Int64) async throws -> ScheduleRun {
        let plans = try await schedules(tenant: tenant, all: true)
        guard !plans.isEmpty else { return ScheduleRun() }
        let zone = try await timeZone(of: tenant)
        // The plans' visits from now on, as they stand: still planned (the plan's to change) or not.
        var existing: [RecordID: (schedule: RecordID, planned: Bool, rep: RecordID?, visitType: String?, epoch: UInt32)] = [:]
        for row in try await pool.query("""
            SELECT id::text, schedule_id::text, coalesce(status, 'planned') = 'planned' AND NOT _deleted, assignee_id::text, visit_type, coalesce(status__epoch, 0)
            FROM visits WHERE tenant_id = $1 AND schedule_id = ANY($2::uuid[]) AND planned_start >= $3
            """, [tenant.uuidString, PostgresArray.literal(plans.map(\.id)), now]) {
            guard let id = RecordID(try row.read(0, as: String.self)), let schedule = try row.read(1, as: String?.self).flatMap({ RecordID($0) }) else { continue }
            existing[id] = (schedule, try row.read(2, as: Bool.self), try row.read(3, as: String?.self).flatMap { RecordID($0) }, try row.read(4, as: String?.self),
                            UInt32(clamping: try row.read(5, as: Int64.self)))
        }
        var run = ScheduleRun()
        var edits: [OfficeEdit] = []
        for (id, plan, live) in plans {
            let starts = live ? plan.rhythm.starts(from: now, to: now + Int64(plan.leadDays) * 86_400_000, zone: zone) : []
            let wanted = Dictionary(starts.map { (VisitPlanning.scheduledVisitID(schedule: id, start: $0), $0) }, uniquingKeysWith: { first, _ in first })
            for (visit, start) in wanted.sorted(by: { $0.value < $1.value }) {
                if let found = existing[visit] {
                    guard found.planned, found.rep != plan.rep || found.visitType != plan.visitType else { continue }
                    edits.append(OfficeEdit("visits", visit, [("assignee_id", .id(plan.rep)), ("visit_type", .text(plan.visitType))]))
                    run.updated += 1
                } else {
                    edits.append(OfficeEdit("visits", visit, [
                        ("customer_id", .id(plan.customer)), ("assignee_id", .id(plan.rep)), ("visit_type", .text(plan.visitType)),
                        ("planned_start", .timestamp(start)), ("planned_end", .timestamp(start + Int64(plan.rhythm.durationMinutes) * 60_000)),
                        ("status", .state(StateValue("planned"))), ("creation_mode", .text("planned")), ("schedule_id", .id(id)),
                    ]))
                    run.created += 1
                }
            }
            for (visit, found) in existing where found.schedule == id && found.planned && wanted[visit] == nil {
                edits.append(OfficeEdit("visits", visit, [("status", .state(StateValue("cancelled", epoch: found.epoch)))]))
                run.cancelled += 1
            }
        }
        for start in stride(from: 0, to: edits.count, by: 100) {
            try await edit(Array(edits[start..<min(start + 100, edits.count)]), by: nil, tenant: tenant)
        }
        return run
    }

    /// The office's "generate now": the job, for the caller's tenant.
    public func generateScheduledVisits(now: Int64, by office: OfficeUser) async throws -> ScheduleRun {
        guard office.role != .rep && office.role != .technician else { throw OfficeError(.forbidden, "only the office plans recurring visits") }
        return try await generateScheduledVisits(tenant: office.tenant, now: now)
    }

    /// Every tenant with a recurring visit plan, for the job.
    public func tenantsWithVisitSchedules() async throws -> [RecordID] {
        try await pool.query("SELECT DISTINCT tenant_id::text FROM visit_schedules").compactMap { RecordID(try $0.read(0, as: String.self)) }
    }
}
