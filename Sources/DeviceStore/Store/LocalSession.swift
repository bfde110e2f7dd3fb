import FieldModel
import SyncCore

/// The writes of one local action, inside its SQLite transaction: each write is validated against
/// the schema, stamped with the device's clock, merged into the row exactly as the server will
/// merge it, and collected into the action's one change set.
struct LocalSession {
    let schema: DeviceSchema
    let replica: ReplicaID
    /// The user's role; a write the role may not make is refused here, before the server would.
    let role: Role?
    let wall: UInt64
    var clock: HybridClock
    var random: SplitMix64
    private(set) var changes: [Change] = []

    init(schema: DeviceSchema, replica: ReplicaID, role: Role?, wall: UInt64, clock: HybridClock, random: SplitMix64) {
        self.schema = schema
        self.replica = replica
        self.role = role
        self.wall = wall
        self.clock = clock
        self.random = random
    }

    /// A new id for a record created now.
    mutating func newID() -> RecordID { RecordID.make(milliseconds: wall, using: &random) }

    /// The record's current state; throws when the device has no such live row.
    func existing(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws -> RecordState {
        guard let state = try schema.read(table, id, in: db), !state.isDeleted(under: try schema.layout(table).table.tombstones) else {
            throw StoreError.unknown(table, id)
        }
        return state
    }

    /// Writes fields of a record (creating it if new), as one change of the action.
    @discardableResult
    mutating func write(_ table: String, _ id: RecordID, _ fields: [(String, FieldValue)], in db: isolated SQLiteDatabase) throws -> RecordState {
        let current = try schema.read(table, id, in: db)
        let version = Version(clock: clock.tick(wallMilliseconds: wall), replica: replica)
        let writes = fields.map { FieldWrite($0.0, $0.1, base: current?.fields[$0.0]?.version) }
        return try apply(Change(id: ChangeID(newID()), table: table, record: id, operation: .write(writes), version: version), to: current, in: db)
    }

    /// Deletes a record (a tombstone), as one change of the action.
    mutating func delete(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws {
        let current = try existing(table, id, in: db)
        let version = Version(clock: clock.tick(wallMilliseconds: wall), replica: replica)
        try apply(Change(id: ChangeID(newID()), table: table, record: id, operation: .delete, version: version), to: current, in: db)
    }

    /// Adds `delta` to this device's own contribution to a counter field.
    mutating func add(_ delta: Int64, to field: String, of table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws {
        let current = try existing(table, id, in: db)
        guard case .counter(let counter)? = current.fields[field]?.value ?? .counter(CounterValue()) else {
            throw StoreError(.invalidArgument, "\(table).\(field) is not a counter")
        }
        let version = Version(clock: clock.tick(wallMilliseconds: wall), replica: replica)
        let total = (counter.contributions[replica]?.total ?? 0) + delta
        let value = FieldValue.counter(CounterValue([replica: .init(total: total, clock: version.clock)]))
        let change = Change(id: ChangeID(newID()), table: table, record: id,
                            operation: .write([FieldWrite(field, value, base: current.fields[field]?.version)]), version: version)
        try apply(change, to: current, in: db)
    }

    @discardableResult
    private mutating func apply(_ change: Change, to current: RecordState?, in db: isolated SQLiteDatabase) throws -> RecordState {
        do {
            try schema.schema.validate(change)
        } catch {
            throw StoreError(.invalidArgument, error.message)
        }
        let table = try schema.layout(change.table).table
        if let role, case .write(let writes) = change.operation {
            for write in writes where table.field(write.field)?.access.allows(role, creating: current == nil) == false {
                throw StoreError(.invalidArgument, "a \(role) may not write \(table.name).\(write.field)")
            }
        }
        let state = Merge.apply(change, to: current, table: table).state
        try schema.write(change.table, change.record, state, in: db)
        try schema.updateBuckets(change.table, change.record, state, in: db)
        changes.append(change)
        return state
    }
}

extension DeviceSchema {
    /// Records which buckets a row is in, from its fields (parents' buckets come from the store).
    ///
    /// A row fetched on demand is in none of the phone's buckets (the server retired it from
    /// phones), and a row written under one (a check-in on an old visit) is kept with it instead.
    func updateBuckets(_ table: String, _ id: RecordID, _ state: RecordState, in db: isolated SQLiteDatabase) throws {
        let layout = try layout(table)
        if try !db.query("SELECT 1 FROM fetched_rows WHERE tbl = ? AND id = ?", [table, id.bytes]).isEmpty { return }
        if let parent = layout.table.windowParent, let parentID = state.id(parent.field),
           let fetched = try db.query("SELECT fetched_at FROM fetched_rows WHERE tbl = ? AND id = ?", [parent.table, parentID.bytes]).first {
            try db.run("INSERT OR REPLACE INTO fetched_rows (tbl, id, fetched_at) VALUES (?, ?, ?)", [table, id.bytes, try fetched.read(0, as: Int64.self)])
            db.noteWritten("fetched_rows")
            return
        }
        var parents: [String: Set<Bucket>] = [:]
        for rule in layout.table.buckets {
            guard case .parent(let field, let parentTable) = rule, case .id(let parent)? = state.fields[field]?.value else { continue }
            parents["\(parentTable)/\(parent.uuidString)"] = try self.layout(parentTable).table.inheritable(Set(
                try db.query("SELECT bucket FROM row_buckets WHERE tbl = ? AND id = ?", [parentTable, parent.bytes]).map { try $0.read(0, as: Bucket.self) }))
        }
        let buckets = layout.table.buckets(of: id, state: state) { parentTable, parent in parents["\(parentTable)/\(parent.uuidString)"] ?? [] }
        for bucket in buckets {
            try db.run("INSERT OR IGNORE INTO row_buckets (bucket, tbl, id) VALUES (?, ?, ?)", [bucket, table, id.bytes])
        }
    }
}
