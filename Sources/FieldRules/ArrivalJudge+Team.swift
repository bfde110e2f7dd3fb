import FieldModel
import PostgresDriver
import SyncCore
import SyncEngine

/// A manager decides for their team only (DOMAIN.md §3, who edits what): the weekly plans and
/// recurring visit plans of the reps under them, the orders those reps wrote, and comments on
/// those reps' contact records. The office API asks the same of every decision
/// (`SyncStore.requireInTeam`); a manager who pushes through the sync protocol, from a phone or a
/// client of their own, is held to it here, before the merge. Admins decide for everyone.
extension ArrivalJudge {
    /// Whom a manager's change to `table` concerns, and where it is named: the record's own field,
    /// or (for a comment) the author of the record it comments on.
    private static let teamSubjects: [String: (field: String, through: (table: String, field: String)?)] = [
        "week_plans": ("rep_id", nil),
        "visit_schedules": ("rep_id", nil),
        "sales_orders": ("created_by", nil),
        "manager_comments": ("contact_record_id", (table: "contact_records", field: "author_id")),
    ]

    /// Refuses (`forbidden_record`) each change of a manager to a record that concerns someone
    /// outside the manager's team, as the record stands or as the change would leave it. Returns
    /// the changes that pass.
    mutating func refuseOutsideTeam(_ changes: [Change], states: [String: [RecordID: RecordState]], on db: isolated PostgresConnection) async throws -> [Change] {
        guard let author, author.role == .manager, changes.contains(where: { Self.teamSubjects[$0.table] != nil }) else { return changes }
        let team = try await team(of: author.user, on: db)
        var kept: [Change] = []
        for change in changes {
            guard let subject = Self.teamSubjects[change.table] else {
                kept.append(change)
                continue
            }
            let current = states[change.table]?[change.record]
            var named = Set([current?.id(subject.field), change.written(subject.field).flatMap(Self.id)].compactMap { $0 })
            if let through = subject.through {
                var people = Set<RecordID>()
                for record in named { if let person = try await reads.state(through.table, record, on: db)?.id(through.field) { people.insert(person) } }
                named = people
            }
            if let outsider = named.first(where: { $0 != author.user && !team.contains($0) }) {
                reject(change, RuleFinding(.forbiddenRecord, "the \(change.table) record concerns \(outsider.uuidString), who is outside your team: a manager decides for their team only"),
                       serverState: nil)
                continue
            }
            kept.append(change)
        }
        return kept
    }

    /// Everyone under `manager`, directly or through other managers: read once per push.
    private func team(of manager: RecordID, on db: isolated PostgresConnection) async throws -> Set<RecordID> {
        let key = "team:\(manager.uuidString)"
        if let team = reads.memo(key) as? Set<RecordID> { return team }
        let rows = try await reads.query("""
            WITH RECURSIVE team(id) AS (
                SELECT id FROM users WHERE tenant_id = $1 AND manager_id = $2 AND NOT _deleted
                UNION SELECT u.id FROM users u JOIN team t ON u.manager_id = t.id WHERE u.tenant_id = $1 AND NOT u._deleted)
            SELECT id::text FROM team
            """, [tenant.uuidString, manager.uuidString], on: db)
        let team = Set(try rows.map { RecordID(try $0.read(0, as: String.self))! })
        reads.memoize(key, team)
        return team
    }
}
