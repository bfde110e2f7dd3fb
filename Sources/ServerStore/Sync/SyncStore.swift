public import Logging
import FieldModel
public import SyncCore
public import SyncWire

/// The server's side of sync on PostgreSQL: merging pushed change sets and serving the change feed.
///
/// A pushed change set is applied in one PostgreSQL transaction: every change not seen before is
/// validated against the schema, merged with the same merge devices run (the records of a table are
/// read and written with one statement each), its conflicts recorded, and the change set appended
/// to the change feed of every bucket its rows are in. A change seen before gets its stored
/// outcome again and applies nothing.
///
/// The feed is exact: a pull serves only rows of transactions below
/// `pg_snapshot_xmin(pg_current_snapshot())` — older than every transaction still running — in
/// transaction order, and the cursor it returns is the last transaction served. A transaction that
/// commits late cannot be overtaken, so no change is skipped and none is served twice.
public struct SyncStore: Sendable {
    /// The pool the store uses.
    public let pool: PostgresPool
    /// The clock of the server's own writes.
    public let clock: ServerClock
    let tables: RecordTables
    let logger: Logger

    /// Creates a store over `pool` for `schema`.
    public init(pool: PostgresPool, schema: Schema, clock: ServerClock = ServerClock(), logger: Logger = Logger(label: "fieldsync.sync")) {
        self.pool = pool
        self.clock = clock
        self.tables = RecordTables(schema: ServerSchema(schema))
        self.logger = logger
    }

    /// How long a row that left an author's own `user:` bucket (a visit or work order reassigned)
    /// stays writable by that author's offline work, flagged `no_longer_owned`: a rep who worked
    /// a visit without knowing it was reassigned keeps the work. Territories are judged strictly
    /// at the change's time.
    public static let offlineGrace: Int64 = 7 * 86_400_000

    /// Who wrote a pushed change set, for authorization.
    public struct Author: Sendable {
        /// The author's role, whose write access each field is checked against.
        public var role: Role
        /// The author.
        public var user: RecordID
        /// Whether the author's writes are confined to the buckets the author may see (reps and
        /// technicians): a row outside them is refused, whatever its id.
        public var confined: Bool
        /// The time of the request, in milliseconds since the epoch (from the server's injected clock).
        public var now: UInt64

        /// Creates an author.
        public init(role: Role, user: RecordID, now: UInt64) {
            self.role = role
            self.user = user
            self.confined = role == .rep || role == .technician
            self.now = now
        }
    }

    /// What a push did with one change set.
    public struct Applied: Sendable {
        /// One outcome per change, in order.
        public var outcomes: [ChangeOutcome]
        /// The conflicts met.
        public var conflicts: [Conflict]
    }

    /// Applies one change set from `replica` in one transaction.
    ///
    /// - Parameter author: Who wrote it (`nil` for the server itself, which may write anything).
    ///   Each field is checked against the author's role, and a confined author's rows must lie in
    ///   buckets the author could see at the change's time; work done while the author still had
    ///   the row, but no longer has it, is applied and flagged.
    /// - Parameter judging: Whether the rules on arrival run (`false` only when a reviewer
    ///   overrides a quarantined change).
    ///
    /// A transaction that meets a deadlock or a serialization failure is run again, up to three times.
    public func push(_ changeSet: ChangeSet, batch: RecordID, replica: ReplicaID, author: Author? = nil, judging: Bool = true,
                     tenant: RecordID) async throws -> Applied {
        var scope: (atChange: Set<String>, now: Set<String>)?
        if let author, author.confined, let first = changeSet.changes.first {
            let atChange = try await buckets(user: author.user, role: author.role, tenant: tenant, at: Int64(first.version.clock.milliseconds))
            let now = try await buckets(user: author.user, role: author.role, tenant: tenant, at: Int64(author.now))
            scope = (Set(atChange), Set(now))
        }
        let confinedTo = scope
        for change in changeSet.changes { clock.receive(change.version.clock) }
        // A change set whose attempts died with the process is refused, not run again (SyncStore+Attempts.swift).
        return try await attempting(changeSet.id, tenant: tenant) { refuse, db in
            var attempt = 0
            while true {
                attempt += 1
                do {
                    return try await db.transaction { db in
                        try await self.apply(changeSet, batch: batch, replica: replica, author: author, scope: confinedTo, judging: judging,
                                             refusing: refuse, tenant: tenant, on: db)
                    }
                } catch let error as PostgresError where attempt < 3 && ["40P01", "40001"].contains(error.sqlState ?? "") {
                    self.logger.info("a push met a concurrent one; running it again", metadata: ["sqlstate": "\(error.sqlState ?? "")"])
                }
            }
        }
    }

