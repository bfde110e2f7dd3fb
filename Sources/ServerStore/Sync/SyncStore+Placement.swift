import SyncCore
import SyncWire

/// Placement: which buckets a row is in, and moving rows between buckets with the feed entries
/// that tell devices (a remove where a row left, its full state where it arrived).
///
/// A row's buckets follow from its own fields, its parent's buckets and, for a
/// ``BucketRule/referrers(_:through:field:prefix:)`` rule, from the rows that refer to it. So a
/// write can move rows it never touched: the visits and orders of a customer that changed
/// territory, the customer of a work order assigned to a technician. ``place(touched:states:original:memberships:tenant:on:)``
/// follows those dependencies until nothing more moves.
extension SyncStore {
    /// Places the rows a change set touched and every row that depends on them; returns the
    /// buckets of each touched row ("table/id"), whose feed carries the change set.
    func place(touched: [String: Set<RecordID>], states: [String: [RecordID: RecordState]], original: [String: [RecordID: RecordState]],
               memberships: [String: [RecordID: Set<String>]], at now: Int64, tenant: RecordID, on db: isolated PostgresConnection) async throws -> [String: Set<String>] {
        var bucketsOf: [String: Set<String>] = [:]
        var moved: [String: Set<RecordID>] = [:]       // rows whose buckets changed: their children follow
        var referred: [String: Set<RecordID>] = [:]    // rows a touched referrer points (or pointed) at
        // Parents first: a child created in the same change set takes its buckets from its
        // parent's membership, which must be written before.
        let schema = tables.schema.schema
        for (tableName, ids) in touched.sorted(by: { (schema.position(of: $0.key) ?? .max, $0.key) < (schema.position(of: $1.key) ?? .max, $1.key) }) {
            let table = try tables.table(tableName)
            let referring = tables.schema.schema.tables.flatMap { dependent in
                dependent.referrerRules.filter { $0.table == tableName }.map { (dependent: dependent.name, through: $0.through) }
            }
            for id in ids.sorted() {
                let state = states[tableName]![id]!
                let buckets = try await Self.buckets(of: table, id, state, tables: tables, tenant: tenant, on: db)
                bucketsOf["\(tableName)/\(id.uuidString)"] = buckets
                let before = memberships[tableName]?[id] ?? []
                // A row new to the server arrives with its change set; one that moves arrives whole.
                if try await move(RecordRef(table: tableName, record: id), state, from: before, to: buckets, announce: !before.isEmpty, at: now, tenant: tenant, on: db) {
                    moved[tableName, default: []].insert(id)
                }
                for rule in referring {
                    for value in [original[tableName]?[id]?.fields[rule.through]?.value, state.fields[rule.through]?.value] {
                        if case .id(let target)? = value { referred[rule.dependent, default: []].insert(target) }
                    }
                }
            }
        }
        var visited = Set(touched.flatMap { table, ids in ids.map { "\(table)/\($0.uuidString)" } })
        var pending = referred
        while true {
            for (parentTable, ids) in moved {
                for child in tables.schema.schema.tables {
                    for case .parent(let field, let parent) in child.buckets where parent == parentTable {
                        let rows = try await db.query("SELECT id::text FROM \(child.name) WHERE tenant_id = $1 AND \(field) = ANY($2::uuid[])",
                                                      [tenant.uuidString, PostgresArray.literal(Array(ids))])
                        for row in rows { pending[child.name, default: []].insert(RecordID(try row.read(0, as: String.self))!) }
                    }
                }
            }
            moved = [:]
            var work: [(String, [RecordID])] = []
            for (tableName, ids) in pending.sorted(by: { $0.key < $1.key }) {
                let fresh = ids.filter { visited.insert("\(tableName)/\($0.uuidString)").inserted }.sorted()
                if !fresh.isEmpty { work.append((tableName, fresh)) }
            }
            pending = [:]
            if work.isEmpty { break }
            for (tableName, ids) in work {
                let table = try tables.table(tableName)
                let current = try await tables.read(table, ids, tenant: tenant, on: db)
                let before = try await Self.memberships(tableName, ids, tenant: tenant, on: db)
                for id in ids {
                    guard let state = current[id] else { continue }
                    let buckets = try await Self.buckets(of: table, id, state, tables: tables, tenant: tenant, on: db)
                    if try await move(RecordRef(table: tableName, record: id), state, from: before[id] ?? [], to: buckets, announce: true, at: now, tenant: tenant, on: db) {
                        moved[tableName, default: []].insert(id)
                    }
                }
            }
        }
        return bucketsOf
    }

