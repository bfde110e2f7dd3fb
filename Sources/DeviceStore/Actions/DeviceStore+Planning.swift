public import FieldModel
public import SyncCore

/// The rep's own planning and a visit's typed tasks (issue 20, item 4), offline like any action:
/// - a weekly plan (外出登记/周计划): the rep proposes the visits of a coming week, changes them
///   while the plan is a draft, and submits it; the manager approves it (the server then makes the
///   visits, which arrive on the next sync) or returns it, and the rep reopens, fixes and submits
///   it again;
/// - a typed task: answered with its kind of answer (yes/no, a number in its range, a text, a
///   photo); a number outside the range is recorded with a warning, as the server flags it.
extension DeviceStore {
    /// Starts the signed-in rep's plan for the week beginning `weekStart` (ms), as a draft.
    public func createWeekPlan(weekStart: Int64, note: String? = nil) async throws -> ActionReport {
        let (plan, changeSet) = try await act { session, identity, db in
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            let duplicate = try db.query("SELECT id FROM week_plans WHERE rep_id = ? AND week_start = ? AND _deleted = 0 LIMIT 1", [user.bytes, weekStart])
            guard duplicate.isEmpty else { throw StoreError(.invalidArgument, "there is already a plan for that week") }
            let plan = session.newID()
            try session.write("week_plans", plan, [("rep_id", .id(user)), ("week_start", .timestamp(weekStart)), ("note", note.map(FieldValue.text) ?? .null),
                                                  ("status", .state(StateValue(Lifecycles.weekPlan.initial)))], in: db)
            return plan
        }
        return ActionReport(record: plan, changeSet: changeSet, warnings: [])
    }

    /// Proposes a visit to `customer` in a draft plan, from `start` to `end` (ms, within the plan's week).
    public func proposeVisit(plan: RecordID, customer: RecordID, start: Int64, end: Int64, visitType: String = "sales", purpose: String? = nil) async throws -> ActionReport {
        guard end > start else { throw StoreError(.invalidArgument, "a visit ends after it starts") }
        let (proposal, changeSet) = try await act { session, _, db in
            let state = try Self.draftPlan(plan, session: session, in: db)
            if let week = state.timestamp("week_start"), start < week || start >= week + 7 * 86_400_000 {
                throw StoreError(.invalidArgument, "the visit is outside the plan's week")
            }
            _ = try session.existing("customers", customer, in: db)
            let proposal = session.newID()
            try session.write("week_plan_visits", proposal, [("week_plan_id", .id(plan)), ("customer_id", .id(customer)), ("visit_type", .text(visitType)),
                                                             ("planned_start", .timestamp(start)), ("planned_end", .timestamp(end)),
                                                             ("purpose", purpose.map(FieldValue.text) ?? .null)], in: db)
            return proposal
        }
        return ActionReport(record: proposal, changeSet: changeSet, warnings: [])
    }