    /// Applies one change set inside the caller's transaction on `db` (``push(_:batch:replica:author:judging:tenant:)``
    /// opens one; the HTTP layer and tests may wrap more around it).
    ///
    /// The steps, in order: lock the touched records; answer replays with their stored outcome;
    /// admit (schema and ranges, clock, scope, field access, identity and state moves,
    /// references: `SyncStore+Admission.swift`); screen (the rules that reject); merge, write,
    /// place and log; judge (the rules that flag and the server's own consequent writes, logged as
    /// a change set of their own); record the decisions and every outcome.
    ///
    /// - Parameter scope: For a confined author, the buckets the author could see at the change's
    ///   time and can see now (see ``push(_:batch:replica:author:judging:tenant:)``).
    /// - Parameter refusing: Whether every change not answered before is refused (`server_fault`)
    ///   and nothing else runs: a change set whose attempts died with the process.
    public func apply(_ changeSet: ChangeSet, batch: RecordID, replica: ReplicaID, author: Author? = nil,
                      scope: (atChange: Set<String>, now: Set<String>)? = nil, judging: Bool = true, refusing: Bool = false,
                      tenant: RecordID, on db: isolated PostgresConnection) async throws -> Applied {
        let now = Int64(author?.now ?? clock.milliseconds)
        try await Self.lock(changeSet.changes.map { ($0.table, $0.record) }, tenant: tenant, on: db)
        var outcomes: [ChangeID: ChangeOutcome] = [:]
        let ids = PostgresArray.literal(changeSet.changes.map(\.id.uuid))
        for row in try await db.query("SELECT change_id, outcome FROM applied_changes WHERE tenant_id = $1 AND change_id = ANY($2::uuid[])",
                                      [tenant.uuidString, ids]) {
            let outcome = try BinaryDecoder.decode(ChangeOutcome.self, from: try row.read(1, as: [UInt8].self))
            outcomes[outcome.change] = outcome
        }
        let answeredBefore = Set(outcomes.keys)
        var judge = ArrivalJudge(store: self, tenant: tenant, author: author, replica: replica, now: now)

        // Admission (SyncStore+Admission.swift): schema, clock, scope, access, references.
        var fresh = admitSchema(changeSet.changes.filter { outcomes[$0.id] == nil }, judge: &judge)
        if refusing {
            for change in fresh { judge.reject(change, Self.serverFault, serverState: nil) }
            fresh = []
        }
        var touched = try await readTouched(fresh, departures: scope != nil, tenant: tenant, on: db)
        if author != nil { fresh = try await admitClocks(fresh, replica: replica, judge: &judge, tenant: tenant, on: db) }
        if let scope { fresh = try await admitScope(fresh, scope: scope, touched: &touched, judge: &judge, tenant: tenant, on: db) }
        if let author {
            fresh = try admitAccess(fresh, author: author, touched: touched, judge: &judge)
            fresh = try await admitReferences(fresh, author: author, scope: scope, touched: touched, judge: &judge, tenant: tenant, on: db)
        }
        var states = touched.states
        let memberships = touched.memberships
        let guessed = touched.guessed
        FaultInjection.trapIfAsked(fresh)
        if judging { fresh = try await judge.screen(fresh, states: states, on: db) }

        let original = states
        let conflicts = try await commit(fresh, as: changeSet.id, states: &states, memberships: memberships, guessed: guessed, at: now, tenant: tenant, on: db)
        if judging {
            try await judge.judge(fresh, original: original, merged: states, on: db)
            try await commitDerived(judge.derived, at: now, tenant: tenant, on: db)
        }

        for change in fresh {
            let findings = (judge.findings[change.id] ?? []).map { Finding(rule: $0.rule.name, message: $0.message) }
            outcomes[change.id] = ChangeOutcome(change: change.id, result: findings.isEmpty ? .applied : .appliedWithException, findings: findings)
        }
        for (id, rejection) in judge.rejections {
            outcomes[id] = ChangeOutcome(change: id, result: .rejected, findings: [Finding(rule: rejection.finding.rule.name, message: rejection.finding.message)],
                                         reason: rejection.finding.rule.name, serverState: rejection.serverState)
        }
        try await judge.record(changeSet.changes.filter { !answeredBefore.contains($0.id) }, on: db)
        // Every answer is kept, rejections included, so that a replay gets exactly the same answer.
        for change in changeSet.changes where !answeredBefore.contains(change.id) {
            try await db.query("INSERT INTO applied_changes (tenant_id, change_id, batch_id, replica, outcome) VALUES ($1, $2, $3, $4, $5)",
                               [tenant.uuidString, change.id.uuid.uuidString, batch.uuidString, Int64(replica.rawValue), BinaryEncoder.encode(outcomes[change.id]!)])
        }
        return Applied(outcomes: changeSet.changes.map { outcomes[$0.id]! }, conflicts: conflicts)
    }