    /// Records that `ref` is in `buckets` instead of `before`: a remove entry in each bucket it
    /// left (remembered in `row_departures` with the time `now`) and, when `announce`, its full
    /// state in each it entered. Whether anything changed.
    func move(_ ref: RecordRef, _ state: RecordState, from before: Set<String>, to buckets: Set<String>, announce: Bool,
              at now: Int64, tenant: RecordID, on db: isolated PostgresConnection) async throws -> Bool {
        guard before != buckets else { return false }
        for bucket in before.subtracting(buckets).sorted() {
            try await db.query("DELETE FROM row_buckets WHERE tenant_id = $1 AND bucket = $2 AND tbl = $3 AND id = $4",
                               [tenant.uuidString, bucket, ref.table, ref.record.uuidString])
            try await db.query("INSERT INTO change_log (tenant_id, bucket, kind, change_set) VALUES ($1, $2, 1, $3)",
                               [tenant.uuidString, bucket, BinaryEncoder.encode(ref)])
            try await db.query("INSERT INTO row_departures (tenant_id, tbl, id, bucket, departed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                               [tenant.uuidString, ref.table, ref.record.uuidString, bucket, now])
        }
        for bucket in buckets.subtracting(before).sorted() {
            try await db.query("INSERT INTO row_buckets (tenant_id, bucket, tbl, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                               [tenant.uuidString, bucket, ref.table, ref.record.uuidString])
            if announce {
                try await db.query("INSERT INTO change_log (tenant_id, bucket, kind, change_set) VALUES ($1, $2, 2, $3)",
                                   [tenant.uuidString, bucket, BinaryEncoder.encode(RecordSnapshot(ref: ref, state: state))])
            }
        }
        return true
    }

    /// The buckets each of `ids` in `table` is in now, in one query.
    static func memberships(_ table: String, _ ids: [RecordID], tenant: RecordID, on db: isolated PostgresConnection) async throws -> [RecordID: Set<String>] {
        let rows = try await db.query("SELECT id::text, bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = ANY($3::uuid[])",
                                      [tenant.uuidString, table, PostgresArray.literal(ids)])
        var memberships: [RecordID: Set<String>] = [:]
        for row in rows { memberships[RecordID(try row.read(0, as: String.self))!, default: []].insert(try row.read(1, as: String.self)) }
        return memberships
    }

    /// When each of `ids` in `table` left which bucket.
    static func departures(_ table: String, _ ids: [RecordID], tenant: RecordID, on db: isolated PostgresConnection) async throws -> [RecordID: [(bucket: String, at: Int64)]] {
        let rows = try await db.query("SELECT id::text, bucket, departed_at FROM row_departures WHERE tenant_id = $1 AND tbl = $2 AND id = ANY($3::uuid[])",
                                      [tenant.uuidString, table, PostgresArray.literal(ids)])
        var departures: [RecordID: [(bucket: String, at: Int64)]] = [:]
        for row in rows {
            departures[RecordID(try row.read(0, as: String.self))!, default: []].append((try row.read(1, as: String.self), try row.read(2, as: Int64.self)))
        }
        return departures
    }

    /// The buckets a row is in: parents' buckets through `row_buckets`, referrers through their tables.
    ///
    /// - Parameter asOf: When given, a parent's buckets include those it left after this time
    ///   (milliseconds): the buckets a new row would have been in then.
    /// - Parameter known: Buckets of rows not yet written ("table/id"), for a parent created
    ///   earlier in the same change set.
    ///   `assignedSince` does the same for a parent's `user:` buckets from an earlier time.
    static func buckets(of table: TableSchema, _ id: RecordID, _ state: RecordState, tables: RecordTables, asOf: Int64? = nil, assignedSince: Int64? = nil,
                        known: [String: Set<String>] = [:], tenant: RecordID, on db: isolated PostgresConnection) async throws -> Set<String> {
        var parents: [String: Set<String>] = [:]
        var referrers: [String: Set<RecordID>] = [:]
        for rule in table.buckets {
            switch rule {
            case .parent(let field, let parentTable):
                guard case .id(let parent)? = state.fields[field]?.value else { continue }
                if let buckets = known["\(parentTable)/\(parent.uuidString)"] {
                    parents["\(parentTable)/\(parent.uuidString)"] = try tables.table(parentTable).inheritable(buckets)
                    continue
                }
                let rows = try await db.query("""
                    SELECT bucket FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = $3
                    UNION SELECT bucket FROM row_departures WHERE tenant_id = $1 AND tbl = $2 AND id = $3
                                                           AND (departed_at > $4 OR (bucket LIKE 'user:%' AND departed_at > $5))
                    """, [tenant.uuidString, parentTable, parent.uuidString, asOf ?? Int64.max, assignedSince ?? asOf ?? Int64.max])
                parents["\(parentTable)/\(parent.uuidString)"] = try tables.table(parentTable).inheritable(Set(try rows.map { try $0.read(0, as: String.self) }))
            case .referrers(let referrer, let through, let field, _):
                let rows = try await db.query("""
                    SELECT DISTINCT \(field)::text FROM \(referrer) WHERE tenant_id = $1 AND \(through) = $2 AND NOT _deleted AND \(field) IS NOT NULL
                    """, [tenant.uuidString, id.uuidString])
                referrers["\(referrer)/\(through)/\(field)"] = Set(try rows.map { RecordID(try $0.read(0, as: String.self))! })
            case .constant, .field:
                continue
            }
        }
        return table.buckets(of: id, state: state,
                             parentBuckets: { parentTable, parent in parents["\(parentTable)/\(parent.uuidString)"] ?? [] },
                             referrers: { referrer, through, field, _ in referrers["\(referrer)/\(through)/\(field)"] ?? [] })
    }
}
