import DeviceStore
import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import Testing

@testable import SyncServer

/// The rep's own planning, end to end (issue 20, item 4): a weekly plan proposed offline on the
/// phone, returned by the manager with a note, reopened, fixed and approved — its visits arrive on
/// the phone; a recurring visit plan's visits arrive too; a visit's typed tasks answered on the
/// phone with their kinds, a number out of range warned on the phone and flagged on arrival.
extension StoryTests {
    @Test("a weekly plan proposed offline, returned, reopened and approved: its visits arrive on the phone; a recurring plan's visits too")
    func weeklyPlan() async throws {
        try await W.run("story-week-plan") { world in
            let repID = try world.users(.rep)[0]
            let managerID = try await world.pool.query("SELECT manager_id::text FROM users WHERE tenant_id = $1 AND id = $2::uuid", [world.tenant.uuidString, repID.uuidString])
                .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { RecordID($0) }
            let manager = SyncStore.OfficeUser(user: try #require(managerID), role: .manager, tenant: world.tenant)
            let rep = try await world.phone(repID, role: .rep)
            let customers = try await rep.mondayVisits().map(\.customerID)
            let nextMonday = W.monday + 7 * 86_400_000
            // Offline: next week's plan, two visits proposed, one withdrawn, one more, submitted.
            let plan = try await rep.store.createWeekPlan(weekStart: nextMonday, note: "Focus on the new range").record
            await #expect(throws: StoreError.self) { _ = try await rep.store.createWeekPlan(weekStart: nextMonday) }
            await #expect(throws: StoreError.self) { _ = try await rep.store.submitWeekPlan(plan) }
            let first = try await rep.store.proposeVisit(plan: plan, customer: customers[0], start: W.at(7 * 24 + 9), end: W.at(7 * 24 + 10), purpose: "tasting").record
            let withdrawn = try await rep.store.proposeVisit(plan: plan, customer: customers[1], start: W.at(7 * 24 + 11), end: W.at(7 * 24 + 12)).record
            await #expect(throws: StoreError.self) { _ = try await rep.store.proposeVisit(plan: plan, customer: customers[1], start: W.at(30 * 24), end: W.at(30 * 24 + 1)) }
            _ = try await rep.store.withdrawProposal(withdrawn)
            _ = try await rep.store.submitWeekPlan(plan)
            await #expect(throws: StoreError.self) { _ = try await rep.store.proposeVisit(plan: plan, customer: customers[1], start: W.at(7 * 24 + 13), end: W.at(7 * 24 + 14)) }
            try await rep.sync()
            // The manager returns it; the rep sees why, reopens, adds a visit, submits again.
            let submitted = try await world.store.weekPlans(status: "submitted", by: manager)
            #expect(submitted.map(\.id) == [plan] && submitted[0].visits.map(\.id) == [first] && submitted[0].note == "Focus on the new range", "\(submitted)")
            _ = try await world.store.decideWeekPlan(plan, approve: false, note: "Add the Wednesday call", by: manager)
            try await rep.sync(until: { try await $0.read(.weekPlans).first?.status == "returned" })
            #expect(try await rep.store.read(.weekPlans).first?.decisionNote == "Add the Wednesday call")
            _ = try await rep.store.reopenWeekPlan(plan)
            let added = try await rep.store.proposeVisit(plan: plan, customer: customers[1], start: W.at(9 * 24 + 15), end: W.at(9 * 24 + 16), visitType: "merchandising").record
            _ = try await rep.store.submitWeekPlan(plan)
            let outcomes = try await rep.sync()
            #expect(outcomes.allSatisfy { $0.result != "rejected" }, "\(outcomes)")
            // Approved: the visits are made and reach the phone, named by their proposals.
            let approved = try await world.store.decideWeekPlan(plan, approve: true, note: "Good week", by: manager)
            #expect(approved.visits.map(\.visit) == [first, added].map { VisitPlanning.weekPlanVisitID(proposal: $0) }, "\(approved)")
            try await rep.sync(until: { try await $0.read(.weekPlans).first?.proposals.allSatisfy { $0.visit != nil } == true })
            let onPhone = try #require(try await rep.store.read(.weekPlans).first)
            #expect(onPhone.status == "approved" && onPhone.proposals.map(\.id) == [first, added])
            let planned = try await rep.store.visits(from: nextMonday, to: nextMonday + 7 * 86_400_000)
            #expect(Set(planned.map(\.id)).isSuperset(of: onPhone.proposals.compactMap(\.visit)), "\(planned)")
            // A recurring plan: every Thursday at 08:00 for the first customer, made by the job and synced.
            let dispatcher = try world.office(.dispatcher)
            let schedule = try await world.store.saveVisitSchedule(SyncStore.VisitSchedule(
                customer: customers[0], rep: repID, rhythm: VisitPlanning.Schedule(everyWeeks: 1, weekday: 4, startMinute: 480, durationMinutes: 30, startsOn: W.monday),
                leadDays: 14), by: dispatcher)
            let run = try await world.store.generateScheduledVisits(tenant: world.tenant, now: W.at(0))
            #expect(run.created == 2, "\(run)")
            try await rep.sync(until: { store in
                try await store.visits(from: W.monday, to: W.monday + 14 * 86_400_000).filter { $0.customerID == customers[0] && $0.visitType == "sales" }.count >= 2
            })
            let thursdays = try await world.pool.query("SELECT id::text FROM visits WHERE tenant_id = $1 AND schedule_id = $2::uuid", [world.tenant.uuidString, schedule.uuidString])
            for row in thursdays {
                #expect(try await rep.store.record("visits", RecordID(try row.read(0, as: String.self))!) != nil)
            }
        }
    }

    @Test("a visit's typed tasks answered on the phone: the wrong kind refused there, a number out of range warned and flagged, the visit completes")
    func typedTasks() async throws {
        try await W.run("story-typed-tasks") { world in
            let repID = try world.users(.rep)[0]
            let dispatcher = try world.office(.dispatcher)
            let rep = try await world.phone(repID, role: .rep)
            let customer = try await rep.mondayVisits()[0].customerID
            let visit = try await world.store.createVisit(SyncStore.NewVisit(customer: customer, assignee: repID, visitType: "audit", plannedStart: W.at(12), plannedEnd: W.at(13), tasks: [
                .init(type: "survey", required: true, label: "Promotion display in place?", answerKind: "yes_no"),
                .init(type: "survey", required: true, label: "Facings of our brand", answerKind: "number", minValue: 0, maxValue: 40),
                .init(type: "note", required: false),
            ]), by: dispatcher)
            try await rep.sync(until: { try await $0.visit(visit)?.tasks.count == 3 })
            let tasks = try #require(try await rep.store.visit(visit)).tasks
            let display = try #require(tasks.first { $0.answerKind == "yes_no" })
            let facings = try #require(tasks.first { $0.answerKind == "number" })
            #expect(display.label == "Promotion display in place?" && facings.minValue == 0 && facings.maxValue == 40)
            // The phone takes only the task's kind of answer, and no free text for a typed task.
            var refusals = 0
            do { _ = try await rep.store.answerTask(display.id, answer: ServiceSteps.Answer(text: "yes"), at: W.at(12)) } catch is StoreError { refusals += 1 }
            let asText: [RecordID: String] = [facings.id: "12"]
            do { _ = try await rep.store.completeVisit(visit: visit, taskResults: asText) } catch is StoreError { refusals += 1 }
            #expect(refusals == 2)
            #expect(try await rep.store.answerTask(display.id, answer: .init(yesNo: true), at: W.at(12)).warnings.isEmpty)
            let over = try await rep.store.answerTask(facings.id, answer: .init(number: 55), at: W.at(12, 5))
            #expect(over.warnings.map(\.rule) == [.taskOutOfRange])
            let outcomes = try await rep.sync()
            #expect(outcomes.contains { $0.record == facings.id && $0.findings.contains("task_out_of_range") }, "\(outcomes)")
            let stored = try await world.server("visit_tasks", facings.id)
            #expect(stored.integer("number_value") == 55 && stored.state()?.name == "done" && stored.timestamp("answered_at") == W.at(12, 5))
            #expect(try await world.server("visit_tasks", display.id).bool("yes_no") == true)
            let shown = try await rep.store.visit(visit)?.tasks.first { $0.id == display.id }
            #expect(shown?.yesNo == true && shown?.status == "done")
        }
    }
}
