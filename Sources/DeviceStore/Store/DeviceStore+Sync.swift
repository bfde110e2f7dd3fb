public import SyncCore
public import SyncWire

extension DeviceStore {
    /// The oldest change sets not yet answered by the server, at most `limit`.
    public func pendingChangeSets(limit: Int = WireLimits.changeSetsPerPushMax) async throws -> [ChangeSet] {
        try await database.transaction { db in
            try db.query("SELECT body FROM outbox ORDER BY seq LIMIT ?", [limit]).map { row in
                try BinaryDecoder.decode(ChangeSet.self, from: try row.read(0, as: [UInt8].self))
            }
        }
    }

    /// How many change sets wait in the outbox.
    public func outboxCount() async throws -> Int {
        try await database.query("SELECT count(*) FROM outbox")[0].read(0, as: Int.self)
    }

    /// Keeps the server's answer to a push: every outcome is stored (rejected ones are the
    /// quarantine, shown with their reason and the server's state), change sets whose every change
    /// is answered leave the outbox, and a rejected write is replaced by the server's value, so the
    /// device converges with the server instead of holding an edit nobody else will see.
    public func recordOutcomes(_ response: PushResponse) async throws {
        let wall = Int64(wallClock.now())
        let schema = self.schema
        let keep = answeredKeepMilliseconds
        try await database.transaction { db in
            var clock = try Self.clock(in: db)
            clock.receive(response.serverClock, wallMilliseconds: UInt64(wall))
            try Self.save(clock, in: db)
            var answered: [ChangeID: ChangeOutcome] = [:]
            for outcome in response.outcomes { answered[outcome.change] = outcome }
            // The change sets that leave the outbox, those of them kept, and their records.
            var leaving: [Int64] = []
            var kept: [Int64] = []
            var answeredRows: [RecordRef] = []
            var seenRows = Set<RecordRef>()
            // The answered change sets are at the head of the outbox (a push sends its oldest), so
            // it is read a page at a time and no further than the last answered change: after a
            // week offline, each push's answer decoded every change set still waiting.
            var unmatched = Set(answered.keys)
            var page: ArraySlice<SQLiteRow> = []
            var seq: Int64 = .min
            while !unmatched.isEmpty {
                if page.isEmpty {
                    page = try db.query("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT 100", [seq])[...]
                    if page.isEmpty { break }
                }
                let row = page.removeFirst()
                seq = try row.read(0, as: Int64.self)
                let changeSet = try BinaryDecoder.decode(ChangeSet.self, from: try row.read(1, as: [UInt8].self))
                for change in changeSet.changes { unmatched.remove(change.id) }
                guard changeSet.changes.allSatisfy({ answered[$0.id] != nil }) else { continue }
                for change in changeSet.changes {
                    let outcome = answered[change.id]!
                    try db.run("""
                        INSERT OR REPLACE INTO outcomes (change_id, change_set_id, tbl, record, result, reason, findings, server_state, received_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [change.id.uuid.bytes, changeSet.id.uuid.bytes, change.table, change.record.bytes,
                              outcome.result.name, outcome.reason,
                              outcome.findings.map { "\($0.rule): \($0.message)" }.joined(separator: "\n"),
                              outcome.serverState.map { BinaryEncoder.encode($0) }, wall])
                    if outcome.result == .rejected {
                        try schema.revert(change, to: outcome.serverState, in: db)
                    }
                    db.noteWritten("outcomes")  // a WITHOUT ROWID table: SQLite's update hook does not see it
                }
                leaving.append(seq)
                // Kept to be uploaded again should the server's database go back before this answer;
                // a change set refused whole has nothing the server could lose.
                if changeSet.changes.contains(where: { answered[$0.id]!.result != .rejected }) { kept.append(seq) }
                for change in changeSet.changes where seenRows.insert(RecordRef(table: change.table, record: change.record)).inserted {
                    answeredRows.append(RecordRef(table: change.table, record: change.record))
                }
            }
            // The answered change sets are kept and leave the outbox in one statement each, their
            // sequences passed as one JSON array.
            if !kept.isEmpty {
                try db.run("""
                    INSERT OR REPLACE INTO answered_change_sets (seq, change_set_id, body, created_at, answered_at)
                    SELECT seq, change_set_id, body, created_at, ? FROM outbox WHERE seq IN (SELECT value FROM json_each(?))
                    """, [wall, Self.jsonArray(kept)])
            }
            if !leaving.isEmpty {
                try db.run("DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))", [Self.jsonArray(leaving)])
            }
            // A row that left the phone's buckets (or window) while its change waited goes now: each
            // record once, however many answered changes it had.
            for ref in answeredRows { try schema.collectIfOrphaned(ref.table, ref.record, in: db) }
            try db.run(DeviceSchema.pruneAnswered, [wall - keep])
            try schema.collectEvicted(in: db)
            try Self.dropOrphanedBytes(in: db)
        }
    }

    /// `[1,2,3]`: integers as a JSON array, for `json_each` (one parameter for a list).
    static func jsonArray(_ values: [Int64]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

    /// Applies one page of a pull — its change sets, snapshots, removes and the new cursor — in one
    /// transaction: after a crash the store holds the page entirely or not at all.
    public func apply(_ page: BucketPage, serverClock: HLC) async throws {
        let wall = Int64(wallClock.now())
        let schema = self.schema
        try await database.transaction { db in
            var clock = try Self.clock(in: db)
            clock.receive(serverClock, wallMilliseconds: UInt64(wall))
            // The page's changes merged per record before writing: each record is read once,
            // takes its changes in feed order, and is written once, with its membership.
            var order: [RecordRef] = []
            var merged: [RecordRef: MergingRecord] = [:]
            for changeSet in page.changeSets {
                for change in changeSet.changes {
                    let ref = RecordRef(table: change.table, record: change.record)
                    clock.receive(change.version.clock, wallMilliseconds: UInt64(wall))
                    var record: MergingRecord
                    if let known = merged[ref] {
                        record = known
                    } else {
                        record = MergingRecord(layout: try schema.layout(change.table), state: try schema.read(change.table, change.record, in: db))
                        order.append(ref)
                    }
                    let outcome = Merge.apply(change, to: record.state, table: record.layout.table)
                    record.state = outcome.state
                    record.changed = record.changed || outcome.changedAnything
                    merged[ref] = record
                    for conflict in outcome.conflicts {
                        try db.run("INSERT INTO conflicts (tbl, record, field, winner, loser, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                                   [conflict.table, conflict.record.bytes, conflict.field,
                                    BinaryEncoder.encode(conflict.winner), BinaryEncoder.encode(conflict.loser), wall])
                    }
                }
            }
            for ref in order {
                let record = merged[ref]!
                if record.changed, let state = record.state { try schema.write(ref.table, ref.record, state, in: db) }
                try db.run("INSERT OR IGNORE INTO row_buckets (bucket, tbl, id) VALUES (?, ?, ?)", [page.bucket, ref.table, ref.record.bytes])
            }
            for snapshot in page.snapshots {
                try schema.merge(snapshot, clock: &clock, wall: wall, in: db)
                try db.run("INSERT OR IGNORE INTO row_buckets (bucket, tbl, id) VALUES (?, ?, ?)", [page.bucket, snapshot.ref.table, snapshot.ref.record.bytes])
            }
            for remove in page.removes {
                try db.run("DELETE FROM row_buckets WHERE bucket = ? AND tbl = ? AND id = ?", [page.bucket, remove.table, remove.record.bytes])
                try schema.collectIfOrphaned(remove.table, remove.record, in: db)
            }
            try db.run("INSERT OR REPLACE INTO bucket_cursors (bucket, sequence, resume_tbl, resume_id) VALUES (?, ?, ?, ?)",
                       [page.bucket, Int64(bitPattern: page.cursor), page.resume?.table, page.resume?.record.bytes])
            try Self.save(clock, in: db)
        }
    }

    /// A record a page changes, while its changes are merged: read once, written once.
    private struct MergingRecord {
        let layout: TableLayout
        var state: RecordState?
        var changed = false
    }

    /// The cursor of every bucket the device holds.
    public func cursors() async throws -> [BucketCursor] {
        try await database.query("SELECT bucket, sequence, resume_tbl, resume_id FROM bucket_cursors ORDER BY bucket").map { row in
            let resume = try row.read(2, as: String?.self).flatMap { table in
                try row.read(3, as: [UInt8]?.self).flatMap(RecordID.init(bytes:)).map { RecordRef(table: table, record: $0) }
            }
            return BucketCursor(bucket: try row.read(0, as: Bucket.self), sequence: UInt64(bitPattern: try row.read(1, as: Int64.self)), resume: resume)
        }
    }

    /// Every row the device holds for a bucket it syncs, as (table, id), sorted.
    public func heldRows() async throws -> [RecordRef] {
        try await database.query("""
            SELECT DISTINCT r.tbl, r.id FROM row_buckets r JOIN bucket_cursors c ON c.bucket = r.bucket ORDER BY r.tbl, r.id
            """).map { RecordRef(table: try $0.read(0, as: String.self), record: RecordID(bytes: try $0.read(1, as: [UInt8].self))!) }
    }

    /// Sets the buckets the user may sync: new ones start at cursor 0 (primed from a snapshot on
    /// the next pull); lost ones are evicted (see ``evict(bucket:)``).
    public func setBuckets(_ buckets: [Bucket]) async throws {
        let schema = self.schema
        try await database.transaction { db in
            let held = Set(try db.query("SELECT bucket FROM bucket_cursors").map { try $0.read(0, as: Bucket.self) })
            for bucket in buckets where !held.contains(bucket) {
                try db.run("INSERT INTO bucket_cursors (bucket, sequence) VALUES (?, 0)", [bucket])
            }
            for bucket in held.subtracting(buckets) {
                try db.run("DELETE FROM bucket_cursors WHERE bucket = ?", [bucket])
            }
            try schema.collectEvicted(in: db)
        }
    }

    /// Stops syncing `bucket` and deletes its rows — except rows another held bucket still has and
    /// rows with changes the server has not answered yet, which stay until it has (their outcome
    /// arrives with a later push, and they are collected then).
    public func evict(bucket: Bucket) async throws {
        let schema = self.schema
        try await database.transaction { db in
            try db.run("DELETE FROM bucket_cursors WHERE bucket = ?", [bucket])
            try schema.collectEvicted(in: db)
        }
    }

    /// After the server answered `clock_ahead`: sets the device's clock back to `serverClock` and
    /// gives every change still in the outbox (nobody has seen them) a new version from it, in
    /// order, on the outbox and on the rows that carry it. Push again afterwards.
    ///
    /// New actions take the wall clock again; until the phone's clock is corrected, pushes keep
    /// meeting `clock_ahead` and keep being re-stamped.
    ///
    /// - Parameter replica: The replica number the versions take instead of their own: after a
    ///   restore, when the server could not give the install its number back.
    public func restamp(serverClock: HLC, replica: ReplicaID? = nil) async throws {
        let schema = self.schema
        try await database.transaction { db in
            var clock = try Self.clock(in: db)
            clock.rewind(to: serverClock)
            for row in try db.query("SELECT seq, body FROM outbox ORDER BY seq") {
                let changeSet = try BinaryDecoder.decode(ChangeSet.self, from: try row.read(1, as: [UInt8].self))
                let restamped = clock.restamp(changeSet.changes, wallMilliseconds: serverClock.milliseconds).map { change in
                    var change = change
                    if let replica { change.version = Version(clock: change.version.clock, replica: replica) }
                    return change
                }
                for (old, new) in zip(changeSet.changes, restamped) {
                    guard var state = try schema.read(new.table, new.record, in: db) else { continue }
                    for (name, field) in state.fields where field.version == old.version {
                        state.fields[name] = FieldState(value: field.value, version: new.version)
                    }
                    if state.tombstone == old.version { state.tombstone = new.version }
                    try schema.write(new.table, new.record, state, in: db)
                }
                try db.run("UPDATE outbox SET body = ? WHERE seq = ?",
                           [BinaryEncoder.encode(ChangeSet(id: changeSet.id, changes: restamped)), try row.read(0, as: Int64.self)])
            }
            try Self.save(clock, in: db)
        }
    }

    /// Starts `bucket` over from a snapshot, because the server's feed no longer reaches back to
    /// its cursor: forgets which rows the bucket held (rows no other bucket holds are deleted,
    /// except rows with unanswered changes) and sets the cursor to 0. Call it only after the
    /// outbox is uploaded, so that nothing of the device's own is lost.
    public func reprime(bucket: Bucket) async throws {
        let schema = self.schema
        try await database.transaction { db in
            try schema.collectOrphans(among: "SELECT tbl, id FROM row_buckets WHERE bucket = ?", [bucket], in: db) {
                try db.run("DELETE FROM row_buckets WHERE bucket = ?", [bucket])
            }
            try db.run("INSERT OR REPLACE INTO bucket_cursors (bucket, sequence, resume_tbl, resume_id) VALUES (?, 0, NULL, NULL)", [bucket])
        }
    }

    /// A change's stored outcome.
    public struct StoredOutcome: Sendable, Hashable {
        /// The change.
        public var change: ChangeID
        /// Its record.
        public var table: String
        /// See ``table``.
        public var record: RecordID
        /// `applied`, `applied_with_exception` or `rejected`.
        public var result: String
        /// Why it was rejected.
        public var reason: String?
        /// The rules that fired, one per line.
        public var findings: String
        /// The server's state of the record, for rejections.
        public var serverState: RecordState?

        /// The `outcomes` columns an outcome is read from, in ``init(row:)``'s order.
        static let columns = "change_id, tbl, record, result, reason, findings, server_state"

        init(row: SQLiteRow) throws {
            change = ChangeID(RecordID(bytes: try row.read(0, as: [UInt8].self))!)
            table = try row.read(1, as: String.self)
            record = RecordID(bytes: try row.read(2, as: [UInt8].self))!
            result = try row.read(3, as: String.self)
            reason = try row.read(4, as: String?.self)
            findings = try row.read(5, as: String.self)
            serverState = try row.read(6, as: [UInt8]?.self).map { try BinaryDecoder.decode(RecordState.self, from: $0) }
        }
    }

    /// Every stored outcome, newest first; `result` filters (`rejected` is the quarantine).
    public func outcomes(result: String? = nil) async throws -> [StoredOutcome] {
        try await database.query("""
            SELECT \(StoredOutcome.columns) FROM outcomes WHERE ?1 IS NULL OR result = ?1 ORDER BY received_at DESC, change_id
            """, [result]).map(StoredOutcome.init(row:))
    }

    /// The conflicts merges on this device met, newest first.
    public func conflicts() async throws -> [Conflict] {
        try await database.query("SELECT tbl, record, field, winner, loser FROM conflicts ORDER BY seq DESC").map { row in
            Conflict(table: try row.read(0, as: String.self), record: RecordID(bytes: try row.read(1, as: [UInt8].self))!,
                     field: try row.read(2, as: String.self),
                     winner: try BinaryDecoder.decode(FieldState.self, from: try row.read(3, as: [UInt8].self)),
                     loser: try BinaryDecoder.decode(FieldState.self, from: try row.read(4, as: [UInt8].self)))
        }
    }
}

extension DeviceSchema {
    /// Merges a record's full state from the server (a snapshot, an arrival, a fetched record)
    /// into the phone's row, and moves the clock past its versions.
    func merge(_ snapshot: RecordSnapshot, clock: inout HybridClock, wall: Int64, in db: isolated SQLiteDatabase) throws {
        let table = try layout(snapshot.ref.table).table
        let current = try read(table.name, snapshot.ref.record, in: db)
        let merged = current?.merged(with: snapshot.state, table: table) ?? snapshot.state
        for field in snapshot.state.fields.values { clock.receive(field.version.clock, wallMilliseconds: UInt64(wall)) }
        if merged != current { try write(table.name, snapshot.ref.record, merged, in: db) }
    }

    /// Undoes a rejected write locally: each field it set (and still holds) takes the server's
    /// value instead, and the server's state is merged in.
    func revert(_ change: Change, to serverState: RecordState?, in db: isolated SQLiteDatabase) throws {
        guard let layout = tables[change.table], var state = try read(change.table, change.record, in: db) else { return }
        switch change.operation {
        case .write(let writes):
            for write in writes where state.fields[write.field]?.version == change.version {
                state.fields[write.field] = serverState?.fields[write.field]
            }
        case .delete:
            if state.tombstone == change.version { state.tombstone = serverState?.tombstone }
        }
        if let serverState { state = state.merged(with: serverState, table: layout.table) }
        if state.fields.isEmpty && state.tombstone == nil {
            // A refused insert of a row the server does not have: nothing of it remains.
            try db.run("DELETE FROM row_buckets WHERE tbl = ? AND id = ?", [change.table, change.record.bytes])
            try remove(change.table, change.record, in: db)
            return
        }
        try write(change.table, change.record, state, in: db)
    }

    /// Deletes rows that no held bucket has any more and that have no unanswered change (nor were
    /// fetched on demand).
    func collectEvicted(in db: isolated SQLiteDatabase) throws {
        // The buckets that hold rows, found by skipping along the primary key (a handful of
        // lookups, where a scan of row_buckets would read every row the phone holds); then the
        // rows of those no longer held.
        let released = try db.query("""
            WITH RECURSIVE held(bucket) AS (
                SELECT min(bucket) FROM row_buckets
                UNION ALL
                SELECT (SELECT min(bucket) FROM row_buckets WHERE bucket > held.bucket) FROM held WHERE held.bucket IS NOT NULL
            )
            SELECT bucket FROM held WHERE bucket IS NOT NULL AND bucket NOT IN (SELECT bucket FROM bucket_cursors)
            """).map { try $0.read(0, as: Bucket.self) }
        for bucket in released {
            try collectOrphans(among: "SELECT tbl, id FROM row_buckets WHERE bucket = ?", [bucket], in: db)
        }
    }

    /// Deletes, among the rows `candidates` selects (`tbl, id`), those no held bucket has any
    /// more and that have no unanswered change (nor were fetched on demand), after running
    /// `meanwhile` (which may forget memberships): their memberships, their rows and their
    /// counters' contributions. A few statements per table, however many rows: starting over
    /// forgets a working set of 90,000 rows in one pass instead of five statements a row.
    func collectOrphans(among candidates: String, _ values: [any SQLiteBindable] = [], in db: isolated SQLiteDatabase,
                        meanwhile: () throws -> Void = {}) throws {
        try db.run("CREATE TEMP TABLE IF NOT EXISTS collect_candidates (tbl TEXT NOT NULL, id BLOB NOT NULL, PRIMARY KEY (tbl, id)) WITHOUT ROWID")
        try db.run("DELETE FROM collect_candidates")
        try db.run("INSERT OR IGNORE INTO collect_candidates (tbl, id) \(candidates)", values)
        try meanwhile()
        try db.run("DELETE FROM collect_candidates WHERE \(Self.kept(tbl: "collect_candidates.tbl", id: "collect_candidates.id"))")
        try db.run("DELETE FROM row_buckets WHERE (tbl, id) IN (SELECT tbl, id FROM collect_candidates)")
        for table in tables.keys.sorted() {
            try db.run("DELETE FROM \(table) WHERE id IN (SELECT id FROM collect_candidates WHERE tbl = ?)", [table])
        }
        try db.run("DELETE FROM counter_contributions WHERE (tbl, id) IN (SELECT tbl, id FROM collect_candidates)")
        try db.run("DELETE FROM collect_candidates")
    }

    /// Deletes one row, its memberships and its counters' contributions unless it is kept
    /// (``kept(tbl:id:)``).
    func collectIfOrphaned(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws {
        guard try db.query("SELECT 1 WHERE \(Self.kept(tbl: "?1", id: "?2"))", [table, id.bytes]).isEmpty else { return }
        try db.run("DELETE FROM row_buckets WHERE tbl = ? AND id = ?", [table, id.bytes])
        try remove(table, id, in: db)
    }

    /// The condition (SQL) under which the row `tbl`, `id` (SQL expressions) stays on the phone:
    /// a held bucket has it, it has an unanswered change, or it was fetched on demand. Every
    /// collection asks this one condition.
    static func kept(tbl: String, id: String) -> String {
        """
        EXISTS (SELECT 1 FROM row_buckets r JOIN bucket_cursors c ON c.bucket = r.bucket WHERE r.tbl = \(tbl) AND r.id = \(id))
        OR EXISTS (SELECT 1 FROM outbox_rows o WHERE o.tbl = \(tbl) AND o.id = \(id))
        OR EXISTS (SELECT 1 FROM fetched_rows f WHERE f.tbl = \(tbl) AND f.id = \(id))
        """
    }
}
