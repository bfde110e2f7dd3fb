import PostgresDriver
import SyncCore
import SyncWire

/// The server's own writes that follow from the rules on arrival or from the office: a
/// check-in's verification, an order's prices and status, a customer's merge, a reserved stock.
///
/// They travel like any replica's writes (a change set of replica ``ReplicaID/server``, merged,
/// placed and logged in the feed), so devices see them like any other change.
struct DerivedWrites {
    /// The records written, in the order first written.
    private(set) var records: [(table: String, record: RecordID)] = []
    private var fields: [String: [(field: String, value: FieldValue)]] = [:]
    private var counters: [String: [(field: String, delta: Int64)]] = [:]

    var isEmpty: Bool { records.isEmpty }

    private mutating func touch(_ table: String, _ record: RecordID) -> String {
        let key = "\(table)/\(record.uuidString)"
        if fields[key] == nil && counters[key] == nil { records.append((table, record)) }
        return key
    }

    /// Sets `field` of a record (the last value set wins).
    mutating func set(_ table: String, _ record: RecordID, _ field: String, _ value: FieldValue) {
        let key = touch(table, record)
        fields[key, default: []].removeAll { $0.field == field }
        fields[key, default: []].append((field, value))
    }

    /// Sets several fields of a record.
    mutating func set(_ table: String, _ record: RecordID, _ values: [(String, FieldValue)]) {
        for (field, value) in values { set(table, record, field, value) }
    }

    /// Adds `delta` to a counter field, as the server's contribution.
    mutating func add(_ delta: Int64, to field: String, of table: String, _ record: RecordID) {
        let key = touch(table, record)
        counters[key, default: []].append((field, delta))
    }

    func values(of table: String, _ record: RecordID) -> (fields: [(field: String, value: FieldValue)], counters: [(field: String, delta: Int64)]) {
        let key = "\(table)/\(record.uuidString)"
        return (fields[key] ?? [], counters[key] ?? [])
    }
}

extension SyncStore {
    /// A new record or change id, time-ordered by the server's clock.
    func newID() -> RecordID { clock.newID() }

    /// Applies the server's derived writes as one change set of its own, in the push's transaction.
    ///
    /// Each record is locked and read (again, if the push read it before it held the lock), and
    /// each write is based on the version it replaces, so it records no conflict; a value equal
    /// to the current one is not written again.
    func commitDerived(_ writes: DerivedWrites, at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws {
        guard !writes.isEmpty else { return }
        try await work.lock(writes.records.map { RecordRef(table: $0.table, record: $0.record) }, on: db)
        var states: [String: [RecordID: RecordState]] = [:]
        var memberships: [String: [RecordID: Set<String>]] = [:]
        for (tableName, records) in Dictionary(grouping: writes.records, by: \.table) {
            let ids = records.map(\.record)
            states[tableName] = try await work.states(tableName, ids, on: db)
            memberships[tableName] = try await work.memberships(tableName, ids, on: db)
        }
        let stamp = clock.stamp(after: writes.records.compactMap { states[$0.table]?[$0.record] })
        let version = Version(clock: stamp, replica: .server)
        var changes: [Change] = []
        for (tableName, record) in writes.records {
            let current = states[tableName]?[record]
            let (fields, counters) = writes.values(of: tableName, record)
            var list: [FieldWrite] = []
            for (field, value) in fields where current?.fields[field]?.value != value {
                list.append(FieldWrite(field, value, base: current?.fields[field]?.version))
            }
            for (field, deltas) in Dictionary(grouping: counters, by: \.field) {
                let delta = deltas.reduce(0) { $0 + $1.delta }
                guard delta != 0 else { continue }
                var total: Int64 = 0
                if case .counter(let counter)? = current?.fields[field]?.value { total = counter.contributions[.server]?.total ?? 0 }
                list.append(FieldWrite(field, .counter(CounterValue([.server: .init(total: total + delta, clock: stamp)])), base: current?.fields[field]?.version))
            }
            guard !list.isEmpty else { continue }
            changes.append(Change(id: ChangeID(newID()), table: tableName, record: record, operation: .write(list), version: version))
        }
        _ = try await commit(changes, as: ChangeID(newID()), states: &states, memberships: memberships, at: now, work: work, on: db)
    }
}