    /// Merges `changes` (already checked) into `states`, writes the records, places them in their
    /// buckets, appends the change set `id` to the feed of each bucket its rows are in and records
    /// the conflicts met. Returns the conflicts.
    ///
    /// - Parameter guessed: For rows a device created, the buckets the device placed them in by
    ///   its own view ("table/id"); each such bucket the row is not in on the server gets a remove,
    ///   so the device lets go of a row that, say, belongs to a visit reassigned meanwhile.
    func commit(_ changes: [Change], as id: ChangeID, states: inout [String: [RecordID: RecordState]], memberships: [String: [RecordID: Set<String>]],
                guessed: [String: Set<String>] = [:], at now: Int64, tenant: RecordID, on db: isolated PostgresConnection) async throws -> [Conflict] {
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
        for (tableName, ids) in touched {
            try await tables.write(try tables.table(tableName), ids.map { ($0, states[tableName]![$0]!) }, tenant: tenant, on: db)
        }

        // Bucket membership and the feed: the change set, filtered to each bucket's rows; a row
        // that left a bucket is a remove there, and a row that entered one arrives whole.
        let bucketsOf = try await place(touched: touched, states: states, original: original, memberships: memberships, at: now, tenant: tenant, on: db)
        var perBucket: [String: [Change]] = [:]
        for change in changes {
            for bucket in bucketsOf["\(change.table)/\(change.record.uuidString)"] ?? [] { perBucket[bucket, default: []].append(change) }
        }
        for (bucket, changes) in perBucket.sorted(by: { $0.key < $1.key }) {
            try await db.query("INSERT INTO change_log (tenant_id, bucket, change_set) VALUES ($1, $2, $3)",
                               [tenant.uuidString, bucket, BinaryEncoder.encode(ChangeSet(id: id, changes: changes))])
        }
        for (key, buckets) in guessed.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/")
            guard parts.count == 2, let record = RecordID(parts[1]) else { continue }
            for bucket in buckets.subtracting(bucketsOf[key] ?? []).sorted() {
                try await db.query("INSERT INTO change_log (tenant_id, bucket, kind, change_set) VALUES ($1, $2, 1, $3)",
                                   [tenant.uuidString, bucket, BinaryEncoder.encode(RecordRef(table: String(parts[0]), record: record))])
            }
        }
        for conflict in conflicts {
            try await db.query("""
                INSERT INTO conflicts (tenant_id, tbl, record, field, winner, loser, winner_replica, loser_replica)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [tenant.uuidString, conflict.table, conflict.record.uuidString, conflict.field,
                      BinaryEncoder.encode(conflict.winner), BinaryEncoder.encode(conflict.loser),
                      Int64(conflict.winner.version.replica.rawValue), Int64(conflict.loser.version.replica.rawValue)])
        }
        return conflicts
    }

    /// Takes a transaction-scoped advisory lock on each record, in one order for every caller, so
    /// that two transactions writing one record merge one after the other instead of the later
    /// overwriting the earlier's merge.
    static func lock(_ records: [(table: String, record: RecordID)], tenant: RecordID, on db: isolated PostgresConnection) async throws {
        let keys = Set(records.map { lockKey($0.table, $0.record, tenant: tenant) }).sorted()
        guard !keys.isEmpty else { return }
        try await db.query("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n)",
                           [PostgresArray.literal(keys.map(String.init))])
    }

    /// A record's lock key: its id's random bits mixed with its table's name and the tenant.
    static func lockKey(_ table: String, _ record: RecordID, tenant: RecordID) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in table.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: hash ^ record.low ^ record.high.byteSwapped ^ tenant.low)
    }

    /// The next page of `bucket` after `cursor` (a transaction id; 0 from the start): whole change
    /// sets, at most about `limit` of them, all from transactions older than every one still running.
    ///
    /// The watermark is cluster-wide, so a long transaction anywhere delays the feed (never breaks
    /// it): keep transactions short.
    public func changes(bucket: String, after cursor: UInt64, limit: Int, tenant: RecordID) async throws -> BucketPage {
        try await pool.withConnection { db in
            let rows = try await db.query("""
                SELECT change_log.xid::text AS xid_text, kind, change_set FROM change_log
                WHERE tenant_id = $1 AND bucket = $2 AND change_log.xid > $3::text::xid8 AND change_log.xid < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY change_log.xid, seq LIMIT $4
                """, [tenant.uuidString, bucket, String(cursor), limit + 1])
            func entry(_ row: PostgresRow) throws -> (xid: UInt64, kind: Int, body: [UInt8]) {
                (UInt64(try row.read(0, as: String.self))!, try row.read(1, as: Int.self), try row.read(2, as: [UInt8].self))
            }
            var entries = try rows.map(entry)
            var hasMore = false
            if entries.count > limit {
                hasMore = true
                // Serve only whole transactions: drop the last one's rows; when it is the only one,
                // the page holds all of it, however many rows (the cursor moves past it whole).
                let last = entries[entries.count - 1].xid
                let kept = entries.dropLast().filter { $0.xid != last }
                entries = kept.isEmpty
                    ? try await db.query("""
                        SELECT change_log.xid::text AS xid_text, kind, change_set FROM change_log
                        WHERE tenant_id = $1 AND bucket = $2 AND change_log.xid = $3::text::xid8 ORDER BY seq
                        """, [tenant.uuidString, bucket, String(last)]).map(entry)
                    : Array(kept)
            }
            var changeSets: [ChangeSet] = []
            var removes: [(at: Int, ref: RecordRef)] = []
            var entered: [(at: Int, snapshot: RecordSnapshot)] = []
            // Where each row last arrived and last left in this page, in feed order.
            var arrived: [RecordRef: Int] = [:]
            var left: [RecordRef: Int] = [:]
            for (position, entry) in entries.enumerated() {
                switch entry.kind {
                case 1:
                    let ref = try BinaryDecoder.decode(RecordRef.self, from: entry.body)
                    removes.append((position, ref))
                    left[ref] = position
                case 2:
                    let snapshot = try BinaryDecoder.decode(RecordSnapshot.self, from: entry.body)
                    entered.append((position, snapshot))
                    arrived[snapshot.ref] = position
                default:
                    let changeSet = try BinaryDecoder.decode(ChangeSet.self, from: entry.body)
                    changeSets.append(changeSet)
                    for change in changeSet.changes { arrived[RecordRef(table: change.table, record: change.record)] = position }
                }
            }
            // A device applies a page's change sets, then its snapshots, then its removes
            // (messages.md), so the page carries each row's last word only: no remove of a row
            // that arrived again after it, no snapshot of a row that left after it.
            return BucketPage(bucket: bucket, kind: .changes, changeSets: changeSets,
                              snapshots: entered.filter { (left[$0.snapshot.ref] ?? -1) < $0.at }.map(\.snapshot),
                              removes: removes.filter { (arrived[$0.ref] ?? -1) < $0.at }.map(\.ref),
                              cursor: entries.last?.xid ?? cursor, hasMore: hasMore)
        }
    }

    /// A page of `bucket`'s rows, in (table, id) order, for a device priming the bucket.
    ///
    /// The first page (`cursor.sequence == 0`) fixes the cursor: the transaction watermark at that
    /// moment, which every later page keeps. Pages after it continue after `cursor.resume`. Rows
    /// that change while the pages are fetched arrive newer (which the merge takes in its stride)
    /// and again through the change feed from the watermark, so nothing is missed.
    public func snapshot(bucket: String, cursor: BucketCursor, limit: Int, tenant: RecordID) async throws -> BucketPage {
        let tables = self.tables
        return try await pool.withConnection { db in
            let watermark = cursor.sequence == 0
                ? UInt64(try await db.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")[0].read(0, as: String.self))! - 1
                : cursor.sequence
            let after = cursor.resume ?? RecordRef(table: "", record: RecordID(high: 0, low: 0))
            let members = try await db.query("""
                SELECT tbl, id::text FROM row_buckets WHERE tenant_id = $1 AND bucket = $2 AND (tbl, id) > ($3, $4::uuid)
                ORDER BY tbl, id LIMIT $5
                """, [tenant.uuidString, bucket, after.table, after.record.uuidString, limit + 1])
            let page = members.prefix(limit)
            var snapshots: [RecordSnapshot] = []
            var byTable: [(String, [RecordID])] = []
            for row in page {
                let table = try row.read(0, as: String.self)
                let id = RecordID(try row.read(1, as: String.self))!
                if byTable.last?.0 == table { byTable[byTable.count - 1].1.append(id) } else { byTable.append((table, [id])) }
            }
            for (tableName, ids) in byTable {
                let states = try await tables.read(try tables.table(tableName), ids, tenant: tenant, on: db)
                for id in ids { if let state = states[id] { snapshots.append(RecordSnapshot(ref: RecordRef(table: tableName, record: id), state: state)) } }
            }
            let more = members.count > limit
            let last = byTable.last.map { RecordRef(table: $0.0, record: $0.1.last!) }
            return BucketPage(bucket: bucket, kind: .snapshot, snapshots: snapshots, cursor: watermark, hasMore: more, resume: more ? last : nil)
        }
    }
}

extension SyncStore {
    /// Writes records as the server's own (initial data: a tenant's import, the demo set), in one
    /// transaction, with their bucket membership. `records` must list parents before children.
    /// Seeded rows reach devices through snapshots, not through the change feed.
    public func seed(_ records: [(table: String, id: RecordID, state: RecordState)], tenant: RecordID) async throws {
        let tables = self.tables
        try await pool.transaction { db in
            var bucketsOf: [String: Set<String>] = [:]
            var memberships: [[PostgresValue]] = []
            var order: [String] = []
            var grouped: [String: [(RecordID, RecordState)]] = [:]
            for record in records {
                if grouped[record.table] == nil { order.append(record.table) }
                grouped[record.table, default: []].append((record.id, record.state))
            }
            // Referrers rules read rows that may come later in `records`: index them first.
            var referrers: [String: Set<RecordID>] = [:]  // "table/through/field/target" → values
            for table in tables.schema.schema.tables {
                for case .referrers(let referrer, let through, let field, _) in table.buckets {
                    for (_, state) in grouped[referrer] ?? [] where !state.isDeleted(under: try tables.table(referrer).tombstones) {
                        guard case .id(let target)? = state.fields[through]?.value, case .id(let value)? = state.fields[field]?.value else { continue }
                        referrers["\(referrer)/\(through)/\(field)/\(target.uuidString)", default: []].insert(value)
                    }
                }
            }
            for tableName in order {
                let table = try tables.table(tableName)
                let rows = grouped[tableName]!
                try await tables.write(table, rows, tenant: tenant, on: db)
                for (id, state) in rows {
                    let buckets = table.buckets(of: id, state: state,
                                                parentBuckets: { parentTable, parent in bucketsOf["\(parentTable)/\(parent.uuidString)"] ?? [] },
                                                referrers: { referrer, through, field, target in referrers["\(referrer)/\(through)/\(field)/\(target.uuidString)"] ?? [] })
                    bucketsOf["\(tableName)/\(id.uuidString)"] = table.inheritable(buckets)
                    for bucket in buckets.sorted() {
                        memberships.append([.text(tenant.uuidString), .text(bucket), .text(tableName), .text(id.uuidString)])
                    }
                }
            }
            try await db.copy(into: "row_buckets", columns: ["tenant_id", "bucket", "tbl", "id"], rows: memberships)
        }
    }
}
