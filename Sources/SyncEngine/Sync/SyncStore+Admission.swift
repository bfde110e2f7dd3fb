import PostgresDriver
import SyncCore
import SyncWire

/// Admission: what every pushed change must pass before any rule on arrival sees it.
///
/// The server trusts no client, so each change is judged in this order, and the first refusal
/// quarantines it (`rejected` with the rule's name) without touching anything:
/// 1. **schema** (``admitSchema(_:verdicts:)``): the table and fields exist, every value has its
///    field's type, length and range, text holds no U+0000;
/// 2. **clock** (``admitClocks(_:replica:verdicts:work:on:)``): not stamped before the replica's
///    registration, nor below what the replica already pushed;
/// 3. **scope** (``admitScope(_:scope:touched:verdicts:work:on:)``): a confined author's row lies in
///    the buckets the author could see at the change's time;
/// 4. **access** (``admitAccess(_:author:touched:verdicts:)``): each field is one the author's role may
///    write, each field that names its author names the author, each state is a move the role
///    may make; a delete needs the right to write every field a device may write, and a row
///    that names its author is deleted only by that author;
/// 5. **references** (``admitReferences(_:author:scope:touched:verdicts:work:on:)``): every
///    reference names a record that exists and that the author may see.
///
/// Scope comes before access so that a refusal never carries the state of a row outside the
/// author's scope: the refusal of a row the author may not see says only that.
extension SyncStore {
    /// The records a change set touches, read once for every step of admission.
    struct Touched {
        /// The stored state of every record the changes name (absent: new).
        var states: [String: [RecordID: RecordState]] = [:]
        /// The buckets each stored record is in.
        var memberships: [String: [RecordID: Set<Bucket>]] = [:]
        /// The buckets each stored record left, and when.
        var departed: [String: [RecordID: [(bucket: Bucket, at: Int64)]]] = [:]
        /// For rows a confined author creates: the buckets the device placed them in by its own
        /// view, as of the change's time.
        var guessed: [RecordRef: Set<Bucket>] = [:]
        /// Rows the change set creates that its author may place, with their buckets now.
        var known: [RecordRef: Set<Bucket>] = [:]

        /// Whether the change set creates `table/id`.
        func creates(_ table: String, _ id: RecordID, in changes: [Change]) -> Bool {
            states[table]?[id] == nil && changes.contains { $0.table == table && $0.record == id }
        }
    }

    /// The buckets a stored row was in at `changeTime`: those it is in, those it left after then,
    /// and — for an assignment, which an offline author cannot know was taken away — the `user:`
    /// buckets it left within ``offlineGrace`` before then.
    static func bucketsThen(now: Set<Bucket>, departed: [(bucket: Bucket, at: Int64)], at changeTime: Int64) -> Set<Bucket> {
        let assignedSince = changeTime - offlineGrace
        return now.union(departed.filter { $0.at > changeTime || ($0.bucket.isPersonal && $0.at > assignedSince) }.map(\.bucket))
    }

    /// Reads the state and buckets of every record `changes` name, as they stand in the push.
    func readTouched(_ changes: [Change], departures: Bool, work: WorkingSet, on db: isolated PostgresConnection) async throws -> Touched {
        var touched = Touched()
        for (tableName, changes) in Dictionary(grouping: changes, by: \.table) {
            let ids = Array(Set(changes.map(\.record)))
            touched.states[tableName] = try await work.states(tableName, ids, on: db)
            touched.memberships[tableName] = try await work.memberships(tableName, ids, on: db)
            if departures { touched.departed[tableName] = try await work.departures(tableName, ids, on: db) }
        }
        return touched
    }

    // MARK: - 1. Schema

    /// Refuses changes that do not fit the schema: unknown tables and fields, wrong types, values
    /// out of range or too long, U+0000, unknown states.
    func admitSchema(_ changes: [Change], verdicts: inout Verdicts) -> [Change] {
        changes.filter { change in
            do throws(ChangeViolation) {
                try tables.schema.schema.validate(change)
                return true
            } catch {
                verdicts.reject(change, RuleFinding(RuleFinding.Rule(error.code.name), error.message), serverState: nil)
                return false
            }
        }
    }

    // MARK: - 2. Clock

    /// Refuses changes of a device replica stamped before the replica registered, or below the
    /// newest clock it has already pushed, with ``SyncRoutes``' drift of five minutes either way.
    /// An honest device's clock only moves forward; a backdated one would be judged by the buckets
    /// of a time its author no longer owns.
    func admitClocks(_ changes: [Change], replica: ReplicaID, verdicts: inout Verdicts, work: WorkingSet,
                     on db: isolated PostgresConnection) async throws -> [Change] {
        guard replica != .server, !changes.isEmpty, let (registered, pushed) = try await work.deviceClock(replica, on: db) else { return changes }
        let floor = max(registered, pushed) - Self.clockDriftMilliseconds
        var kept: [Change] = []
        for change in changes {
            let stamped = Int64(change.version.clock.milliseconds)
            if stamped < floor {
                verdicts.reject(change, RuleFinding(.clockBehind, "stamped \((floor - stamped) / 1_000) s before what this device already pushed or its registration"),
                             serverState: nil)
            } else {
                kept.append(change)
            }
        }
        if let newest = kept.map({ Int64($0.version.clock.milliseconds) }).max() { work.advance(replica, to: newest) }
        return kept
    }

