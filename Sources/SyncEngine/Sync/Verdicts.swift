import PostgresDriver
import SyncCore
import SyncWire

/// Every decision about one change set: the refusals of admission and of the rules, the flags,
/// and the notes that flag nothing. ``record(_:author:replica:now:work:)`` keeps one `decisions`
/// row for each, with who, what, device time, server time and the rule; refusals and flags wait
/// there for the office's review.
struct Verdicts {
    private(set) var rejections: [ChangeID: Refusal] = [:]
    private(set) var findings: [ChangeID: [RuleFinding]] = [:]
    private(set) var notes: [Judgement.Note] = []

    /// Refuses `change`: it applies nothing and waits in quarantine.
    mutating func reject(_ change: Change, _ finding: RuleFinding, serverState: RecordState?) {
        rejections[change.id] = Refusal(change, finding, serverState: serverState)
    }

    /// Flags `change`: it applies, with an exception for review.
    mutating func flag(_ change: ChangeID, _ finding: RuleFinding) {
        findings[change, default: []].append(finding)
    }

    /// Takes the refusals of the rules' screening; returns the changes that pass.
    mutating func refuse(_ refusals: [Refusal], of changes: [Change]) -> [Change] {
        for refusal in refusals { rejections[refusal.change.id] = refusal }
        let refused = Set(refusals.map(\.change.id))
        return changes.filter { !refused.contains($0.id) }
    }

    /// Takes the flags and notes of the rules' judgement.
    mutating func take(_ judgement: Judgement) {
        for (change, finding) in judgement.flags { flag(change, finding) }
        notes += judgement.notes
    }

    /// Keeps one `decisions` row per refusal, flag and note of `changes`, written at the end of
    /// the push.
    func record(_ changes: [Change], author: SyncStore.Author?, replica: ReplicaID, now: Int64, work: WorkingSet) {
        var rows: [(change: Change?, table: String, record: RecordID, finding: RuleFinding, result: ChangeOutcome.Result, serverState: RecordState?)] = []
        for change in changes {
            if let rejection = rejections[change.id] {
                rows.append((change, change.table, change.record, rejection.finding, .rejected, rejection.serverState))
            } else {
                for finding in findings[change.id] ?? [] { rows.append((change, change.table, change.record, finding, .appliedWithException, nil)) }
            }
        }
        for note in notes { rows.append((note.change, note.table, note.record, note.finding, .applied, nil)) }
        for row in rows {
            let values: [PostgresValue?] = [
                .uuid(work.tenant), row.change.map { .uuid($0.id.uuid) }, .text(row.table), .uuid(row.record),
                .text(row.finding.rule.name), .text(row.result.name), .text(row.finding.message), author.map { .uuid($0.user) },
                author.map { .text($0.role.name) }, .integer(Int64(replica.rawValue)), row.change.map { .integer(Int64($0.version.clock.milliseconds)) },
                .integer(Int64(now)), row.change.map { .bytes(BinaryEncoder.encode($0)) }, row.serverState.map { .bytes(BinaryEncoder.encode($0)) },
                row.result == .applied ? nil : .text("open"),
            ]
            work.decide(values.map { $0 ?? .null })
        }
    }
}