    /// Withdraws a proposed visit from a draft plan.
    public func withdrawProposal(_ proposal: RecordID) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, _, db in
            guard let plan = try session.existing("week_plan_visits", proposal, in: db).id("week_plan_id") else { throw StoreError.unknown("week_plan_visits", proposal) }
            _ = try Self.draftPlan(plan, session: session, in: db)
            try session.delete("week_plan_visits", proposal, in: db)
        }
        return ActionReport(record: proposal, changeSet: changeSet, warnings: [])
    }

    /// Submits a draft plan to the manager; a plan with no visit is refused.
    public func submitWeekPlan(_ plan: RecordID) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, identity, db in
            _ = try Self.draftPlan(plan, session: session, in: db)
            let proposals = try db.query("SELECT count(*) FROM week_plan_visits WHERE week_plan_id = ? AND _deleted = 0", [plan.bytes])[0].read(0, as: Int.self)
            guard proposals > 0 else { throw StoreError(.invalidArgument, "the plan proposes no visit") }
            try session.move("week_plans", plan, to: "submitted", machine: Lifecycles.weekPlan, role: identity.role, in: db)
        }
        return ActionReport(record: plan, changeSet: changeSet, warnings: [])
    }

    /// Reopens a returned plan as a draft, to fix and submit again.
    public func reopenWeekPlan(_ plan: RecordID) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, identity, db in
            guard try session.existing("week_plans", plan, in: db).state()?.name == "returned" else {
                throw StoreError(.forbiddenTransition, "only a returned plan is reopened")
            }
            try session.move("week_plans", plan, to: "draft", machine: Lifecycles.weekPlan, role: identity.role, in: db)
        }
        return ActionReport(record: plan, changeSet: changeSet, warnings: [])
    }

    static func draftPlan(_ plan: RecordID, session: LocalSession, in db: isolated SQLiteDatabase) throws -> RecordState {
        let state = try session.existing("week_plans", plan, in: db)
        let status = state.state()?.name ?? ""
        guard status == "draft" else { throw StoreError(.forbiddenTransition, "the plan is \(status); its visits change only while it is a draft") }
        return state
    }

    /// Answers a typed task of a visit and marks it done: `answer` must be of the task's kind (a
    /// task without one takes a text); a number outside its range is kept with a warning.
    public func answerTask(_ task: RecordID, answer: ServiceSteps.Answer, photo: AttachmentFile? = nil, at time: Int64) async throws -> ActionReport {
        var given = answer
        if photo != nil { given.photo = RecordID(high: 0, low: 0) }  // stands for the photo until it is kept
        let answer = given
        guard answer.kind != nil else { throw StoreError(.invalidArgument, "an answer is one of yes/no, a number, a text or a photo") }
        let (warnings, changeSet) = try await act { session, identity, db in
            let state = try session.existing("visit_tasks", task, in: db)
            let step = ServiceSteps.Step(id: task, label: state.text("label") ?? state.text("task_type") ?? "", answerKind: state.text("answer_kind") ?? "text",
                                         required: state.bool("required") ?? false, minValue: state.integer("min_value"), maxValue: state.integer("max_value"))
            var warnings: [RuleFinding] = []
            if let finding = ServiceSteps.judge(answer, to: step) {
                guard finding.rule == .stepOutOfRange else { throw StoreError(.invalidArgument, finding.message) }
                warnings.append(RuleFinding(.taskOutOfRange, finding.message))
            }
            var fields: [(String, FieldValue)] = [("answered_at", .timestamp(time))]
            if let yes = answer.yesNo { fields.append(("yes_no", .bool(yes))) }
            if let number = answer.number { fields.append(("number_value", .integer(number))) }
            if let text = answer.text { fields.append(("result", .text(text))) }
            if let photo { fields.append(("photo_attachment_id", .id(try session.attach(photo, user: identity.user, in: db)))) }
            if state.state()?.name == "done" {
                try session.write("visit_tasks", task, fields, in: db)
            } else {
                try session.move("visit_tasks", task, to: "done", machine: Lifecycles.visitTask, role: identity.role, also: fields, in: db)
            }
            return warnings
        }
        return ActionReport(record: task, changeSet: changeSet, warnings: warnings)
    }
}

extension DeviceStore {
    /// A weekly plan as the phone holds it.
    public struct WeekPlan: Sendable, Hashable {
        /// A proposed visit, and the visit the approval made once it arrived.
        public struct Proposal: Sendable, Hashable {
            /// The proposal, its customer, visit type, window (ms) and purpose.
            public var id: RecordID, customer: RecordID?, visitType: String?, start: Int64?, end: Int64?, purpose: String?
            /// The visit made for it, once on the phone.
            public var visit: RecordID?
        }

        /// The plan, the week's first day (ms), its status, the rep's and the manager's notes.
        public var id: RecordID, weekStart: Int64?, status: String, note: String?, decisionNote: String?
        /// The proposed visits, in time order.
        public var proposals: [Proposal]
    }
}

extension DeviceQuery where Value == [DeviceStore.WeekPlan] {
    /// The signed-in rep's weekly plans on the phone, latest week first.
    public static var weekPlans: Self {
        Self { db, _ in
            try db.query("SELECT id, week_start, status, note, decision_note FROM week_plans WHERE _deleted = 0 ORDER BY week_start DESC, id").map { row in
                let id = RecordID(bytes: try row.read(0, as: [UInt8].self))!
                let proposals = try db.query("""
                    SELECT id, customer_id, visit_type, planned_start, planned_end, purpose FROM week_plan_visits
                    WHERE week_plan_id = ? AND _deleted = 0 ORDER BY planned_start, id
                    """, [id.bytes]).map { proposal in
                    let proposalID = RecordID(bytes: try proposal.read(0, as: [UInt8].self))!
                    let visit = VisitPlanning.weekPlanVisitID(proposal: proposalID)
                    let held = try !db.query("SELECT 1 FROM visits WHERE id = ? AND _deleted = 0", [visit.bytes]).isEmpty
                    return DeviceStore.WeekPlan.Proposal(id: proposalID, customer: try proposal.read(1, as: [UInt8]?.self).flatMap { RecordID(bytes: $0) },
                                                         visitType: try proposal.read(2, as: String?.self), start: try proposal.read(3, as: Int64?.self),
                                                         end: try proposal.read(4, as: Int64?.self), purpose: try proposal.read(5, as: String?.self),
                                                         visit: held ? visit : nil)
                }
                return DeviceStore.WeekPlan(id: id, weekStart: try row.read(1, as: Int64?.self), status: try row.read(2, as: String?.self) ?? "draft",
                                            note: try row.read(3, as: String?.self), decisionNote: try row.read(4, as: String?.self), proposals: proposals)
            }
        }
    }
}
