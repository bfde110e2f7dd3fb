import FieldModel
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncWire
import Testing

@testable import SyncServer

/// The rep's visit planning and typed tasks against a real PostgreSQL (issue 20, item 4), with
/// hand-made change sets our phone never sends: a weekly plan's proposals lock once it is
/// submitted, only the rep's manager decides it, and its approval makes each proposed visit once;
/// recurring visit plans make dated visits once on two servers at once and re-plan their future
/// when edited; a typed task's answer of the wrong kind or out of range is flagged, and a
/// completion without it is incomplete.
@Suite("Visit planning")
struct VisitPlanningTests {
    /// The user who manages `rep` (their `manager_id`).
    static func manager(of rep: RecordID, in world: HostileWorld) async throws -> SyncStore.OfficeUser {
        let manager = try await world.pool.query("SELECT manager_id::text FROM users WHERE tenant_id = $1 AND id = $2::uuid", [world.tenant.uuidString, rep.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { RecordID($0) }
        return SyncStore.OfficeUser(user: try #require(manager), role: .manager, tenant: world.tenant)
    }

    @Test("a weekly plan: proposals lock when submitted, only the rep's manager decides, a return is reopened, the approval makes each visit once")
    func weeklyPlan() async throws {
        let world = try await HostileWorld.make("week-plans")
        let rep = try world.rep
        let manager = try await Self.manager(of: rep, in: world)
        let phone = try await world.phone(rep, .rep)
        let customer = try world.customers(of: rep).own
        let week = Int64(HostileWorld.now) + 7 * 86_400_000
        let plan = RecordID.random(), first = RecordID.random(), second = RecordID.random()
        func proposal(_ id: RecordID, hour: Int64) -> Change {
            phone.change("week_plan_visits", id, [("week_plan_id", .id(plan)), ("customer_id", .id(customer)), ("visit_type", .text("sales")),
                                                  ("planned_start", .timestamp(week + hour * 3_600_000)), ("planned_end", .timestamp(week + (hour + 1) * 3_600_000)),
                                                  ("purpose", .text("new listing"))])
        }
        let created = try await phone.push([
            phone.change("week_plans", plan, [("rep_id", .id(rep)), ("week_start", .timestamp(week)), ("status", .state(StateValue("draft")))]),
            proposal(first, hour: 9), proposal(second, hour: 11),
        ])
        #expect(created.allSatisfy { $0.result == .applied }, "\(created)")
        // Not yet submitted: the manager cannot decide it; the rep cannot approve their own.
        await #expect(throws: SyncStore.OfficeError.self) { _ = try await world.store.decideWeekPlan(plan, approve: true, note: nil, by: manager) }
        world.clock.advance(by: 1_000)
        #expect(try await phone.push("week_plans", plan, [("status", .state(StateValue("submitted")))]).result == .applied)
        world.clock.advance(by: 1_000)
        let approvedByRep = try await phone.push("week_plans", plan, [("status", .state(StateValue("approved")))])
        #expect(approvedByRep.result == .rejected, "\(approvedByRep)")
        // Submitted: its proposals no longer change.
        let locked = try await phone.push([phone.change("week_plan_visits", first, [("purpose", .text("changed my mind"))])])
        #expect(locked[0].result == .rejected && locked[0].findings.map(\.rule) == ["week_plan_locked"], "\(locked)")
        // Another team's manager may not decide it; a return says why.
        let managers = try world.users(.manager).filter { $0 != manager.user }
        if let other = managers.first {
            let stranger = SyncStore.OfficeUser(user: other, role: .manager, tenant: world.tenant)
            if try await !world.store.team(of: stranger).contains(where: { $0.user == rep }) {
                await #expect(throws: SyncStore.OfficeError.self) { _ = try await world.store.decideWeekPlan(plan, approve: true, note: nil, by: stranger) }
            }
        }
        await #expect(throws: SyncStore.OfficeError.self) { _ = try await world.store.decideWeekPlan(plan, approve: false, note: " ", by: manager) }
        let returned = try await world.store.decideWeekPlan(plan, approve: false, note: "Visit the new store on Tuesday too", by: manager)
        #expect(returned.status == "returned" && returned.decidedBy == manager.user && returned.visits.count == 2)
        // The rep reopens it (a new epoch), withdraws one, adds one and submits again.
        world.clock.advance(by: 1_000)
        let third = RecordID.random(), backwards = RecordID.random()
        let reopened = try await phone.push([
            phone.change("week_plans", plan, [("status", .state(StateValue("draft", epoch: 1)))]),
            Change(id: ChangeID(RecordID.random()), table: "week_plan_visits", record: second, operation: .delete,
                   version: Version(clock: HLC(milliseconds: world.clock.now()), replica: phone.replica)),
            proposal(third, hour: 33),
            // A hostile window that ends before it starts.
            phone.change("week_plan_visits", backwards, [("week_plan_id", .id(plan)), ("customer_id", .id(customer)), ("visit_type", .text("sales")),
                                                        ("planned_start", .timestamp(week + 40 * 3_600_000)), ("planned_end", .timestamp(week + 39 * 3_600_000))]),
            phone.change("week_plans", plan, [("status", .state(StateValue("submitted", epoch: 1)))]),
        ])
        #expect(reopened.allSatisfy { $0.result == .applied }, "\(reopened)")
        let approved = try await world.store.decideWeekPlan(plan, approve: true, note: nil, by: manager)
        #expect(approved.status == "approved" && approved.visits.map(\.id) == [first, third, backwards], "\(approved)")
        #expect(approved.visits.map(\.visit) == [first, third, backwards].map { VisitPlanning.weekPlanVisitID(proposal: $0) })
        let mended = try await world.store.record("visits", VisitPlanning.weekPlanVisitID(proposal: backwards), tenant: world.tenant)
        #expect(mended.timestamp("planned_end") == week + 41 * 3_600_000, "a window ending before it starts gets an hour")
        let visit = try await world.store.record("visits", VisitPlanning.weekPlanVisitID(proposal: third), tenant: world.tenant)
        #expect(visit.id("assignee_id") == rep && visit.id("week_plan_id") == plan && visit.timestamp("planned_start") == week + 33 * 3_600_000)
        #expect(visit.state()?.name == "planned" && visit.text("instructions") == "new listing" && visit.text("creation_mode") == "planned")
        // Approving again changes nothing; the withdrawn proposal made no visit.
        await #expect(throws: SyncStore.OfficeError.self) { _ = try await world.store.decideWeekPlan(plan, approve: true, note: nil, by: manager) }
        let made = try await world.pool.query("SELECT count(*) FROM visits WHERE tenant_id = $1 AND week_plan_id = $2::uuid", [world.tenant.uuidString, plan.uuidString])
        #expect(try made[0].read(0, as: Int64.self) == 3)
        // The list for the manager: the team's submitted plans, none now.
        #expect(try await world.store.weekPlans(status: "submitted", by: manager).isEmpty)
        #expect(try await world.store.weekPlans(rep: rep, by: manager).map(\.id) == [plan])
    }

    @Test("recurring visit plans make their visits once on two servers, re-plan when edited and stop when deactivated; visits already started stay")
    func recurring() async throws {
        let world = try await HostileWorld.make("visit-schedules")
        let rep = try world.rep
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let customer = try world.customers(of: rep).own
        let now = Int64(HostileWorld.now)  // Monday 2026-11-30, 14:00 UTC
        let rhythm = VisitPlanning.Schedule(everyWeeks: 1, weekday: 3, startMinute: 10 * 60, durationMinutes: 45, startsOn: now)
        let schedule = try await world.store.saveVisitSchedule(SyncStore.VisitSchedule(customer: customer, rep: rep, visitType: "merchandising", rhythm: rhythm, leadDays: 21),
                                                               by: dispatcher)
        let other = SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.clock))
        async let one = world.store.generateScheduledVisits(tenant: world.tenant, now: now)
        async let two = other.generateScheduledVisits(tenant: world.tenant, now: now)
        let runs = try await [one, two]
        // Each run made the three visits it found missing; at once, both may make them, and the merge keeps one of each.
        #expect(runs.map(\.created).contains(3), "\(runs)")
        #expect(try await world.store.generateScheduledVisits(tenant: world.tenant, now: now) == SyncStore.ScheduleRun())
        func visits() async throws -> [(start: Int64, status: String)] {
            try await world.pool.query("""
                SELECT planned_start, status FROM visits WHERE tenant_id = $1 AND schedule_id = $2::uuid ORDER BY planned_start
                """, [world.tenant.uuidString, schedule.uuidString]).map { (try $0.read(0, as: Int64.self), try $0.read(1, as: String.self)) }
        }
        // Wednesdays at 10:00 in the tenant's zone.
        let zone = try await world.pool.query("SELECT time_zone FROM tenants WHERE tenant_id = $1 LIMIT 1", [world.tenant.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { TimeZone(identifier: $0) } ?? TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let made = try await visits()
        #expect(made.count == 3 && made.allSatisfy { $0.status == "planned" })
        for visit in made {
            let date = Date(timeIntervalSince1970: Double(visit.start) / 1_000)
            #expect(calendar.component(.weekday, from: date) == 4 && calendar.component(.hour, from: date) == 10 && calendar.component(.minute, from: date) == 0)
        }
        // The rep starts the first visit; the plan moves to Thursdays: the other two are cancelled, three Thursdays made.
        let phone = try await world.phone(rep, .rep)
        let firstVisit = VisitPlanning.scheduledVisitID(schedule: schedule, start: made[0].start)
        world.clock.advance(by: 1_000)
        #expect(try await phone.push("visits", firstVisit, [("status", .state(StateValue("in_progress"))), ("actual_start", .timestamp(made[0].start))]).result != .rejected)
        var moved = rhythm
        moved.weekday = 4
        _ = try await world.store.saveVisitSchedule(SyncStore.VisitSchedule(customer: customer, rep: rep, visitType: "merchandising", rhythm: moved, leadDays: 21),
                                                    id: schedule, by: dispatcher)
        let replanned = try await world.store.generateScheduledVisits(tenant: world.tenant, now: now)
        #expect(replanned == SyncStore.ScheduleRun(created: 3, cancelled: 2), "\(replanned)")
        // Deactivated: its planned visits are cancelled; the one in progress stays the rep's.
        _ = try await world.store.saveVisitSchedule(SyncStore.VisitSchedule(customer: customer, rep: rep, visitType: "merchandising", rhythm: moved, leadDays: 21, active: false),
                                                    id: schedule, by: dispatcher)
        #expect(try await world.store.generateScheduledVisits(tenant: world.tenant, now: now) == SyncStore.ScheduleRun(cancelled: 3))
        let final = try await visits()
        #expect(final.filter { $0.status == "in_progress" }.count == 1 && final.filter { $0.status == "cancelled" }.count == 5, "\(final)")
        // The office's list, and what it refuses.
        #expect(try await world.store.visitSchedules(rep: rep, by: dispatcher).map(\.id) == [schedule])
        await #expect(throws: SyncStore.OfficeError.self) {
            _ = try await world.store.saveVisitSchedule(SyncStore.VisitSchedule(customer: customer, rep: try world.users(.technician)[0], rhythm: rhythm), by: dispatcher)
        }
    }

    @Test("typed tasks: an answer of another kind or out of range is flagged and kept; a completion without a required typed answer is incomplete")
    func typedTasks() async throws {
        let world = try await HostileWorld.make("typed-tasks")
        let rep = try world.rep
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let customer = try world.customers(of: rep).own
        let now = Int64(HostileWorld.now)
        await #expect(throws: SyncStore.OfficeError.self) {
            _ = try await world.store.createVisit(SyncStore.NewVisit(customer: customer, assignee: rep, visitType: "audit", plannedStart: now, plannedEnd: now + 3_600_000,
                                                                     tasks: [.init(type: "survey", required: true, label: "Colour?", answerKind: "colour")]), by: dispatcher)
        }
        let visit = try await world.store.createVisit(SyncStore.NewVisit(customer: customer, assignee: rep, visitType: "audit", plannedStart: now, plannedEnd: now + 3_600_000, tasks: [
            .init(type: "survey", required: true, label: "Promotion display in place?", answerKind: "yes_no"),
            .init(type: "survey", required: true, label: "Facings of our brand", answerKind: "number", minValue: 0, maxValue: 40),
        ]), by: dispatcher)
        let tasks = try await world.pool.query("SELECT id::text, label FROM visit_tasks WHERE tenant_id = $1 AND visit_id = $2::uuid ORDER BY answer_kind DESC",
                                               [world.tenant.uuidString, visit.uuidString]).map { (RecordID(try $0.read(0, as: String.self))!, try $0.read(1, as: String.self)) }
        #expect(tasks.map(\.1) == ["Promotion display in place?", "Facings of our brand"])
        let phone = try await world.phone(rep, .rep)
        world.clock.advance(by: 60_000)
        let answered = try await phone.push([
            phone.change("visit_tasks", tasks[0].0, [("status", .state(StateValue("done"))), ("result", .text("yes, I think"))]),
            phone.change("visit_tasks", tasks[1].0, [("status", .state(StateValue("done"))), ("number_value", .integer(55))]),
        ])
        #expect(answered.map(\.result) == [.appliedWithException, .appliedWithException], "\(answered)")
        #expect(answered[0].findings.map(\.rule) == ["task_answer_invalid"] && answered[1].findings.map(\.rule) == ["task_out_of_range"], "\(answered)")
        // Completed with the yes/no task answered in text: one required task still open.
        world.clock.advance(by: 60_000)
        let completed = try await phone.push([
            phone.change("visits", visit, [("status", .state(StateValue("in_progress"))), ("actual_start", .timestamp(now))]),
            phone.change("visits", visit, [("status", .state(StateValue("completed"))), ("actual_end", .timestamp(now + 1_800_000))]),
        ])
        #expect(completed[1].findings.contains { $0.rule == "incomplete_visit" && $0.message.contains("1 required task") }, "\(completed)")
    }
}
