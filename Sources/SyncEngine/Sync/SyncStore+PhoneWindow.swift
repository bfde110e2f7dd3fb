import PostgresDriver
public import SyncCore
public import SyncWire

/// PhoneWindow: which rows phones keep, by each table's ``PhoneWindow`` (a visit while it is open or
/// within 30 days, an order's lines while the order is kept).
///
/// A row the window lets go of is *retired* (`row_retired`): it stays in its buckets, so scope
/// and departures judge writes as before, but the feed and snapshots leave it out, and each of its
/// buckets got a remove. Two things retire a row: a write that puts it outside its window (an old
/// visit completed late), judged with every change set by ``retain(touched:states:original:buckets:at:work:on:)``,
/// and time, which ``retireAged(at:batch:)`` (a periodic job) catches up with. A write that
/// puts a retired row back inside its window restores it: it arrives whole in each of its buckets.
/// Children follow their parent both ways. A phone asks for a retired row with ``fetch(_:tenant:visible:)``.
extension SyncStore {
    /// Settles the retirement of the rows a change set touched, in parents-first order; returns
    /// the touched rows phones do not keep, whose changes stay out of the feed.
    func retain(touched: [String: Set<RecordID>], states: [String: [RecordID: RecordState]], original: [String: [RecordID: RecordState]],
                buckets: [RecordRef: Set<Bucket>], at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws -> Set<RecordRef> {
        let schema = tables.schema.schema
        var dropped = Set<RecordRef>()
        for (tableName, ids) in touched.sorted(by: { (schema.position(of: $0.key) ?? .max, $0.key) < (schema.position(of: $1.key) ?? .max, $1.key) }) {
            let table = try tables.table(tableName)
            _ = try await work.retired(tableName, Array(ids), on: db)
            for id in ids.sorted() {
                let ref = RecordRef(table: tableName, record: id)
                let state = states[tableName]![id]!
                let kept = try await keeps(table, id, state, at: now, work: work, on: db)
                if !kept { dropped.insert(ref) }
                try await settle(ref, state, kept: kept, buckets: buckets[ref] ?? [], announced: original[tableName]?[id] != nil, at: now, work: work, on: db)
            }
        }
        return dropped
    }

    /// Whether phones keep a row: its table's phone window at `now`, a child's from whether its
    /// parent is retired.
    func keeps(_ table: TableSchema, _ id: RecordID, _ state: RecordState, at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws -> Bool {
        var parentKept: Bool?
        if let parent = table.windowParent, let parentID = state.id(parent.field) {
            parentKept = !(try await work.retired(parent.table, [parentID], on: db)[parentID] ?? false)
        }
        return table.keeps(id, state, at: now, parentKept: parentKept)
    }

    /// Retires `ref` (`kept` false: a remove in each of its buckets, unless it was never
    /// `announced`) or restores it (its whole state in each), then its children the same way.
    private func settle(_ ref: RecordRef, _ state: RecordState, kept: Bool, buckets: Set<Bucket>, announced: Bool, at now: Int64,
                        work: WorkingSet, on db: isolated PostgresConnection) async throws {
        guard work.isRetired(ref) == kept else { return }
        work.setRetired(ref, !kept)
        for bucket in buckets.sorted() {
            if kept {
                work.feed(bucket, .entered(RecordSnapshot(ref: ref, state: state)))
            } else if announced {
                work.feed(bucket, .remove(ref))
            }
        }
        for child in tables.schema.schema.tables {
            guard let parent = child.windowParent, parent.table == ref.table else { continue }
            let rows = try await work.query("SELECT id::text FROM \(child.name) WHERE tenant_id = $1 AND \(parent.field) = $2",
                                            [work.tenant.uuidString, ref.record.uuidString], on: db)
            let ids = try rows.map { RecordID(try $0.read(0, as: String.self))! }.sorted()
            guard !ids.isEmpty else { continue }
            let states = try await work.states(child.name, ids, on: db)
            let memberships = try await work.memberships(child.name, ids, on: db)
            _ = try await work.retired(child.name, ids, on: db)
            for id in ids {
                guard let childState = states[id] else { continue }
                let childKept = child.keeps(id, childState, at: now, parentKept: kept)
                try await settle(RecordRef(table: child.name, record: id), childState, kept: childKept, buckets: memberships[id] ?? [], announced: true,
                                 at: now, work: work, on: db)
            }
        }
    }

    /// The most rows one transaction of ``retireAged(at:batch:)`` retires.
    public static let retireBatchMax = 500

    /// Retires the rows that time has carried out of their window since the last run (a visit
    /// completed 30 days ago today), with their children, in every tenant: a remove in each of
    /// their buckets. Runs as a periodic job; a row written meanwhile is judged by its write.
    /// Returns how many rows it retired (children included).
    @discardableResult
    public func retireAged(at now: Int64, batch: Int = SyncStore.retireBatchMax) async throws -> Int {
        var retired = 0
        for table in tables.schema.schema.tables {
            guard case .window(let dates, let days, let open) = table.phoneWindow else { continue }
            let cutoff = now - Int64(days) * PhoneWindow.day
            // The candidates: held rows in a bucket whose date is before the cutoff and whose state
            // is not open (the exact test runs in Swift on the locked rows).
            let date = "coalesce(" + (dates.map { $0 == "id" ? Self.idMilliseconds("t.id") : "t.\($0)" } + ["NULL::bigint"]).joined(separator: ", ") + ")"
            let status = table.stateField.map { "AND (t.\($0) IS NULL OR t.\($0) <> ALL($4::text[]))" } ?? ""
            while true {
                let candidates = try await pool.withConnection { db in
                    try await db.query("""
                        SELECT t.tenant_id::text, t.id::text FROM \(table.name) t
                        WHERE \(date) < $1 \(status)
                          AND EXISTS (SELECT 1 FROM row_buckets r WHERE r.tenant_id = t.tenant_id AND r.tbl = $2 AND r.id = t.id)
                          AND NOT EXISTS (SELECT 1 FROM row_retired x WHERE x.tenant_id = t.tenant_id AND x.tbl = $2 AND x.id = t.id)
                        ORDER BY t.tenant_id, t.id LIMIT $3
                        """, [cutoff, table.name, batch] + (status.isEmpty ? [] : [PostgresArray.literal(open.sorted())]))
                        .map { (tenant: RecordID(try $0.read(0, as: String.self))!, id: RecordID(try $0.read(1, as: String.self))!) }
                }
                if candidates.isEmpty { break }
                var progress = false
                for (tenant, group) in Dictionary(grouping: candidates, by: \.tenant).sorted(by: { $0.key < $1.key }) {
                    let count = try await retire(table, group.map(\.id).sorted(), tenant: tenant, at: now)
                    retired += count
                    progress = progress || count > 0
                }
                // Rows the exact test keeps (a date the SQL cannot see) end the run for the table.
                if !progress || candidates.count < batch { break }
            }
        }
        return retired
    }

    /// The milliseconds a UUIDv7 column's id carries, in SQL.
    static func idMilliseconds(_ column: String) -> String {
        "('x' || replace(left(\(column)::text, 13), '-', ''))::bit(48)::bigint"
    }

    /// Retires `ids` of `table` that its phone window no longer keeps at `now`, in one transaction
    /// holding their locks. Returns how many rows it retired, children included.
    private func retire(_ table: TableSchema, _ ids: [RecordID], tenant: RecordID, at now: Int64) async throws -> Int {
        let tables = self.tables
        let clock = self.clock
        return try await pool.transaction { db in
            let work = WorkingSet(tables: tables, tenant: tenant, clock: clock)
            try await work.lock(ids.map { RecordRef(table: table.name, record: $0) }, on: db)
            let states = try await work.states(table.name, ids, on: db)
            let memberships = try await work.memberships(table.name, ids, on: db)
            _ = try await work.retired(table.name, ids, on: db)
            for id in ids {
                guard let state = states[id], !work.isRetired(RecordRef(table: table.name, record: id)) else { continue }
                guard !(try await keeps(table, id, state, at: now, work: work, on: db)) else { continue }
                try await settle(RecordRef(table: table.name, record: id), state, kept: false, buckets: memberships[id] ?? [], announced: true,
                                 at: now, work: work, on: db)
            }
            let count = work.retiring
            try await work.flush(on: db)
            return count
        }
    }

    /// The current state of `refs` and of their children that follow them (an order's lines, a
    /// visit's check-ins), for a phone opening a record it does not keep. A record is served,
    /// whole with its children, only when one of its buckets is in `visible` (the caller's buckets
    /// now); the refs not served come back in `missing`, whether they do not exist or the caller
    /// may not see them.
    ///
    /// - Parameter limit: The most rows served (a response's rows are bounded on the wire): a
    ///   record whose rows would pass it is not served, and comes back in `missing` to be asked again.
    public func fetch(_ refs: [RecordRef], tenant: RecordID, visible: Set<Bucket>,
                      limit: Int = WireLimits.recordsPerPageMax) async throws -> (snapshots: [RecordSnapshot], missing: [RecordRef]) {
        let tables = self.tables
        return try await pool.withConnection { db in
            var served: [RecordSnapshot] = []
            var missing: [RecordRef] = []
            var seen = Set<RecordRef>()
            for ref in refs where seen.insert(ref).inserted {
                guard tables.schema.schema.table(ref.table) != nil,
                      let family = try await Self.family(of: ref, tables: tables, tenant: tenant, visible: visible, on: db),
                      served.count + family.count <= limit else {
                    missing.append(ref)
                    continue
                }
                served += family
            }
            return (served, missing)
        }
    }

    /// A record the caller may see, with the rows that follow it and theirs, parents first; `nil`
    /// when the record is unknown or in none of the `visible` buckets.
    private static func family(of ref: RecordRef, tables: RecordTables, tenant: RecordID, visible: Set<Bucket>,
                               on db: isolated PostgresConnection) async throws -> [RecordSnapshot]? {
        var family: [RecordSnapshot] = []
        var level = [ref]
        while !level.isEmpty {
            var next: [RecordRef] = []
            for (tableName, group) in Dictionary(grouping: level, by: \.table).sorted(by: { $0.key < $1.key }) {
                let table = try tables.table(tableName)
                let ids = group.map(\.record).sorted()
                let states = try await tables.read(table, ids, tenant: tenant, on: db)
                var bucketsOf: [RecordID: Set<Bucket>] = [:]
                for row in try await db.query("SELECT id::text, bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = ANY($3::uuid[])",
                                              [tenant.uuidString, tableName, PostgresArray.literal(ids)]) {
                    bucketsOf[try row.read(0, as: RecordID.self), default: []].insert(try row.read(1, as: Bucket.self))
                }
                var found: [RecordID] = []
                for id in ids {
                    guard let state = states[id], !(bucketsOf[id] ?? []).isDisjoint(with: visible) else {
                        // The record itself must be visible; a child that is not is left out.
                        if RecordRef(table: tableName, record: id) == ref { return nil }
                        continue
                    }
                    family.append(RecordSnapshot(ref: RecordRef(table: tableName, record: id), state: state))
                    found.append(id)
                }
                guard !found.isEmpty else { continue }
                for child in tables.schema.schema.tables {
                    guard let parent = child.windowParent, parent.table == tableName else { continue }
                    for row in try await db.query("SELECT id::text FROM \(child.name) WHERE tenant_id = $1 AND \(parent.field) = ANY($2::uuid[])",
                                                  [tenant.uuidString, PostgresArray.literal(found)]) {
                        next.append(RecordRef(table: child.name, record: try row.read(0, as: RecordID.self)))
                    }
                }
            }
            level = next
        }
        return family
    }
}
