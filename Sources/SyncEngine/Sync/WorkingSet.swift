import PostgresDriver
import SyncCore
import SyncWire

/// What one push transaction has read and decided: every row is read from PostgreSQL once per
/// push, and the push's bookkeeping is written in a few statements at its end.
///
/// - **Read through.** A record's state, its buckets and its departures are read the first time
///   a step asks for them, in one statement per table, and served from memory afterwards. The
///   push's own writes keep them current, which is exact for every row the push writes: it
///   holds their locks (``lock(_:on:)`` reads a row again when its lock is taken after it was
///   read).
/// - **Write behind.** Merged rows wait here until a query of the rules on arrival or of
///   placement reads their table with SQL (``query(_:_:on:)`` writes them first, one statement
///   per table), or until the push ends. Everything no query reads waits until ``flush(on:)``:
///   bucket membership (netted per row over the push), departures, the feed, the answers to
///   replays, decisions, conflicts and device clocks, one statement per table.
///
/// A working set lives inside one transaction on one connection and is never shared.
final class WorkingSet: ArrivalReads {
    let tables: RecordTables
    let tenant: RecordID
    /// The clock the ids the server mints come from.
    let clock: ServerClock

    private var states: [RecordRef: RecordState] = [:]
    private var absent: Set<RecordRef> = []
    private var buckets: [RecordRef: Set<Bucket>] = [:]
    /// The buckets as read from PostgreSQL: ``flush(on:)`` writes the difference.
    private var storedBuckets: [RecordRef: Set<Bucket>] = [:]
    /// Whether each row whose buckets are known is retired from phones (see ``PhoneWindow``), now
    /// and as read: ``flush(on:)`` writes the difference.
    private var retired: [RecordRef: Bool] = [:]
    private var storedRetired: [RecordRef: Bool] = [:]
    private var storedDepartures: [RecordRef: [(bucket: Bucket, at: Int64)]] = [:]
    private var newDepartures: [RecordRef: [(bucket: Bucket, at: Int64)]] = [:]
    private var locked: Set<Int64> = []
    private var answers: [ChangeID: ChangeOutcome] = [:]
    private var memos: [String: any Sendable] = [:]
    /// The ids of the rows the push has merged, by table.
    private var mergedIDs: [String: Set<RecordID>] = [:]
    /// Rows merged but not written yet, by table.
    private var unwritten: [String: Set<RecordID>] = [:]
    /// For rows read by a reference ("table.field"): the referenced ids whose rows are all in
    /// ``states`` (``rows(_:where:is:on:)``); the ids of each table's rows held; and, by table,
    /// the ids the push refers to, whose related rows are read together on first use.
    private var related: [String: Set<RecordID>] = [:]
    private var held: [String: Set<RecordID>] = [:]
    private var ahead: [String: Set<RecordID>] = [:]
    private var deviceClocks: [ReplicaID: (registered: Int64, pushed: Int64, stored: Int64)?] = [:]

    /// The feed's entries of this push, by bucket, in order.
    private var feedEntries: [Bucket: [FeedEntry]] = [:]
    private var answerRows: [[PostgresValue]] = []
    /// The change sets whose attempts (`push_attempts`) end with the push's transaction.
    private var finishedChangeSets: [ChangeID] = []
    private var decisionRows: [[PostgresValue]] = []
    private var conflictRows: [[PostgresValue]] = []

    init(tables: RecordTables, tenant: RecordID, clock: ServerClock) {
        self.tables = tables
        self.tenant = tenant
        self.clock = clock
    }

    var schema: Schema { tables.schema.schema }

    // MARK: - Locks

    /// Takes the transaction locks of `records` not held yet, in one sorted statement (see
    /// ``SyncStore/lock(_:tenant:into:)``). A record read before its lock is read again.
    func lock(_ records: [RecordRef], on db: isolated PostgresConnection) async throws {
        var batch = PostgresBatch()
        lock(records, into: &batch)
        if !batch.isEmpty { try await db.run(batch) }
    }

    /// Adds the statement of ``lock(_:on:)`` to `batch`: what a later statement of the batch reads
    /// of these records is read under their locks, and what the working set held of them is
    /// forgotten now, to be read again.
    func lock(_ records: [RecordRef], into batch: inout PostgresBatch) {
        var fresh: [RecordRef] = []
        for ref in records where locked.insert(SyncStore.lockKey(ref.table, ref.record, tenant: tenant)).inserted { fresh.append(ref) }
        guard !fresh.isEmpty else { return }
        SyncStore.lock(fresh.map { ($0.table, $0.record) }, tenant: tenant, into: &batch)
        for ref in fresh where unwritten[ref.table]?.contains(ref.record) != true {
            states.removeValue(forKey: ref)
            absent.remove(ref)
            storedDepartures.removeValue(forKey: ref)
            if buckets[ref] == storedBuckets[ref] && retired[ref] == storedRetired[ref] {
                buckets.removeValue(forKey: ref)
                storedBuckets.removeValue(forKey: ref)
                retired.removeValue(forKey: ref)
                storedRetired.removeValue(forKey: ref)
            }
        }
    }

