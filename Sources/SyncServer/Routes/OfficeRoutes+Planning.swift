import FieldModel
import Hummingbird
import OfficeStore
import SyncCore
import SyncEngine
import SyncWire

/// The rep's visit planning from the office (issue 20, item 4; office.md, "Visit planning"):
/// weekly plans a manager approves or returns (`GET /v1/office/week-plans`,
/// `POST /v1/office/week-plans/{id}/approve|return`) and recurring visit plans
/// (`GET`/`POST /v1/office/visit-schedules`, `POST /v1/office/visit-schedules/{id}`,
/// `POST /v1/office/visit-schedules/run`).
extension OfficeRoutes {
    func registerPlanning(on office: RouterGroup<BasicRequestContext>) {
        office.get("week-plans") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let plans = try await self.store.weekPlans(status: query.text("status"), rep: try query.id("rep"), by: user)
            return JSONValue.fields([("week_plans", .array(plans.map(Self.json)))])
        } }
        for (path, approve) in [("week-plans/:id/approve", true), ("week-plans/:id/return", false)] {
            office.post(RouterPath(path)) { try await self.handle($0, $1, ["note"]) { user, body, _, context in
                Self.json(try await self.store.decideWeekPlan(try Self.id(context), approve: approve, note: try body.optionalText("note"), by: user))
            } }
        }
        office.get("visit-schedules") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let schedules = try await self.store.visitSchedules(rep: try query.id("rep"), customer: try query.id("customer"), by: user)
            return JSONValue.fields([("visit_schedules", .array(schedules.map { Self.json($0.id, $0.schedule) }))])
        } }
        office.post("visit-schedules") { try await self.handle($0, $1, Self.scheduleMembers) { user, body, _, _ in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.saveVisitSchedule(try Self.schedule(body), by: user)))])
        } }
        office.post("visit-schedules/run") { try await self.handle($0, $1, []) { user, _, _, _ in
            let run = try await self.store.generateScheduledVisits(now: Int64(self.wallClock.now()), by: user)
            return JSONValue.fields([("created", .integer(Int64(run.created))), ("updated", .integer(Int64(run.updated))), ("cancelled", .integer(Int64(run.cancelled)))])
        } }
        office.post("visit-schedules/:id") { try await self.handle($0, $1, Self.scheduleMembers) { user, body, _, context in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.saveVisitSchedule(try Self.schedule(body), id: try Self.id(context), by: user)))])
        } }
    }

    static func json(_ plan: SyncStore.WeekPlan) -> JSONValue {
        JSONValue.fields([
            ("id", OfficeJSON.id(plan.id)), ("rep_id", OfficeJSON.id(plan.rep)), ("week_start", OfficeJSON.time(plan.weekStart)), ("status", .string(plan.status)),
            ("note", .text(plan.note)), ("decision_note", .text(plan.decisionNote)), ("decided_by", OfficeJSON.id(plan.decidedBy)),
            ("visits", .array(plan.visits.map { proposal in
                JSONValue.fields([("id", OfficeJSON.id(proposal.id)), ("customer_id", OfficeJSON.id(proposal.customer)), ("visit_type", .text(proposal.visitType)),
                                  ("planned_start", OfficeJSON.time(proposal.plannedStart)), ("planned_end", OfficeJSON.time(proposal.plannedEnd)),
                                  ("purpose", .text(proposal.purpose)), ("visit_id", OfficeJSON.id(proposal.visit))])
            })),
        ])
    }

    static func json(_ id: RecordID, _ schedule: SyncStore.VisitSchedule) -> JSONValue {
        let rhythm = schedule.rhythm
        return JSONValue.fields([
            ("id", OfficeJSON.id(id)), ("customer_id", OfficeJSON.id(schedule.customer)), ("rep_id", OfficeJSON.id(schedule.rep)), ("visit_type", .string(schedule.visitType)),
            ("every_weeks", .integer(Int64(rhythm.everyWeeks))), ("weekday", .integer(Int64(rhythm.weekday))), ("start_minute", .integer(Int64(rhythm.startMinute))),
            ("duration_minutes", .integer(Int64(rhythm.durationMinutes))), ("starts_on", OfficeJSON.time(rhythm.startsOn)), ("ends_on", OfficeJSON.time(rhythm.endsOn)),
            ("lead_days", .integer(Int64(schedule.leadDays))), ("active", .bool(schedule.active)),
        ])
    }

    static let scheduleMembers: Set<String> = ["customer_id", "rep_id", "visit_type", "every_weeks", "weekday", "start_minute", "duration_minutes", "starts_on", "ends_on",
                                               "lead_days", "active"]

    static func schedule(_ body: OfficeBody) throws -> SyncStore.VisitSchedule {
        let rhythm = VisitPlanning.Schedule(everyWeeks: try body.optionalInteger("every_weeks").map { try within($0, 1...52, "every_weeks") } ?? 1,
                                            weekday: Int(try body.integer("weekday", in: 1...7)),
                                            startMinute: try body.optionalInteger("start_minute").map { try within($0, 0...1_439, "start_minute") } ?? 540,
                                            durationMinutes: try body.optionalInteger("duration_minutes").map { try within($0, 5...1_440, "duration_minutes") } ?? 60,
                                            startsOn: try body.time("starts_on"), endsOn: try body.optionalTime("ends_on"))
        return SyncStore.VisitSchedule(customer: try body.id("customer_id"), rep: try body.id("rep_id"), visitType: try body.optionalText("visit_type") ?? "sales",
                                       rhythm: rhythm, leadDays: try body.optionalInteger("lead_days").map { try within($0, 1...90, "lead_days") } ?? 14,
                                       active: try body.bool("active", default: true))
    }
}