    /// How far a device's clock may stray from the server's: ahead of the server's clock, and
    /// behind what the device already pushed (milliseconds).
    static let clockDriftMilliseconds: Int64 = 300_000

    // MARK: - 3. Scope

    /// Refuses a confined author's changes to rows outside the buckets the author could see at
    /// the change's time; flags work on rows the author no longer has.
    func admitScope(_ changes: [Change], scope: (atChange: Set<Bucket>, now: Set<Bucket>), touched: inout Touched, verdicts: inout Verdicts,
                    work: WorkingSet, on db: isolated PostgresConnection) async throws -> [Change] {
        var refused = Set<ChangeID>()
        // Rows new in this change set: their state so far, so that a row created and then
        // written, or a child created under it, is judged with them. Parents are judged before
        // their children, whatever the order inside the change set (a change set applies whole).
        var created: [RecordRef: RecordState] = [:]
        let schema = tables.schema.schema
        let parentsFirst = changes.enumerated().sorted { (schema.position(of: $0.element.table) ?? .max, $0.offset) < (schema.position(of: $1.element.table) ?? .max, $1.offset) }
        for change in parentsFirst.map(\.element) {
            let table = try tables.table(change.table)
            let key = RecordRef(table: change.table, record: change.record)
            let changeTime = Int64(change.version.clock.milliseconds)
            let rowBuckets: Set<Bucket>
            let nowBuckets: Set<Bucket>
            if touched.states[change.table]?[change.record] != nil {
                // An existing row is judged by the buckets it was in then.
                nowBuckets = touched.memberships[change.table]?[change.record] ?? []
                rowBuckets = Self.bucketsThen(now: nowBuckets, departed: touched.departed[change.table]?[change.record] ?? [], at: changeTime)
            } else {
                // A new one by the buckets it would have had then.
                let state = Merge.apply(change, to: created[key], table: table).state
                rowBuckets = try await buckets(of: table, change.record, state, asOf: changeTime, assignedSince: changeTime - Self.offlineGrace,
                                               known: touched.known, work: work, on: db)
                nowBuckets = try await buckets(of: table, change.record, state, known: touched.known, work: work, on: db)
                if !rowBuckets.isDisjoint(with: scope.atChange) {
                    created[key] = state
                    touched.known[key] = nowBuckets
                    // The device placed the new row by its own view, as of the change's time.
                    touched.guessed[key, default: []].formUnion(rowBuckets.intersection(scope.atChange))
                }
            }
            if rowBuckets.isDisjoint(with: scope.atChange) {
                verdicts.reject(change, RuleFinding(.forbiddenRecord, "the record is outside the author's territories and assignments"), serverState: nil)
                refused.insert(change.id)
                continue
            }
            if nowBuckets.isDisjoint(with: scope.now) {
                verdicts.flag(change.id, RuleFinding(.noLongerOwned, "written while the author still had the record; flagged for review"))
            }
        }
        return changes.filter { !refused.contains($0.id) }
    }

    // MARK: - 4. Access

    /// Refuses writes to fields the author's role may not write, fields that name their author
    /// but name someone else, and state moves the role may not make. Runs after the scope, so
    /// the refusal may carry the row's state: the author may see it.
    func admitAccess(_ changes: [Change], author: Author, touched: Touched, verdicts: inout Verdicts) throws -> [Change] {
        // Each record's status as the change set moves it, so that a check-in then a completion
        // in one change set is judged step by step.
        var running: [RecordRef: StateValue] = [:]
        var kept: [Change] = []
        for change in changes {
            let table = try tables.table(change.table)
            let stored = touched.states[change.table]?[change.record]
            guard case .write(let writes) = change.operation else {
                if let refusal = Self.deleteRefusal(in: table, stored: stored, by: author) {
                    verdicts.reject(change, refusal, serverState: stored)
                } else {
                    kept.append(change)
                }
                continue
            }
            let key = RecordRef(table: change.table, record: change.record)
            if let refusal = Self.refusal(of: writes, in: table, by: author, creating: stored == nil, current: running[key] ?? stored?.state(), domain: domain) {
                verdicts.reject(change, refusal, serverState: stored)
                continue
            }
            if case .state(let written)? = change.written("status") {
                running[key] = Self.merged(running[key] ?? stored?.state(), written, in: table)
            }
            kept.append(change)
        }
        return kept
    }

