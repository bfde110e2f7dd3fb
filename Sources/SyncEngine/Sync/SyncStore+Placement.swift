import PostgresDriver
import SyncCore
import SyncWire

/// Placement: which buckets a row is in, and moving rows between buckets with the feed entries
/// that tell devices (a remove where a row left, its full state where it arrived).
///
/// A row's buckets follow from its own fields, its parent's buckets and, for a
/// ``BucketRule/referrers(_:through:field:prefix:)`` rule, from the rows that refer to it. So a
/// write can move rows it never touched: the visits and orders of a customer that changed
/// territory, the customer of a work order assigned to a technician. ``place(touched:states:original:memberships:at:work:on:)``
/// follows those dependencies until nothing more moves. Memberships are read and changed through
/// the push's ``WorkingSet``, which writes them once at the end of the push.
extension SyncStore {
    /// Places the rows a change set touched and every row that depends on them; returns the
    /// buckets of each touched row, whose feed carries the change set.
    func place(touched: [String: Set<RecordID>], states: [String: [RecordID: RecordState]], original: [String: [RecordID: RecordState]],
               memberships: [String: [RecordID: Set<Bucket>]], at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws -> [RecordRef: Set<Bucket>] {
        let tenant = work.tenant
        var bucketsOf: [RecordRef: Set<Bucket>] = [:]
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
                let buckets = try await buckets(of: table, id, state, work: work, on: db)
                bucketsOf[RecordRef(table: tableName, record: id)] = buckets
                let before = memberships[tableName]?[id] ?? []
                // A row new to the server arrives with its change set; one that moves arrives whole.
                // Only a row that existed can have children stored elsewhere that must follow it.
                if work.move(RecordRef(table: tableName, record: id), state, from: before, to: buckets, announce: !before.isEmpty, at: now),
                   original[tableName]?[id] != nil {
                    moved[tableName, default: []].insert(id)
                }
                for rule in referring {
                    for value in [original[tableName]?[id]?.fields[rule.through]?.value, state.fields[rule.through]?.value] {
                        if case .id(let target)? = value { referred[rule.dependent, default: []].insert(target) }
                    }
                }
            }
        }
        var visited = Set(touched.flatMap { table, ids in ids.map { RecordRef(table: table, record: $0) } })
        var pending = referred
        while true {
            for (parentTable, ids) in moved {
                for child in tables.schema.schema.tables {
                    for case .parent(let field, let parent) in child.buckets where parent == parentTable {
                        let rows = try await work.query("SELECT id::text FROM \(child.name) WHERE tenant_id = $1 AND \(field) = ANY($2::uuid[])",
                                                      [tenant.uuidString, PostgresArray.literal(Array(ids))], on: db)
                        for row in rows { pending[child.name, default: []].insert(try row.read(0, as: RecordID.self)) }
                    }
                }
            }
            moved = [:]
            var queue: [(String, [RecordID])] = []
            for (tableName, ids) in pending.sorted(by: { $0.key < $1.key }) {
                let fresh = ids.filter { visited.insert(RecordRef(table: tableName, record: $0)).inserted }.sorted()
                if !fresh.isEmpty { queue.append((tableName, fresh)) }
            }
            pending = [:]
            if queue.isEmpty { break }
            for (tableName, ids) in queue {
                let table = try tables.table(tableName)
                let current = try await work.states(tableName, ids, on: db)
                let before = try await work.memberships(tableName, ids, on: db)
                for id in ids {
                    guard let state = current[id] else { continue }
                    let buckets = try await buckets(of: table, id, state, work: work, on: db)
                    if work.move(RecordRef(table: tableName, record: id), state, from: before[id] ?? [], to: buckets, announce: true, at: now) {
                        moved[tableName, default: []].insert(id)
                    }
                }
            }
        }
        return bucketsOf
    }

    /// The buckets a row is in: its parents' buckets (as the push's working set has them) and the
    /// rows that refer to it (through their tables).
    ///
    /// - Parameter asOf: When given, a parent's buckets include those it left after this time
    ///   (milliseconds): the buckets a new row would have been in then.
    ///   `assignedSince` does the same for a parent's `user:` buckets from an earlier time.
    /// - Parameter known: Buckets of rows not yet written, for a parent created earlier in the
    ///   same change set.
    func buckets(of table: TableSchema, _ id: RecordID, _ state: RecordState, asOf: Int64? = nil, assignedSince: Int64? = nil,
                 known: [RecordRef: Set<Bucket>] = [:], work: WorkingSet, on db: isolated PostgresConnection) async throws -> Set<Bucket> {
        var parents: [RecordRef: Set<Bucket>] = [:]
        var referrers: [String: Set<RecordID>] = [:]
        for rule in table.buckets {
            switch rule {
            case .parent(let field, let parentTable):
                guard case .id(let parent)? = state.fields[field]?.value else { continue }
                let ref = RecordRef(table: parentTable, record: parent)
                if let buckets = known[ref] {
                    parents[ref] = try tables.table(parentTable).inheritable(buckets)
                    continue
                }
                var buckets = try await work.memberships(parentTable, [parent], on: db)[parent] ?? []
                if let asOf {
                    let since = assignedSince ?? asOf
                    for departure in try await work.departures(parentTable, [parent], on: db)[parent] ?? []
                    where departure.at > asOf || (departure.bucket.isPersonal && departure.at > since) {
                        buckets.insert(departure.bucket)
                    }
                }
                parents[ref] = try tables.table(parentTable).inheritable(buckets)
            case .referrers(let referrer, let through, let field, _):
                // The live rows referring to this one, as they stand in the push (read for every
                // record of the table the push refers to at once).
                let tombstones = try tables.table(referrer).tombstones
                let referring = try await work.rows(referrer, where: through, is: id, on: db).values.filter { !$0.isDeleted(under: tombstones) }
                referrers["\(referrer)/\(through)/\(field)"] = Set(referring.compactMap { $0.id(field) })
            case .constant, .field:
                continue
            }
        }
        return table.buckets(of: id, state: state,
                             parentBuckets: { parentTable, parent in parents[RecordRef(table: parentTable, record: parent)] ?? [] },
                             referrers: { referrer, through, field, _ in referrers["\(referrer)/\(through)/\(field)"] ?? [] })
    }
}