    /// Locks `records` (``lock(_:on:)``) and reads the state and buckets of each (and their
    /// departures, when they were read before), in one round trip.
    func lockAndRead(_ records: [RecordRef], on db: isolated PostgresConnection) async throws {
        guard !records.isEmpty else { return }
        // Departures read ahead (a confined author's scope) are read again with the rest.
        let departed = Set(records.filter { storedDepartures[$0] != nil })
        // One round trip: the locks, then what they made the working set forget.
        var batch = PostgresBatch()
        lock(records, into: &batch)
        let locks = batch.statements.count
        let plan = try read(Set(records), departures: departed, into: &batch)
        guard !batch.isEmpty else { return }
        var answers = try await db.run(batch)[...]
        answers.removeFirst(locks)
        try take(plan, answers, ahead: false)
    }

    // MARK: - Reading ahead

    /// The start of a push, in one round trip: locks every record `changes` name, reads the
    /// answers already given to them (a replay's), and reads ahead what the push's steps will ask
    /// for (``prefetch(_:departures:into:)``), the lock first. The records of changes answered
    /// before are read ahead too: they are locked anyway, and reading them costs less than a
    /// round trip of its own.
    func begin(_ changes: [Change], departures: Bool, on db: isolated PostgresConnection) async throws {
        var batch = PostgresBatch()
        lock(changes.map { RecordRef(table: $0.table, record: $0.record) }, into: &batch)
        let locks = batch.statements.count
        let asked = answers(to: changes.map(\.id), into: &batch)
        let plan = try prefetch(changes, departures: departures, into: &batch)
        var answers = try await db.run(batch)[...]
        answers.removeFirst(locks)
        if asked { try takeAnswers(answers.removeFirst()) }
        try take(plan, answers)
    }

    /// What ``prefetch(_:departures:into:)`` asked, for ``take(_:_:ahead:)``.
    struct Prefetch {
        var refs: Set<RecordRef>
        var reads: [(table: TableSchema, ids: [RecordID], statements: Int)]
        var unplaced: [RecordRef]
        var undeparted: [RecordRef]
    }

    /// Adds to `batch` the reads of what the push's steps will ask for: the state (and counters)
    /// and buckets of every record the changes name, and of every record they refer to (parents,
    /// customers, visits). `departures` adds when each left which bucket (for a confined author's
    /// scope).
    func prefetch(_ changes: [Change], departures: Bool, into batch: inout PostgresBatch) throws -> Prefetch {
        var refs = Set<RecordRef>()
        for change in changes {
            refs.insert(RecordRef(table: change.table, record: change.record))
            guard case .write(let writes) = change.operation, let table = tables.schema.schema.table(change.table) else { continue }
            for write in writes {
                if case .reference(let target)? = table.field(write.field)?.type, case .id(let id) = write.value { refs.insert(RecordRef(table: target, record: id)) }
            }
        }
        return try read(refs, departures: departures ? refs : [], into: &batch)
    }

    /// Adds to `batch` the reads of what the working set does not hold of `refs`: their states (and
    /// counters), buckets, and the departures of `departures`.
    func read(_ refs: Set<RecordRef>, departures: Set<RecordRef>, into batch: inout PostgresBatch) throws -> Prefetch {
        var reads: [(table: TableSchema, ids: [RecordID], statements: Int)] = []
        for (table, group) in Dictionary(grouping: refs.filter { tables.schema.schema.table($0.table) != nil }, by: \.table).sorted(by: { $0.key < $1.key }) {
            let missing = Set(group.filter { states[$0] == nil && !absent.contains($0) }.map(\.record)).sorted()
            guard !missing.isEmpty else { continue }
            let schema = try tables.table(table)
            reads.append((schema, missing, tables.read(schema, missing, tenant: tenant, into: &batch)))
        }
        let unplaced = refs.filter { buckets[$0] == nil }.sorted { ($0.table, $0.record) < ($1.table, $1.record) }
        if !unplaced.isEmpty { batch.add(Self.membershipsSQL, Self.refParameters(unplaced, tenant: tenant)) }
        let undeparted = departures.filter { storedDepartures[$0] == nil }.sorted { ($0.table, $0.record) < ($1.table, $1.record) }
        if !undeparted.isEmpty { batch.add(Self.departuresSQL, Self.refParameters(undeparted, tenant: tenant)) }
        return Prefetch(refs: refs, reads: reads, unplaced: unplaced, undeparted: undeparted)
    }