    /// Why `author` may not make `writes` to a row of `table`, or `nil`.
    ///
    /// - Parameter creating: Whether the row is new on the server (fields a role may set only
    ///   when creating are allowed).
    /// - Parameter current: The row's status before these writes, `nil` when it has none yet (the
    ///   status written is then judged as a creation).
    static func refusal(of writes: [FieldWrite], in table: TableSchema, by author: Author, creating: Bool, current: StateValue?,
                        domain: any SyncDomain) -> RuleFinding? {
        for write in writes {
            guard let field = table.field(write.field) else { continue }
            guard field.access.allows(author.role, creating: creating) else {
                return RuleFinding(.forbiddenField, "a \(author.role) may not write \(table.name).\(field.name)")
            }
            let mustNameAuthor = switch field.author {
            case .none: false
            case .always: true
            case .whenCreatorOnly: !field.access.roles.contains(author.role)
            }
            if mustNameAuthor, case .id(let named) = write.value, named != author.user {
                return RuleFinding(.foreignIdentity, "\(table.name).\(field.name) names the user who writes it; it cannot name another")
            }
            if case .state(let order) = field.type, case .state(let target) = write.value, !domain.permits(target, over: current, in: order, by: author.role) {
                let from = current.map { "\($0.name) (epoch \($0.epoch))" } ?? "a new record"
                return RuleFinding(.forbiddenTransition, "a \(author.role) may not move \(table.name) from \(from) to \(target.name) (epoch \(target.epoch))")
            }
        }
        return nil
    }

    /// Why `author` may not delete a row of `table` (as `stored` on the server), or `nil`.
    ///
    /// A delete undoes every field at once, so it needs the right to write every field a device
    /// may write (a rep deletes a contact, not a customer whose terms are the managers'), and a
    /// row whose author field names someone else is theirs to delete, not the caller's.
    static func deleteRefusal(in table: TableSchema, stored: RecordState?, by author: Author) -> RuleFinding? {
        let writable = table.fields.filter { $0.access != .serverOnly }
        if writable.isEmpty || !writable.allSatisfy({ $0.access.allows(author.role) }) {
            return RuleFinding(.forbiddenField, "a \(author.role) may not delete \(table.name) records")
        }
        for field in table.fields where field.author == .always {
            if case .id(let named)? = stored?.fields[field.name]?.value, named != author.user {
                return RuleFinding(.foreignIdentity, "\(table.name).\(field.name) names another user; only they delete the record")
            }
        }
        return nil
    }

    /// The state the merge keeps of two: the later epoch, then the state further along.
    static func merged(_ current: StateValue?, _ written: StateValue, in table: TableSchema) -> StateValue {
        guard let current, case .state(let order)? = table.field("status")?.type else { return written }
        if written.epoch != current.epoch { return written.epoch > current.epoch ? written : current }
        return (order.rank(of: written.name) ?? 0) > (order.rank(of: current.name) ?? 0) ? written : current
    }

    // MARK: - 5. References

    /// Refuses writes whose references name no record, or — for a confined author — a record
    /// outside the buckets the author could see at the change's time (a user is judged by the
    /// identity rules instead). A record created earlier or later in the same change set counts,
    /// if its author may place it.
    func admitReferences(_ changes: [Change], author: Author, scope: (atChange: Set<Bucket>, now: Set<Bucket>)?, touched: Touched,
                         verdicts: inout Verdicts, work: WorkingSet, on db: isolated PostgresConnection) async throws -> [Change] {
        var named: [String: Set<RecordID>] = [:]
        for change in changes {
            guard case .write(let writes) = change.operation, let table = tables.schema.schema.table(change.table) else { continue }
            for write in writes {
                guard case .reference(let target)? = table.field(write.field)?.type, case .id(let id) = write.value,
                      !touched.creates(target, id, in: changes) else { continue }
                named[target, default: []].insert(id)
            }
        }
        var existing: [String: Set<RecordID>] = [:]
        var buckets: [String: [RecordID: Set<Bucket>]] = [:]
        var departed: [String: [RecordID: [(bucket: Bucket, at: Int64)]]] = [:]
        for (target, ids) in named {
            let ids = Array(ids)
            existing[target] = Set(try await work.states(target, ids, on: db).keys)
            if scope != nil, target != domain.people {
                buckets[target] = try await work.memberships(target, ids, on: db)
                departed[target] = try await work.departures(target, ids, on: db)
            }
        }
        return changes.filter { change in
            guard case .write(let writes) = change.operation, let table = tables.schema.schema.table(change.table) else { return true }
            for write in writes {
                guard case .reference(let target)? = table.field(write.field)?.type, case .id(let id) = write.value else { continue }
                let visible: Bool
                if touched.creates(target, id, in: changes) {
                    visible = scope == nil || touched.known[RecordRef(table: target, record: id)] != nil
                } else if existing[target]?.contains(id) != true {
                    visible = false
                } else if let scope, target != domain.people {
                    let then = Self.bucketsThen(now: buckets[target]?[id] ?? [], departed: departed[target]?[id] ?? [], at: Int64(change.version.clock.milliseconds))
                    visible = !then.isDisjoint(with: scope.atChange)
                } else {
                    visible = true
                }
                if !visible {
                    verdicts.reject(change, RuleFinding(.unknownReference, "\(table.name).\(write.field) names no \(target) record the author may see"), serverState: nil)
                    return false
                }
            }
            return true
        }
    }
}
