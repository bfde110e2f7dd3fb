import PostgresDriver
public import SyncCore
public import SyncWire

/// The server's own writes that follow from the rules on arrival or from the office: a
/// check-in's verification, an order's prices and status, a customer's merge, a reserved stock.
///
/// They travel like any replica's writes (a change set of replica ``ReplicaID/server``, merged,
/// placed and logged in the feed), so devices see them like any other change.
public struct DerivedWrites: Sendable {
    /// The records written, in the order first written.
    public private(set) var records: [RecordRef] = []
    private var fields: [RecordRef: [(field: String, value: FieldValue)]] = [:]
    private var counters: [RecordRef: [(field: String, delta: Int64)]] = [:]
    private var adjustments: [RecordRef: [(field: String, delta: Int64)]] = [:]

    /// No writes.
    public init() {}

    /// Whether nothing is written.
    public var isEmpty: Bool { records.isEmpty }

    private mutating func touch(_ table: String, _ record: RecordID) -> RecordRef {
        let ref = RecordRef(table: table, record: record)
        if fields[ref] == nil && counters[ref] == nil && adjustments[ref] == nil { records.append(ref) }
        return ref
    }

    /// Sets `field` of a record (the last value set wins).
    public mutating func set(_ table: String, _ record: RecordID, _ field: String, _ value: FieldValue) {
        let ref = touch(table, record)
        fields[ref, default: []].removeAll { $0.field == field }
        fields[ref, default: []].append((field, value))
    }

    /// Sets several fields of a record.
    public mutating func set(_ table: String, _ record: RecordID, _ values: [(String, FieldValue)]) {
        for (field, value) in values { set(table, record, field, value) }
    }

    /// Adds `delta` to a counter field, as the server's contribution.
    public mutating func add(_ delta: Int64, to field: String, of table: String, _ record: RecordID) {
        let ref = touch(table, record)
        counters[ref, default: []].append((field, delta))
    }

    /// Adds `delta` to a plain integer or money field (a balance): the sum is taken under the
    /// record's lock from the value it holds then, so concurrent pushes never lose an addition.
    public mutating func adjust(_ delta: Int64, to field: String, of table: String, _ record: RecordID) {
        let ref = touch(table, record)
        adjustments[ref, default: []].append((field, delta))
    }

    /// The value set for `field` of a record, if one was set.
    public func value(of field: String, _ table: String, _ record: RecordID) -> FieldValue? {
        fields[RecordRef(table: table, record: record)]?.last { $0.field == field }?.value
    }

    /// The fields set, the counter deltas added and the adjustments of one record.
    func values(of ref: RecordRef) -> (fields: [(field: String, value: FieldValue)], counters: [(field: String, delta: Int64)],
                                       adjustments: [(field: String, delta: Int64)]) {
        (fields[ref] ?? [], counters[ref] ?? [], adjustments[ref] ?? [])
    }
}

extension SyncStore {
    /// A new record or change id, time-ordered by the server's clock.
    package func newID() -> RecordID { clock.newID() }

    /// Applies the server's derived writes as one change set of its own, in the push's transaction.
    ///
    /// Each record is locked and read (again, if the push read it before it held the lock), and
    /// each write is based on the version it replaces, so it records no conflict; a value equal
    /// to the current one is not written again; an adjustment adds to the value read under the lock.
    func commitDerived(_ writes: DerivedWrites, at now: Int64, work: WorkingSet, on db: isolated PostgresConnection) async throws {
        guard !writes.isEmpty else { return }
        try await work.lock(writes.records, on: db)
        var states: [String: [RecordID: RecordState]] = [:]
        var memberships: [String: [RecordID: Set<Bucket>]] = [:]
        for (tableName, records) in Dictionary(grouping: writes.records, by: \.table) {
            let ids = records.map(\.record)
            states[tableName] = try await work.states(tableName, ids, on: db)
            memberships[tableName] = try await work.memberships(tableName, ids, on: db)
        }
        let stamp = clock.stamp(after: writes.records.compactMap { states[$0.table]?[$0.record] })
        let version = Version(clock: stamp, replica: .server)
        var changes: [Change] = []
        for ref in writes.records {
            let (tableName, record) = (ref.table, ref.record)
            let current = states[tableName]?[record]
            let (fields, counters, adjustments) = writes.values(of: ref)
            var list: [FieldWrite] = []
            for (field, value) in fields where current?.fields[field]?.value != value {
                list.append(FieldWrite(field, value, base: current?.fields[field]?.version))
            }
            for (field, deltas) in Dictionary(grouping: adjustments, by: \.field) where !fields.contains(where: { $0.field == field }) {
                let delta = deltas.reduce(0) { $0 + $1.delta }
                guard delta != 0 else { continue }
                var total: Int64 = 0
                if case .integer(let held)? = current?.fields[field]?.value { total = held }
                list.append(FieldWrite(field, .integer(total &+ delta), base: current?.fields[field]?.version))
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