    /// Keeps what `plan` read, from `answers` (the answers to its statements, in order); `ahead`
    /// adds its records, and the records they refer to, to those whose related rows are read
    /// together (``rows(_:where:is:status:on:)``).
    func take(_ plan: Prefetch, _ answers: ArraySlice<PostgresRows>, ahead extending: Bool = true) throws {
        var answers = answers
        for read in plan.reads {
            let rows = answers.removeFirst()
            keep(try tables.decode(read.table, rows, contributions: read.statements == 2 ? answers.removeFirst() : nil), asked: read.ids, in: read.table.name)
        }
        if !plan.unplaced.isEmpty { try takeMemberships(plan.unplaced, answers.removeFirst()) }
        if !plan.undeparted.isEmpty { try takeDepartures(plan.undeparted, answers.removeFirst()) }
        guard extending else { return }
        for ref in plan.refs { ahead[ref.table, default: []].insert(ref.record) }
        for ref in plan.refs {
            guard let state = states[ref], let table = tables.schema.schema.table(ref.table) else { continue }
            for field in table.fields {
                if case .reference(let target) = field.type, let id = state.id(field.name) { ahead[target, default: []].insert(id) }
            }
        }
    }

    /// A new id for a record the server creates in `table` (see ``minted(_:)``).
    func mint(_ table: String) -> RecordID {
        let id = clock.newID()
        minted(RecordRef(table: table, record: id))
        return id
    }

    /// Records that the server just minted `ref`'s id: nothing is stored under it, it is in no
    /// bucket, and nobody else can hold its lock.
    func minted(_ ref: RecordRef) {
        absent.insert(ref)
        buckets[ref] = []
        storedBuckets[ref] = []
        retired[ref] = false
        storedRetired[ref] = false
        storedDepartures[ref] = []
        locked.insert(SyncStore.lockKey(ref.table, ref.record, tenant: tenant))
    }

    // MARK: - Records

    /// The states of `ids` in `table` as they stand in this transaction (absent ids are not in the result).
    func states(_ table: String, _ ids: [RecordID], on db: isolated PostgresConnection) async throws -> [RecordID: RecordState] {
        let missing = Self.unknown(table, ids) { states[$0] == nil && !absent.contains($0) }.map(\.record).sorted()
        if !missing.isEmpty {
            keep(try await tables.read(try tables.table(table), missing, tenant: tenant, on: db), asked: missing, in: table)
        }
        var found: [RecordID: RecordState] = [:]
        for id in ids { if let state = states[RecordRef(table: table, record: id)] { found[id] = state } }
        return found
    }

    /// Keeps the stored states `found` of the ids `asked` in `table`; an id not found is absent.
    private func keep(_ found: [RecordID: RecordState], asked: [RecordID], in table: String) {
        for id in asked {
            let ref = RecordRef(table: table, record: id)
            if let state = found[id] {
                states[ref] = state
                held[table, default: []].insert(id)
            } else {
                absent.insert(ref)
            }
        }
    }

    /// One record as it stands in this transaction.
    func state(_ table: String, _ id: RecordID, on db: isolated PostgresConnection) async throws -> RecordState? {
        try await states(table, [id], on: db)[id]
    }

    /// Keeps `rows` of `table` (already merged) as they now stand; they are written when a
    /// query reads their table (``query(_:_:on:)``) or at the end of the push, whichever is first.
    func write(_ table: String, _ rows: [(RecordID, RecordState)]) {
        for (id, state) in rows {
            let ref = RecordRef(table: table, record: id)
            states[ref] = state
            absent.remove(ref)
            held[table, default: []].insert(id)
            unwritten[table, default: []].insert(id)
            mergedIDs[table, default: []].insert(id)
        }
    }

    /// The rows of `table` the push has merged so far, as they now stand.
    func merged(_ table: String) -> [RecordID: RecordState] {
        var found: [RecordID: RecordState] = [:]
        for id in mergedIDs[table] ?? [] { found[id] = states[RecordRef(table: table, record: id)] }
        return found
    }

    /// What the rules kept under `key` for the rest of the push.
    func memo(_ key: String) -> (any Sendable)? { memos[key] }

    /// Keeps `value` under `key` for the rest of the push.
    func memoize(_ key: String, _ value: any Sendable) { memos[key] = value }

