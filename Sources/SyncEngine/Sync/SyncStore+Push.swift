import Logging
public import PostgresDriver
public import SyncCore
import SyncWire

/// The push engine: how a device's push becomes merged rows, feed entries and answers.
///
/// A push is applied in one transaction per sub-batch (at most ``pushBatchMax`` change sets,
/// ``batchChangeSetsMax`` by default, and about ``batchChangesMax`` changes), change set after change set, through one
/// ``WorkingSet`` that reads each row once and writes the push's bookkeeping at its end. For each
/// change set, in order (``apply(_:batch:author:scope:judging:refusing:work:on:)``):
/// 1. **answer replays** with their stored outcome;
/// 2. **admit** (schema and ranges, clock, scope, field access, identity and state moves,
///    references: `SyncStore+Admission.swift`);
/// 3. **screen**: the rules that refuse (``ArrivalRules/screen(_:states:arrival:on:)``; the
///    field-sales rules are the `FieldRules` module);
/// 4. **merge, write, place, log** (``commit(_:as:states:memberships:guessed:at:work:on:)``,
///    placement in `SyncStore+Placement.swift`);
/// 5. **judge**: the rules that flag, and the server's consequent writes, merged as a change set
///    of their own (``ArrivalRules/judge(_:original:merged:arrival:on:)``, `DerivedWrites.swift`);
/// 6. **record** the decisions (``Verdicts``) and every answer.
///
/// A later change set sees an earlier one's effects and the server's derived writes, exactly as
/// if each had been its own transaction. Each change set stays atomic and keeps its own outcome;
/// a rule's refusal never aborts SQL, so one refused change set never fails the others. A
/// sub-batch that meets an SQL error (or keeps meeting deadlocks) is rolled back and applied
/// again one change set per transaction, so a failing change set fails alone.
extension SyncStore {
    /// One change set of a push and the replica that wrote it.
    public struct Submission: Sendable {
        /// The change set.
        public var changeSet: ChangeSet
        /// The replica that wrote it (``ReplicaID/server`` for the office).
        public var replica: ReplicaID

        /// Creates a submission.
        public init(_ changeSet: ChangeSet, replica: ReplicaID) {
            self.changeSet = changeSet
            self.replica = replica
        }
    }

    /// The most change sets one push transaction applies.
    public static let batchChangeSetsMax = 100
    /// About the most changes one push transaction applies (a larger change set is applied whole).
    public static let batchChangesMax = 500

    /// Applies one change set from `replica` in one transaction (``push(_:batch:author:judging:tenant:)``
    /// with one submission).
    public func push(_ changeSet: ChangeSet, batch: RecordID, replica: ReplicaID, author: Author? = nil, judging: Bool = true,
                     tenant: RecordID) async throws -> Applied {
        try await push([Submission(changeSet, replica: replica)], batch: batch, author: author, judging: judging, tenant: tenant)[0]
    }

    /// Applies a push: its change sets in order, one transaction per sub-batch. Returns one
    /// ``Applied`` per change set, in order.
    ///
    /// - Parameter author: Who wrote it (`nil` for the server itself, which may write anything).
    ///   Each field is checked against the author's role, and a confined author's rows must lie in
    ///   buckets the author could see at the change's time; work done while the author still had
    ///   the row, but no longer has it, is applied and flagged.
    /// - Parameter judging: Whether the rules on arrival run (`false` only when a reviewer
    ///   overrides a quarantined change).
    ///
    /// A transaction that meets a deadlock or a serialization failure is run again; a change set
    /// whose earlier attempt died with the process is applied alone (`SyncStore+Attempts.swift`).
    public func push(_ submissions: [Submission], batch: RecordID, author: Author? = nil, judging: Bool = true,
                     tenant: RecordID) async throws -> [Applied] {
        var applied: [Applied] = []
        for group in Self.subBatches(submissions, changeSetsMax: pushBatchMax) {
            applied += try await attempting(group.map(\.changeSet.id), tenant: tenant) { db, suspects in
                // Runs of change sets not suspected are applied together; a suspect alone.
                var results: [Applied] = []
                var run: [Submission] = []
                for submission in group {
                    guard suspects.contains(submission.changeSet.id) else {
                        run.append(submission)
                        continue
                    }
                    results += try await self.applyTogether(run, batch: batch, author: author, judging: judging, tenant: tenant, on: db)
                    run = []
                    let refusing = try await self.reattempt(submission.changeSet.id, tenant: tenant, on: db)
                    results += try await self.applyAlone(submission, batch: batch, author: author, judging: judging, refusing: refusing, tenant: tenant, on: db)
                }
                results += try await self.applyTogether(run, batch: batch, author: author, judging: judging, tenant: tenant, on: db)
                return results
            }
        }
        return applied
    }

