import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Weekly plans (外出登记/周计划, issue 20, item 4): a rep proposes on the phone the visits of a
/// coming week and submits the plan; their manager reads the team's plans here and approves one —
/// the rules then create its dated visits (`VisitPlanning.weekPlanVisitID`) — or returns it with a
/// note, and the rep reopens, fixes and submits it again.
extension SyncStore {
    /// A visit a rep proposes, and the visit its approval created.
    public struct ProposedVisit: Sendable, Hashable {
        /// The proposal, its customer, visit type, window (ms) and purpose.
        public var id: RecordID, customer: RecordID?, visitType: String?, plannedStart: Int64?, plannedEnd: Int64?, purpose: String?
        /// The visit the approval created, once the plan is approved.
        public var visit: RecordID?
    }

    /// A weekly plan as the office reads it.
    public struct WeekPlan: Sendable, Hashable {
        /// The plan, its rep, the week's first day (ms), status, the rep's note.
        public var id: RecordID, rep: RecordID?, weekStart: Int64?, status: String, note: String?
        /// The manager's note and who decided.
        public var decisionNote: String?, decidedBy: RecordID?
        /// The visits proposed.
        public var visits: [ProposedVisit]
    }

    /// The weekly plans of the caller's team (a manager's subtree; an admin's tenant), newest week
    /// first, of one status or rep when given.
    public func weekPlans(status: String? = nil, rep: RecordID? = nil, limit: Int = 200, by office: OfficeUser) async throws -> [WeekPlan] {
        try await weekPlans(status: status, rep: rep, plan: nil, limit: limit, by: office)
    }

    private func weekPlans(status: String?, rep: RecordID?, plan: RecordID?, limit: Int, by office: OfficeUser) async throws -> [WeekPlan] {
        try requireManaging(office)
        if let status, Lifecycles.weekPlan.order.rank(of: status) == nil {
            throw OfficeError(.invalid, "status is one of \(Lifecycles.weekPlan.order.ranking.joined(separator: ", "))")
        }
        let team: [RecordID]? = office.role == .admin ? nil : try await team(of: office).map(\.user)
        let rows = try await pool.query("""
            SELECT id::text, rep_id::text, week_start, coalesce(status, 'draft'), note, decision_note, decided_by::text FROM week_plans
            WHERE tenant_id = $1 AND NOT _deleted AND ($2 = '' OR status = $2) AND ($3 = '' OR rep_id::text = $3) AND ($4 OR rep_id = ANY($5::uuid[]))
              AND ($7 = '' OR id::text = $7)
            ORDER BY week_start DESC, id LIMIT $6
            """, [office.tenant.uuidString, status ?? "", rep?.uuidString ?? "", team == nil, PostgresArray.literal(team ?? []), Int64(limit), plan?.uuidString ?? ""])
        var plans = try rows.compactMap { row -> WeekPlan? in
            guard let id = RecordID(try row.read(0, as: String.self)) else { return nil }
            return WeekPlan(id: id, rep: try row.read(1, as: String?.self).flatMap { RecordID($0) }, weekStart: try row.read(2, as: Int64?.self),
                            status: try row.read(3, as: String.self), note: try row.read(4, as: String?.self), decisionNote: try row.read(5, as: String?.self),
                            decidedBy: try row.read(6, as: String?.self).flatMap { RecordID($0) }, visits: [])
        }
        guard !plans.isEmpty else { return [] }
        var visits: [RecordID: [ProposedVisit]] = [:]
        for row in try await pool.query("""
            SELECT week_plan_id::text, id::text, customer_id::text, visit_type, planned_start, planned_end, purpose FROM week_plan_visits
            WHERE tenant_id = $1 AND week_plan_id = ANY($2::uuid[]) AND NOT _deleted ORDER BY planned_start, id
            """, [office.tenant.uuidString, PostgresArray.literal(plans.map(\.id))]) {
            guard let plan = try row.read(0, as: String?.self).flatMap({ RecordID($0) }), let id = RecordID(try row.read(1, as: String.self)) else { continue }
            visits[plan, default: []].append(ProposedVisit(id: id, customer: try row.read(2, as: String?.self).flatMap { RecordID($0) }, visitType: try row.read(3, as: String?.self),
                                                           plannedStart: try row.read(4, as: Int64?.self), plannedEnd: try row.read(5, as: Int64?.self),
                                                           purpose: try row.read(6, as: String?.self), visit: nil))
        }
        // The visits an approval created, found by their derived ids.
        let created = try await pool.query("SELECT id::text FROM visits WHERE tenant_id = $1 AND week_plan_id = ANY($2::uuid[]) AND NOT _deleted",
                                           [office.tenant.uuidString, PostgresArray.literal(plans.map(\.id))])
            .compactMap { RecordID(try $0.read(0, as: String.self)) }
        let existing = Set(created)
        for index in plans.indices {
            plans[index].visits = (visits[plans[index].id] ?? []).map { proposal in
                var proposal = proposal
                let visit = VisitPlanning.weekPlanVisitID(proposal: proposal.id)
                proposal.visit = existing.contains(visit) ? visit : nil
                return proposal
            }
        }
        return plans
    }

    /// A manager's decision on a submitted weekly plan: approve it (its visits are created) or
    /// return it with a note. Returns the plan as it stands after.
    public func decideWeekPlan(_ id: RecordID, approve: Bool, note: String?, by office: OfficeUser) async throws -> WeekPlan {
        try requireManaging(office)
        let state = try await record("week_plans", id, tenant: office.tenant)
        try await requireInTeam(state.id("rep_id"), of: office)
        let status = try move(state, Lifecycles.weekPlan, to: approve ? "approved" : "returned", by: office.role, what: "weekly plan")
        if !approve && (note ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw OfficeError(.invalid, "a returned plan says why (note)") }
        try await edit([OfficeEdit("week_plans", id, [("status", status), ("decision_note", note.map(FieldValue.text) ?? .null), ("decided_by", .id(office.user))])],
                       by: office, tenant: office.tenant)
        guard let plan = try await weekPlans(status: nil, rep: nil, plan: id, limit: 1, by: office).first else {
            throw OfficeError(.notFound, "no weekly plan \(id.uuidString)")
        }
        return plan
    }

    /// Refuses anyone but a manager or an admin.
    func requireManaging(_ office: OfficeUser) throws {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins decide weekly plans") }
    }
}