    /// The rows of `table` whose reference `field` names `parent` (deleted rows included), as
    /// they stand in the push: the stored ones, read once per push for every record of the
    /// field's target table the push refers to, with the push's own rows over them.
    ///
    /// - Parameter status: Only the rows in this state (another visit in progress, say), read
    ///   ahead with the same condition.
    func rows(_ table: String, where field: String, is parent: RecordID, status: String? = nil,
              on db: isolated PostgresConnection) async throws -> [RecordID: RecordState] {
        let related = RelatedRows(table, where: field, status: status)
        if self.related[related.key]?.contains(parent) != true {
            var batch = PostgresBatch()
            if let read = try readRelated(related, also: [parent], into: &batch) { try keepRelated(read, try await db.run(batch)[...]) }
        }
        var found: [RecordID: RecordState] = [:]
        for id in held[table] ?? [] {
            if let state = states[RecordRef(table: table, record: id)], state.id(field) == parent, status == nil || state.state()?.name == status {
                found[id] = state
            }
        }
        return found
    }

    /// The read of ``rows(_:where:is:status:on:)`` for `related`, added to a batch: the rows whose
    /// reference names a record of the target table the push refers to, or one of `parents`, not
    /// read before.
    struct RelatedRead {
        var related: RelatedRows
        var table: TableSchema
        var parents: Set<RecordID>
        var statements: Int
    }

    /// Adds to `batch` the read of the rows of `related` for every record of the reference's
    /// target table the push refers to, and for `parents`, that were not read before; `nil` when
    /// there is none.
    func readRelated(_ related: RelatedRows, also parents: Set<RecordID> = [], into batch: inout PostgresBatch) throws -> RelatedRead? {
        guard let schema = tables.schema.schema.table(related.table), case .reference(let target)? = schema.field(related.field)?.type else {
            throw SyncStoreError(.invalid, "\(related.table).\(related.field) is not a reference")
        }
        let wanted = (ahead[target] ?? []).union(parents).subtracting(self.related[related.key] ?? [])
        guard !wanted.isEmpty else { return nil }
        let statements = tables.read(schema, where: related.field, in: wanted.sorted(), status: related.status, tenant: tenant, into: &batch)
        return RelatedRead(related: related, table: schema, parents: wanted, statements: statements)
    }

    /// Keeps what `read` found, from the front of `answers`: a row the push holds already is as
    /// new as the stored one, or newer.
    func keepRelated(_ read: RelatedRead, _ answers: ArraySlice<PostgresRows>) throws {
        var answers = answers
        let rows = answers.removeFirst()
        for (id, state) in try tables.decode(read.table, rows, contributions: read.statements == 2 ? answers.removeFirst() : nil) {
            let ref = RecordRef(table: read.related.table, record: id)
            guard states[ref] == nil else { continue }
            states[ref] = state
            absent.remove(ref)
            held[read.related.table, default: []].insert(id)
        }
        related[read.related.key, default: []].formUnion(read.parents)
    }

    /// Reads ahead, in one round trip, the rows of each of `related` for every record of the
    /// reference's target table the push refers to (``rows(_:where:is:status:on:)`` then reads
    /// nothing more for them), and runs `statements` after them; returns the answers to
    /// `statements`, in order.
    func readAhead(_ related: [RelatedRows], _ statements: PostgresBatch, on db: isolated PostgresConnection) async throws -> [PostgresRows] {
        var batch = PostgresBatch()
        var reads: [RelatedRead] = []
        for related in related {
            if let read = try readRelated(related, into: &batch) { reads.append(read) }
        }
        let relatedStatements = batch.statements.count
        // The rules' SQL sees every earlier change set of the push, as through query(_:_:on:).
        if !unwritten.isEmpty {
            let read = statements.statements.reduce(into: Set<String>()) { $0.formUnion(Self.tablesRead(by: $1.sql)) }
            for table in unwritten.keys.sorted() where read.contains(table) { try await writeRows(of: table, on: db) }
        }
        batch.append(contentsOf: statements)
        guard !batch.isEmpty else { return [] }
        var answers = try await db.run(batch)[...]
        for read in reads {
            try keepRelated(read, answers)
            answers.removeFirst(read.statements)
        }
        assert(answers.startIndex == relatedStatements, "every related read took its answers")
        return Array(answers)
    }

