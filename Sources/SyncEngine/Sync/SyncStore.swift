public import Logging
public import PostgresDriver
public import SyncCore
public import SyncWire

/// The server's side of sync on PostgreSQL: merging pushed change sets and serving the change feed.
///
/// A push is applied in one PostgreSQL transaction (or one per sub-batch of a large push:
/// `SyncStore+Push.swift`): every change not seen before is admitted, screened, merged with the
/// same merge devices run, judged by the rules on arrival, and its change set appended to the
/// change feed of every bucket its rows are in. Each change set keeps its own outcome. A change
/// seen before gets its stored outcome again and applies nothing.
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
    /// The most change sets one push transaction applies (see `SyncStore+Push.swift`).
    public let pushBatchMax: Int
    /// The domain: its schema, its rules on arrival, its roles' reach and state moves.
    public let domain: any SyncDomain
    /// The business rules pushes are judged by.
    public var rules: any ArrivalRules { domain.rules }
    package let tables: RecordTables
    let logger: Logger
    /// The generation this server read last (`SyncStore+Generations.swift`).
    let generationCell = GenerationCell()

    /// Creates a store over `pool` for `domain`.
    ///
    /// - Parameter pushBatchMax: The most change sets one push transaction applies
    ///   (``batchChangeSetsMax`` unless a test compares sizes; 1 applies each change set in a
    ///   transaction of its own).
    public init(pool: PostgresPool, domain: any SyncDomain, clock: ServerClock = ServerClock(), logger: Logger = Logger(label: "fieldsync.sync"),
                pushBatchMax: Int = SyncStore.batchChangeSetsMax) {
        self.pool = pool
        self.domain = domain
        self.clock = clock
        self.tables = RecordTables(schema: ServerSchema(domain.schema))
        self.logger = logger
        self.pushBatchMax = max(1, pushBatchMax)
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
        /// The time of the request, in milliseconds since the epoch (from the server's injected clock).
        public var now: UInt64

        /// Creates an author.
        public init(role: Role, user: RecordID, now: UInt64) {
            self.role = role
            self.user = user
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

    /// Adds to `batch` the statement that takes a transaction-scoped advisory lock on each record
    /// (none for no records), in one order for every caller, so that two transactions writing one
    /// record merge one after the other instead of the later overwriting the earlier's merge. The
    /// statements after it in the batch run once every lock is held.
    static func lock(_ records: [(table: String, record: RecordID)], tenant: RecordID, into batch: inout PostgresBatch) {
        let keys = Set(records.map { lockKey($0.table, $0.record, tenant: tenant) }).sorted()
        guard !keys.isEmpty else { return }
        batch.add("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n)", [PostgresArray.bigints(keys)])
    }

    /// A record's lock key: its id's random bits mixed with its table's name and the tenant.
    static func lockKey(_ table: String, _ record: RecordID, tenant: RecordID) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in table.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: hash ^ record.low ^ record.high.byteSwapped ^ tenant.low)
    }

    /// The next page of `bucket` after `cursor` (a transaction id; 0 from the start): the entries
    /// (change sets, removes, rows that entered) of whole transactions, at most about `limit` of
    /// them, all from transactions older than every one still running.
    ///
    /// The watermark is cluster-wide, so a long transaction anywhere delays the feed (never breaks
    /// it): keep transactions short.
    public func changes(bucket: Bucket, after cursor: UInt64, limit: Int, tenant: RecordID) async throws -> BucketPage {
        let limit = max(limit, 1)
        return try await pool.withConnection { db in
            // The bucket's entries by transaction, in feed order. A row holds one transaction's
            // entries (FeedEntry), so rows are read in growing chunks until the page is decided.
            var transactions: [(xid: UInt64, entries: [FeedEntry])] = []
            var after = (xid: String(cursor), seq: Int64.max)
            var exhausted = false
            var chunk = 32
            while true {
                let rows = try await db.query("""
                    SELECT change_log.xid::text AS xid_text, seq, kind, change_set FROM change_log
                    WHERE tenant_id = $1 AND bucket = $2 AND (change_log.xid, seq) > ($3::text::xid8, $4::bigint)
                      AND change_log.xid < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY change_log.xid, seq LIMIT $5
                    """, [tenant.uuidString, bucket, after.xid, after.seq, chunk])
                for row in rows {
                    let xidText = try row.read(0, as: String.self)
                    let xid = UInt64(xidText)!
                    let entries = try FeedEntry.entries(kind: try row.read(2, as: Int.self), body: try row.read(3, as: [UInt8].self))
                    if transactions.last?.xid == xid { transactions[transactions.count - 1].entries += entries } else { transactions.append((xid, entries)) }
                    after = (xidText, try row.read(1, as: Int64.self))
                }
                exhausted = rows.count < chunk
                // Every transaction read but the last is whole; enough of them fill the page.
                if exhausted || transactions.dropLast().reduce(0, { $0 + $1.entries.count }) >= limit { break }
                chunk = min(chunk * 2, 4_096)
            }
            // Serve only whole transactions, at most `limit` entries of them; when the first is
            // larger, the page holds all of it, however many entries (the cursor moves past it whole).
            let whole = exhausted ? transactions[...] : transactions.dropLast()
            var served = 0
            var entries: [(xid: UInt64, entry: FeedEntry)] = []
            for transaction in whole {
                guard served == 0 || entries.count + transaction.entries.count <= limit else { break }
                entries += transaction.entries.map { (transaction.xid, $0) }
                served += 1
            }
            let hasMore = served < transactions.count
            var changeSets: [ChangeSet] = []
            var removes: [(at: Int, ref: RecordRef)] = []
            var entered: [(at: Int, snapshot: RecordSnapshot)] = []
            // Where each row last arrived and last left in this page, in feed order.
            var arrived: [RecordRef: Int] = [:]
            var left: [RecordRef: Int] = [:]
            for (position, entry) in entries.enumerated() {
                switch entry.entry {
                case .remove(let ref):
                    removes.append((position, ref))
                    left[ref] = position
                case .entered(let snapshot):
                    entered.append((position, snapshot))
                    arrived[snapshot.ref] = position
                case .changeSet(let changeSet):
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

    /// A page of `bucket`'s rows that phones keep (retired rows are left out), in (table, id)
    /// order, for a device priming the bucket.
    ///
    /// The first page (`cursor.sequence == 0`) fixes the cursor: the transaction watermark at that
    /// moment, which every later page keeps. Pages after it continue after `cursor.resume`. Rows
    /// that change while the pages are fetched arrive newer (which the merge takes in its stride)
    /// and again through the change feed from the watermark, so nothing is missed.
    public func snapshot(bucket: Bucket, cursor: BucketCursor, limit: Int, tenant: RecordID) async throws -> BucketPage {
        let tables = self.tables
        return try await pool.withConnection { db in
            let watermark = cursor.sequence == 0
                ? UInt64(try await db.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")[0].read(0, as: String.self))! - 1
                : cursor.sequence
            let after = cursor.resume ?? RecordRef(table: "", record: RecordID(high: 0, low: 0))
            let members = try await db.query("""
                SELECT r.tbl, r.id::text FROM row_buckets r WHERE r.tenant_id = $1 AND r.bucket = $2 AND (r.tbl, r.id) > ($3, $4::uuid)
                  AND NOT EXISTS (SELECT 1 FROM row_retired x WHERE x.tenant_id = r.tenant_id AND x.tbl = r.tbl AND x.id = r.id)
                ORDER BY r.tbl, r.id LIMIT $5
                """, [tenant.uuidString, bucket, after.table, after.record.uuidString, limit + 1])
            let page = members.prefix(limit)
            var snapshots: [RecordSnapshot] = []
            var byTable: [(String, [RecordID])] = []
            for row in page {
                let table = try row.read(0, as: String.self)
                let id = try row.read(1, as: RecordID.self)
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
    /// Seeded rows reach devices through snapshots, not through the change feed; rows their
    /// table's phone window does not keep at `now` (by default the clock's time) are retired.
    ///
    /// Then it analyzes the tables it wrote: without statistics until autovacuum's next pass, the
    /// planner takes a tenant's rows for a few dozen, and a push's bucket lookup reads every
    /// membership of the tenant.
    public func seed(_ records: [(table: String, id: RecordID, state: RecordState)], tenant: RecordID, at now: Int64? = nil) async throws {
        let written = try await write(seed: records, tenant: tenant, at: now ?? Int64(clock.milliseconds))
        try await pool.query("ANALYZE " + (written + ["row_buckets", "row_retired"]).joined(separator: ", "))
    }

    /// The seed's one transaction: the rows, their memberships and their retirements. Returns the
    /// record tables it wrote.
    private func write(seed records: [(table: String, id: RecordID, state: RecordState)], tenant: RecordID, at now: Int64) async throws -> [String] {
        let tables = self.tables
        return try await pool.transaction { db in
            var bucketsOf: [String: Set<Bucket>] = [:]
            var memberships: [[PostgresValue]] = []
            var retired: [[PostgresValue]] = []
            var retiredRefs = Set<RecordRef>()
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
                        memberships.append([.uuid(tenant), bucket.postgresValue, .text(tableName), .uuid(id)])
                    }
                    let parentKept = table.windowParent.flatMap { parent in
                        state.id(parent.field).map { !retiredRefs.contains(RecordRef(table: parent.table, record: $0)) }
                    }
                    if !table.keeps(id, state, at: now, parentKept: parentKept) {
                        retiredRefs.insert(RecordRef(table: tableName, record: id))
                        retired.append([.uuid(tenant), .text(tableName), .uuid(id), .integer(Int64(now))])
                    }
                }
            }
            try await db.copy(into: "row_buckets", columns: ["tenant_id", "bucket", "tbl", "id"], rows: memberships)
            try await db.copy(into: "row_retired", columns: ["tenant_id", "tbl", "id", "retired_at"], rows: retired)
            return order
        }
    }
}