    /// Splits a push into sub-batches of at most `changeSetsMax` change sets and about
    /// ``batchChangesMax`` changes, in order.
    static func subBatches(_ submissions: [Submission], changeSetsMax: Int) -> [[Submission]] {
        var groups: [[Submission]] = []
        var current: [Submission] = []
        var changes = 0
        for submission in submissions {
            if !current.isEmpty, current.count >= changeSetsMax || changes + submission.changeSet.changes.count > batchChangesMax {
                groups.append(current)
                current = []
                changes = 0
            }
            current.append(submission)
            changes += submission.changeSet.changes.count
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// Applies `submissions` in one transaction on `db` (which forgets their attempts as it
    /// commits); a transaction that keeps meeting deadlocks, or meets any other SQL error, is
    /// rolled back and the change sets applied one per transaction instead.
    func applyTogether(_ submissions: [Submission], batch: RecordID, author: Author?, judging: Bool, tenant: RecordID,
                       on db: isolated PostgresConnection) async throws -> [Applied] {
        guard !submissions.isEmpty else { return [] }
        if submissions.count > 1 {
            for attempt in 1...2 {
                do {
                    return try await db.transaction { db in
                        try await self.apply(submissions, batch: batch, author: author, judging: judging, tenant: tenant, on: db)
                    }
                } catch let error as PostgresError where db.isReusable {
                    let retryable = ["40P01", "40001"].contains(error.sqlState ?? "")
                    logger.info(retryable && attempt == 1 ? "a push met a concurrent one; running it again" : "a push is applied one change set at a time after an SQL error",
                                metadata: ["sqlstate": "\(error.sqlState ?? "")", "change_sets": "\(submissions.count)"])
                    if !retryable { break }
                }
            }
        }
        var applied: [Applied] = []
        for submission in submissions {
            applied += try await applyAlone(submission, batch: batch, author: author, judging: judging, refusing: false, tenant: tenant, on: db)
        }
        return applied
    }

    /// Applies one change set in a transaction of its own on `db`, run again up to three times
    /// on a deadlock or a serialization failure.
    func applyAlone(_ submission: Submission, batch: RecordID, author: Author?, judging: Bool, refusing: Bool, tenant: RecordID,
                    on db: isolated PostgresConnection) async throws -> [Applied] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await db.transaction { db in
                    try await self.apply([submission], batch: batch, author: author, judging: judging, refusing: refusing, tenant: tenant, on: db)
                }
            } catch let error as PostgresError where attempt < 3 && ["40P01", "40001"].contains(error.sqlState ?? "") {
                logger.info("a push met a concurrent one; running it again", metadata: ["sqlstate": "\(error.sqlState ?? "")"])
            }
        }
    }

    /// Applies one change set inside the caller's transaction on `db` (see ``apply(_:batch:author:judging:refusing:tenant:on:)``).
    public func apply(_ changeSet: ChangeSet, batch: RecordID, replica: ReplicaID, author: Author? = nil, judging: Bool = true,
                      tenant: RecordID, on db: isolated PostgresConnection) async throws -> Applied {
        try await apply([Submission(changeSet, replica: replica)], batch: batch, author: author, judging: judging, tenant: tenant, on: db)[0]
    }

    /// Applies `submissions` inside the caller's transaction on `db`, change set after change set
    /// through one working set, and writes what waited at the end
    /// (``push(_:batch:author:judging:tenant:)`` opens the transaction; tests may wrap more around it).
    ///
    /// - Parameter refusing: Whether every change not answered before is refused (`server_fault`)
    ///   and nothing else runs: change sets whose attempts died with the process.
    public func apply(_ submissions: [Submission], batch: RecordID, author: Author? = nil, judging: Bool = true, refusing: Bool = false,
                      tenant: RecordID, on db: isolated PostgresConnection) async throws -> [Applied] {
        let work = WorkingSet(tables: tables, tenant: tenant, clock: clock)
        let changes = submissions.flatMap(\.changeSet.changes)
        // Every record the push names, locked in one sorted statement; then the answers to
        // replays and the read-ahead: one round trip.
        let confined = author.map { domain.confines($0.role) } ?? false
        try await work.begin(changes, departures: confined, on: db)
        // A confined author's buckets over time, read once per push.
        let scope = if let author, confined { try await domain.audience(of: author.user, role: author.role, tenant: tenant, on: db) } else { Audience?.none }
        // The rules read ahead what they will look up change by change.
        if judging {
            let pending = changes.filter { work.answer(to: $0.id) == nil }
            try await rules.prepare(pending, reads: work, on: db)
            // The records the rules will write as the server's consequences: locked with the push,
            // read once.
            try await work.lockAndRead(try await rules.expectedWrites(pending, reads: work, on: db), on: db)
        }
        var applied: [Applied] = []
        for submission in submissions {
            for change in submission.changeSet.changes { clock.receive(change.version.clock) }
            applied.append(try await apply(submission, batch: batch, author: author, scope: scope, judging: judging, refusing: refusing, work: work, on: db))
        }
        // The attempts of these change sets end as the transaction commits (SyncStore+Attempts.swift).
        work.finished(submissions.map(\.changeSet.id))
        try await work.flush(on: db)
        return applied
    }

    /// Applies one change set of a push: the steps of the push engine, in order.
    func apply(_ submission: Submission, batch: RecordID, author: Author?, scope authorScope: Audience?, judging: Bool, refusing: Bool,
               work: WorkingSet, on db: isolated PostgresConnection) async throws -> Applied {
        let changeSet = submission.changeSet
        let now = Int64(author?.now ?? clock.milliseconds)
        let arrival = Arrival(author: author, replica: submission.replica, now: now, reads: work)
        var verdicts = Verdicts()
        // 1. Replays get their stored answer.
        let answeredBefore = Set(changeSet.changes.compactMap { work.answer(to: $0.id)?.change })

        // 2. Admission (SyncStore+Admission.swift): schema, clock, scope, access, references.
        var fresh = admitSchema(changeSet.changes.filter { !answeredBefore.contains($0.id) }, verdicts: &verdicts)
        if refusing {
            for change in fresh { verdicts.reject(change, Self.serverFault, serverState: nil) }
            fresh = []
        }
        let scope = author.flatMap { author in
            authorScope.flatMap { authorScope in
                changeSet.changes.first.map { (atChange: authorScope.buckets(at: Int64($0.version.clock.milliseconds)), now: authorScope.buckets(at: Int64(author.now))) }
            }
        }
        var touched = try await readTouched(fresh, departures: scope != nil, work: work, on: db)
        if author != nil { fresh = try await admitClocks(fresh, replica: submission.replica, verdicts: &verdicts, work: work, on: db) }
        if let scope { fresh = try await admitScope(fresh, scope: scope, touched: &touched, verdicts: &verdicts, work: work, on: db) }
        if let author {
            fresh = try admitAccess(fresh, author: author, touched: touched, verdicts: &verdicts)
            fresh = try await admitReferences(fresh, author: author, scope: scope, touched: touched, verdicts: &verdicts, work: work, on: db)
        }
        var states = touched.states
        FaultInjection.trapIfAsked(fresh)

        // 3. Screen: the rules that refuse.
        if judging {
            fresh = verdicts.refuse(try await rules.screen(fresh, states: states, arrival: arrival, on: db), of: fresh)
        }

        // 4. Merge, write, place, log.
        let original = states
        let conflicts = try await commit(fresh, as: changeSet.id, states: &states, memberships: touched.memberships, guessed: touched.guessed,
                                         at: now, work: work, on: db)

        // 5. Judge: the rules that flag, and the server's consequent writes.
        if judging {
            let judgement = try await rules.judge(fresh, original: original, merged: states, arrival: arrival, on: db)
            verdicts.take(judgement)
            try await commitDerived(judgement.derived, at: now, work: work, on: db)
        }

        // 6. Record the decisions and every answer.
        var outcomes: [ChangeID: ChangeOutcome] = [:]
        for change in changeSet.changes { outcomes[change.id] = work.answer(to: change.id) }
        for change in fresh {
            let findings = (verdicts.findings[change.id] ?? []).map { Finding(rule: $0.rule.name, message: $0.message) }
            outcomes[change.id] = ChangeOutcome(change: change.id, result: findings.isEmpty ? .applied : .appliedWithException, findings: findings)
        }
        for (id, rejection) in verdicts.rejections {
            outcomes[id] = ChangeOutcome(change: id, result: .rejected, findings: [Finding(rule: rejection.finding.rule.name, message: rejection.finding.message)],
                                         reason: rejection.finding.rule.name, serverState: rejection.serverState)
        }
        let answeredNow = changeSet.changes.filter { !answeredBefore.contains($0.id) }
        verdicts.record(answeredNow, author: author, replica: submission.replica, now: now, work: work)
        // Every answer is kept, rejections included, so that a replay gets exactly the same answer.
        for change in answeredNow { work.answered(outcomes[change.id]!, batch: batch, replica: submission.replica) }
        return Applied(outcomes: changeSet.changes.map { outcomes[$0.id]! }, conflicts: conflicts)
    }

    /// Merges `changes` (already admitted) into `states`, writes the records, places them in their
    /// buckets, appends the change set `id` to the feed of each bucket its rows are in and keeps
    /// the conflicts met. Returns the conflicts.
    ///
    /// - Parameter guessed: For rows a device created, the buckets the device placed them in by
    ///   its own view; each such bucket the row is not in on the server gets a remove, so the
    ///   device lets go of a row that, say, belongs to a visit reassigned meanwhile.
    func commit(_ changes: [Change], as id: ChangeID, states: inout [String: [RecordID: RecordState]], memberships: [String: [RecordID: Set<Bucket>]],
                guessed: [RecordRef: Set<Bucket>] = [:], at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws -> [Conflict] {
        guard !changes.isEmpty else { return [] }
        var conflicts: [Conflict] = []
        var touched: [String: Set<RecordID>] = [:]
        let original = states
        for change in changes {
            let table = try tables.table(change.table)
            let result = Merge.apply(change, to: states[change.table]?[change.record], table: table)
            states[change.table, default: [:]][change.record] = result.state
            conflicts += result.conflicts
            touched[change.table, default: []].insert(change.record)
        }
        for (tableName, ids) in touched { work.write(tableName, ids.map { ($0, states[tableName]![$0]!) }) }

        // Bucket membership and the feed: the change set, filtered to each bucket's rows that phones
        // keep; a row that left a bucket (or its phones' window) is a remove there, and a row that
        // entered one arrives whole.
        let bucketsOf = try await place(touched: touched, states: states, original: original, memberships: memberships, at: now, work: work, on: db)
        // Rows phones do not keep (retired by their table's phone window) stay out of the feed.
        let dropped = try await retain(touched: touched, states: states, original: original, buckets: bucketsOf, at: now, work: work, on: db)
        var perBucket: [Bucket: [Change]] = [:]
        for change in changes where !dropped.contains(RecordRef(table: change.table, record: change.record)) {
            for bucket in bucketsOf[RecordRef(table: change.table, record: change.record)] ?? [] { perBucket[bucket, default: []].append(change) }
        }
        for (bucket, changes) in perBucket.sorted(by: { $0.key < $1.key }) {
            work.feed(bucket, .changeSet(ChangeSet(id: id, changes: changes)))
        }
        for (ref, buckets) in guessed.sorted(by: { ($0.key.table, $0.key.record) < ($1.key.table, $1.key.record) }) {
            // A row the device created outside its window leaves every bucket the device put it in.
            let gone = dropped.contains(ref) ? buckets : buckets.subtracting(bucketsOf[ref] ?? [])
            for bucket in gone.sorted() { work.feed(bucket, .remove(ref)) }
        }
        for conflict in conflicts { work.conflict(conflict) }
        return conflicts
    }
}