    /// Runs a query that reads record tables with SQL, after writing the rows of those tables
    /// the push has merged but not written yet: the query sees every earlier change set of the
    /// push. The tables are the ones the SQL names after `FROM` and `JOIN`.
    func query(_ sql: String, _ values: [any PostgresBindable], on db: isolated PostgresConnection) async throws -> PostgresRows {
        if !unwritten.isEmpty {
            let read = Self.tablesRead(by: sql)
            for table in unwritten.keys.sorted() where read.contains(table) { try await writeRows(of: table, on: db) }
        }
        return try await db.query(sql, values)
    }

    /// The tables `sql` reads: the names after `FROM` and `JOIN`.
    static func tablesRead(by sql: String) -> Set<String> {
        var names = Set<String>()
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "(" || $0 == ")" || $0 == "," })
        for (index, word) in words.enumerated() where index + 1 < words.count && (word.uppercased() == "FROM" || word.uppercased() == "JOIN") {
            names.insert(String(words[index + 1]))
        }
        return names
    }

    /// Writes the merged rows of `table` not written yet, in one statement (or a few for many rows).
    private func writeRows(of table: String, on db: isolated PostgresConnection) async throws {
        guard let ids = unwritten.removeValue(forKey: table), !ids.isEmpty else { return }
        try await tables.write(try tables.table(table), ids.sorted().map { ($0, states[RecordRef(table: table, record: $0)]!) }, tenant: tenant, on: db)
    }

    // MARK: - Buckets

    /// The buckets each of `ids` in `table` is in now (every id is in the result).
    func memberships(_ table: String, _ ids: [RecordID], on db: isolated PostgresConnection) async throws -> [RecordID: Set<Bucket>] {
        try await loadMemberships(Self.unknown(table, ids) { buckets[$0] == nil }, on: db)
        var found: [RecordID: Set<Bucket>] = [:]
        for id in ids { found[id] = buckets[RecordRef(table: table, record: id)] }
        return found
    }

    /// When each of `ids` in `table` left which bucket (every id is in the result).
    func departures(_ table: String, _ ids: [RecordID], on db: isolated PostgresConnection) async throws -> [RecordID: [(bucket: Bucket, at: Int64)]] {
        try await loadDepartures(Self.unknown(table, ids) { storedDepartures[$0] == nil }, on: db)
        var found: [RecordID: [(bucket: Bucket, at: Int64)]] = [:]
        for id in ids {
            let ref = RecordRef(table: table, record: id)
            found[id] = storedDepartures[ref]! + (newDepartures[ref] ?? [])
        }
        return found
    }

    /// The rows of `ids` in `table` that `isUnknown`, each once: nothing is allocated when the
    /// working set knows them all, as it mostly does after reading ahead.
    private static func unknown(_ table: String, _ ids: [RecordID], _ isUnknown: (RecordRef) -> Bool) -> [RecordRef] {
        var unknown: [RecordRef] = []
        for id in ids {
            let ref = RecordRef(table: table, record: id)
            if isUnknown(ref) { unknown.append(ref) }
        }
        return unknown.count > 1 ? Array(Set(unknown)) : unknown
    }

    /// Reads the buckets of `refs` (all tables at once) into the set.
    private func loadMemberships(_ refs: [RecordRef], on db: isolated PostgresConnection) async throws {
        guard !refs.isEmpty else { return }
        try takeMemberships(refs, try await db.query(Self.membershipsSQL, Self.refParameters(refs, tenant: tenant)))
    }

    /// Each ref's buckets (one row per bucket, or one with a null bucket) and whether it is retired.
    static let membershipsSQL = """
        SELECT k.tbl, k.id::text, r.bucket, x.id IS NOT NULL FROM unnest($2::text[], $3::uuid[]) AS k(tbl, id)
        LEFT JOIN row_buckets r ON r.tenant_id = $1 AND r.tbl = k.tbl AND r.id = k.id
        LEFT JOIN row_retired x ON x.tenant_id = $1 AND x.tbl = k.tbl AND x.id = k.id
        """

    static func refParameters(_ refs: [RecordRef], tenant: RecordID) -> [any PostgresBindable] {
        [tenant.uuidString, PostgresArray.literal(refs.map(\.table)), PostgresArray.uuids(refs.map(\.record))]
    }

    /// Keeps the buckets of `refs` read in `rows` (a ref without a row is in no bucket), and
    /// whether each is retired.
    private func takeMemberships(_ refs: [RecordRef], _ rows: PostgresRows) throws {
        var read: [RecordRef: Set<Bucket>] = [:]
        var retiredRead = Set<RecordRef>()
        for row in rows {
            let ref = RecordRef(table: try row.read(0, as: String.self), record: try row.read(1, as: RecordID.self))
            if let bucket = try row.read(2, as: String?.self) { read[ref, default: []].insert(Bucket(bucket)) }
            if try row.read(3, as: Bool.self) { retiredRead.insert(ref) }
        }
        for ref in refs {
            buckets[ref] = read[ref] ?? []
            storedBuckets[ref] = read[ref] ?? []
            retired[ref] = retiredRead.contains(ref)
            storedRetired[ref] = retiredRead.contains(ref)
        }
    }

    // MARK: - Retirement

    /// Whether each of `ids` in `table` is retired from phones now (every id is in the result).
    func retired(_ table: String, _ ids: [RecordID], on db: isolated PostgresConnection) async throws -> [RecordID: Bool] {
        try await loadMemberships(Self.unknown(table, ids) { retired[$0] == nil }, on: db)
        var found: [RecordID: Bool] = [:]
        for id in ids { found[id] = retired[RecordRef(table: table, record: id)] ?? false }
        return found
    }

    /// How many rows the push retires.
    var retiring: Int { retired.filter { $0.value && storedRetired[$0.key] == false }.count }

    /// Whether `ref` is retired, as far as the push knows (a row whose buckets were never read is not).
    func isRetired(_ ref: RecordRef) -> Bool { retired[ref] ?? false }

    /// Marks `ref` retired (`true`) or kept; written by ``flush(on:)``. Its membership is read
    /// first; should it not have been, the flush writes the mark whatever is stored (both writes
    /// are idempotent), rather than trusting a guess.
    func setRetired(_ ref: RecordRef, _ value: Bool) {
        if storedRetired[ref] == nil { storedRetired[ref] = !value }
        retired[ref] = value
    }

    /// Reads the departures of `refs` (all tables at once) into the set.
    private func loadDepartures(_ refs: [RecordRef], on db: isolated PostgresConnection) async throws {
        guard !refs.isEmpty else { return }
        try takeDepartures(refs, try await db.query(Self.departuresSQL, Self.refParameters(refs, tenant: tenant)))
    }

    static let departuresSQL = """
        SELECT r.tbl, r.id::text, r.bucket, r.departed_at FROM row_departures r JOIN unnest($2::text[], $3::uuid[]) AS k(tbl, id) ON r.tbl = k.tbl AND r.id = k.id
        WHERE r.tenant_id = $1
        """

    /// Keeps the departures of `refs` read in `rows`.
    private func takeDepartures(_ refs: [RecordRef], _ rows: PostgresRows) throws {
        var read: [RecordRef: [(bucket: Bucket, at: Int64)]] = [:]
        for row in rows {
            read[RecordRef(table: try row.read(0, as: String.self), record: try row.read(1, as: RecordID.self)), default: []]
                .append((try row.read(2, as: Bucket.self), try row.read(3, as: Int64.self)))
        }
        for ref in refs { storedDepartures[ref] = read[ref] ?? [] }
    }

    /// Records that `ref` is in `buckets` instead of `before`: a remove in the feed of each
    /// bucket it left (and the departure, at `now`) and, when `announce`, its full state in the
    /// feed of each it entered. Whether anything changed.
    func move(_ ref: RecordRef, _ state: RecordState, from before: Set<Bucket>, to buckets: Set<Bucket>, announce: Bool, at now: Int64) -> Bool {
        guard before != buckets else { return false }
        if storedBuckets[ref] == nil { storedBuckets[ref] = before }
        self.buckets[ref] = buckets
        // A retired row is not on any phone: it moves silently (its departures still count for scope).
        let quiet = isRetired(ref)
        for bucket in before.subtracting(buckets).sorted() {
            if !quiet { feed(bucket, .remove(ref)) }
            if !(newDepartures[ref] ?? []).contains(where: { $0.bucket == bucket && $0.at == now }) {
                newDepartures[ref, default: []].append((bucket, now))
            }
        }
        if announce && !quiet {
            for bucket in buckets.subtracting(before).sorted() { feed(bucket, .entered(RecordSnapshot(ref: ref, state: state))) }
        }
        return true
    }

    // MARK: - The feed, answers, decisions, conflicts

    /// Appends an entry to `bucket`'s feed, after every entry appended before in this push.
    func feed(_ bucket: Bucket, _ entry: FeedEntry) {
        feedEntries[bucket, default: []].append(entry)
    }

    /// Adds the read of the stored answers to `ids` (changes answered by an earlier push) to
    /// `batch`; ``takeAnswers(_:)`` keeps them. Whether it added a statement.
    func answers(to ids: [ChangeID], into batch: inout PostgresBatch) -> Bool {
        guard !ids.isEmpty else { return false }
        batch.add("SELECT outcome FROM applied_changes WHERE tenant_id = $1 AND change_id = ANY($2::uuid[])", [tenant.uuidString, PostgresArray.uuids(ids.map(\.uuid))])
        return true
    }

    /// Keeps the stored answers in `rows`.
    func takeAnswers(_ rows: PostgresRows) throws {
        for row in rows {
            let outcome = try BinaryDecoder.decode(ChangeOutcome.self, from: try row.read(0, as: [UInt8].self))
            answers[outcome.change] = outcome
        }
    }

    /// The answer already given to `change` (by an earlier push or earlier in this one).
    func answer(to change: ChangeID) -> ChangeOutcome? { answers[change] }

    /// Keeps `outcome` as the answer to its change: a replay gets exactly the same answer.
    func answered(_ outcome: ChangeOutcome, batch: RecordID, replica: ReplicaID) {
        guard answers[outcome.change] == nil else { return }
        answers[outcome.change] = outcome
        answerRows.append([.uuid(tenant), .uuid(outcome.change.uuid), .uuid(batch),
                           .integer(Int64(replica.rawValue)), .bytes(BinaryEncoder.encode(outcome))])
    }

    /// Forgets the attempts of `changeSets` when the push's transaction commits
    /// (`SyncStore+Attempts.swift`): they finished, whatever their outcomes.
    func finished(_ changeSets: [ChangeID]) { finishedChangeSets += changeSets }

    /// Keeps a `decisions` row (the columns of ``decisionColumns``).
    func decide(_ row: [PostgresValue]) { decisionRows.append(row) }

    /// The columns of a `decisions` row, in ``decide(_:)``'s order.
    static let decisionColumns = [("tenant_id", "uuid"), ("change_id", "uuid"), ("tbl", "text"), ("record", "uuid"), ("rule", "text"), ("result", "text"),
                                  ("message", "text"), ("author_id", "uuid"), ("author_role", "text"), ("replica", "integer"), ("device_time", "bigint"),
                                  ("server_time", "bigint"), ("change", "bytea"), ("server_state", "bytea"), ("review", "text")]

    /// Keeps a conflict met by the merge.
    func conflict(_ conflict: Conflict) {
        conflictRows.append([.uuid(tenant), .text(conflict.table), .uuid(conflict.record), .text(conflict.field),
                             .bytes(BinaryEncoder.encode(conflict.winner)), .bytes(BinaryEncoder.encode(conflict.loser)),
                             .integer(Int64(conflict.winner.version.replica.rawValue)), .integer(Int64(conflict.loser.version.replica.rawValue))])
    }

    // MARK: - Device clocks

    /// A device replica's registration clock and the newest clock it has pushed, `nil` when it is
    /// not a registered device.
    func deviceClock(_ replica: ReplicaID, on db: isolated PostgresConnection) async throws -> (registered: Int64, pushed: Int64)? {
        if let known = deviceClocks[replica] { return known.map { ($0.registered, $0.pushed) } }
        let row = try await db.query("SELECT registered_clock, clock_max FROM devices WHERE tenant_id = $1 AND replica = $2",
                                     [tenant.uuidString, Int64(replica.rawValue)]).first
        let clock = try row.map { (registered: try $0.read(0, as: Int64.self), pushed: try $0.read(1, as: Int64.self), stored: try $0.read(1, as: Int64.self)) }
        deviceClocks[replica] = .some(clock)
        return clock.map { ($0.registered, $0.pushed) }
    }

    /// Raises the newest clock `replica` has pushed to `newest`.
    func advance(_ replica: ReplicaID, to newest: Int64) {
        guard case .some(.some(var clock)) = deviceClocks[replica], newest > clock.pushed else { return }
        clock.pushed = newest
        deviceClocks[replica] = .some(clock)
    }

    // MARK: - The end of the push

    /// Writes everything that waited: memberships, departures, the feed, answers, decisions,
    /// conflicts and device clocks. Returns how many statements it took.
    @discardableResult
    func flush(on db: isolated PostgresConnection) async throws -> Int {
        // Every write below is independent of the others: one pipelined round trip.
        var batch = PostgresBatch()
        let schema = tables.schema.schema
        let tenantID = PostgresValue.uuid(tenant)
        for table in unwritten.keys.sorted(by: { (schema.position(of: $0) ?? .max, $0) < (schema.position(of: $1) ?? .max, $1) }) {
            if let ids = unwritten.removeValue(forKey: table), !ids.isEmpty {
                tables.write(try tables.table(table), ids.sorted().map { ($0, states[RecordRef(table: table, record: $0)]!) }, tenant: tenant, into: &batch)
            }
        }
        var left: [(bucket: Bucket, ref: RecordRef)] = []
        var entered: [(bucket: Bucket, ref: RecordRef)] = []
        for (ref, now) in buckets {
            let before = storedBuckets[ref] ?? []
            guard now != before else { continue }
            left += before.subtracting(now).map { ($0, ref) }
            entered += now.subtracting(before).map { ($0, ref) }
        }
        if !left.isEmpty {
            batch.add("""
                DELETE FROM row_buckets r USING unnest($2::text[], $3::text[], $4::uuid[]) AS k(bucket, tbl, id)
                WHERE r.tenant_id = $1 AND r.bucket = k.bucket AND r.tbl = k.tbl AND r.id = k.id
                """, [tenant.uuidString, PostgresArray.literal(left.map(\.bucket)), PostgresArray.literal(left.map(\.ref.table)),
                      PostgresArray.uuids(left.map(\.ref.record))])
        }
        batch.insert(into: "row_buckets", columns: [("tenant_id", "uuid"), ("bucket", "text"), ("tbl", "text"), ("id", "uuid")],
                     rows: entered.map { [tenantID, $0.bucket.postgresValue, .text($0.ref.table), .uuid($0.ref.record)] }, suffix: "ON CONFLICT DO NOTHING")
        var retiring: [RecordRef] = []
        var restoring: [RecordRef] = []
        for (ref, now) in retired where now != storedRetired[ref] {
            if now { retiring.append(ref) } else { restoring.append(ref) }
        }
        if !restoring.isEmpty {
            batch.add("""
                DELETE FROM row_retired r USING unnest($2::text[], $3::uuid[]) AS k(tbl, id) WHERE r.tenant_id = $1 AND r.tbl = k.tbl AND r.id = k.id
                """, Self.refParameters(restoring, tenant: tenant))
        }
        if !retiring.isEmpty {
            batch.add("""
                INSERT INTO row_retired (tenant_id, tbl, id, retired_at) SELECT $1, k.tbl, k.id, $4 FROM unnest($2::text[], $3::uuid[]) AS k(tbl, id)
                ON CONFLICT DO NOTHING
                """, Self.refParameters(retiring, tenant: tenant) + [Int64(clock.milliseconds)])
        }
        let departed = newDepartures.flatMap { ref, departures in
            departures.map { [PostgresValue.uuid(tenant), .text(ref.table), .uuid(ref.record), $0.bucket.postgresValue, .integer(Int64($0.at))] }
        }
        // One statement a table, the same text for any number of rows: prepared once.
        batch.insert(into: "row_departures", columns: [("tenant_id", "uuid"), ("tbl", "text"), ("id", "uuid"), ("bucket", "text"), ("departed_at", "bigint")],
                     rows: departed, suffix: "ON CONFLICT DO NOTHING")
        // The feed: one row per bucket, its entries in order (FeedEntry).
        let feedRows = feedEntries.keys.sorted().map { bucket in
            [tenantID, bucket.postgresValue, .integer(Int64(FeedEntry.packedKind)), .bytes(BinaryEncoder.encode(FeedEntries(feedEntries[bucket]!)))]
        }
        feedEntries = [:]
        batch.insert(into: "change_log", columns: [("tenant_id", "uuid"), ("bucket", "text"), ("kind", "smallint"), ("change_set", "bytea")], rows: feedRows)
        batch.insert(into: "applied_changes", columns: [("tenant_id", "uuid"), ("change_id", "uuid"), ("batch_id", "uuid"), ("replica", "integer"), ("outcome", "bytea")],
                     rows: answerRows, suffix: "ON CONFLICT DO NOTHING")
        batch.insert(into: "decisions", columns: Self.decisionColumns, rows: decisionRows)
        batch.insert(into: "conflicts", columns: [("tenant_id", "uuid"), ("tbl", "text"), ("record", "uuid"), ("field", "text"), ("winner", "bytea"),
                                                  ("loser", "bytea"), ("winner_replica", "integer"), ("loser_replica", "integer")],
                     rows: conflictRows)
        if !finishedChangeSets.isEmpty {
            batch.add("DELETE FROM push_attempts WHERE tenant_id = $1 AND change_set_id = ANY($2::uuid[])",
                      [tenant.uuidString, PostgresArray.uuids(finishedChangeSets.map(\.uuid))])
        }
        for (replica, clock) in deviceClocks {
            guard let clock, clock.pushed > clock.stored else { continue }
            batch.add("UPDATE devices SET clock_max = greatest(clock_max, $3) WHERE tenant_id = $1 AND replica = $2",
                      [tenant.uuidString, Int64(replica.rawValue), clock.pushed])
        }
        try await db.run(batch)
        return batch.statements.count
    }
}
