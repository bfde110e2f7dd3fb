import SyncCore

/// Reads and writes records' merged states in their tables (see ``DeviceSchema``).
extension DeviceSchema {
    func layout(_ table: String) throws(StoreError) -> TableLayout {
        guard let layout = tables[table] else { throw StoreError(.invalidArgument, "no table \(table)") }
        return layout
    }

    /// The record's state, or `nil` when the device has no such row.
    func read(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws -> RecordState? {
        let layout = try layout(table)
        guard let row = try db.query(layout.selectSQL, [id.bytes]).first else { return nil }
        var state = RecordState()
        var column = 1
        for field in layout.table.fields {
            let value = row.values[column]
            column += 1
            var epoch: UInt32 = 0
            if case .state = field.type {
                epoch = UInt32(try row.read(column, as: Int?.self) ?? 0)
                column += 1
            }
            let clock = try row.read(column, as: Int64?.self)
            let replica = try row.read(column + 1, as: Int64?.self)
            column += 2
            guard let clock, let replica else { continue }
            let decoded: FieldValue
            if field.type == .counter {
                decoded = .counter(try counter(table, id, field.name, in: db))
            } else {
                decoded = try Self.decode(value, as: field.type, epoch: epoch)
            }
            state.fields[field.name] = FieldState(value: decoded, version: Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(replica))))
        }
        if let clock = try row.read(column, as: Int64?.self), let replica = try row.read(column + 1, as: Int64?.self) {
            state.tombstone = Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(replica)))
        }
        return state
    }

    /// Writes the record's state, replacing the row.
    func write(_ table: String, _ id: RecordID, _ state: RecordState, in db: isolated SQLiteDatabase) throws {
        let layout = try layout(table)
        var values: [SQLiteValue] = [.blob(id.bytes)]
        for field in layout.table.fields {
            let fieldState = state.fields[field.name]
            values.append(fieldState.map { Self.encode($0.value) } ?? .null)
            if case .state = field.type {
                if case .state(let value)? = fieldState?.value { values.append(.integer(Int64(value.epoch))) } else { values.append(.null) }
            }
            values.append(fieldState.map { .integer(Int64(bitPattern: $0.version.clock.rawValue)) } ?? .null)
            values.append(fieldState.map { .integer(Int64($0.version.replica.rawValue)) } ?? .null)
            if case .counter(let counter)? = fieldState?.value {
                for (replica, contribution) in counter.contributions {
                    try db.run("INSERT OR REPLACE INTO counter_contributions (tbl, id, field, replica, total, clock) VALUES (?, ?, ?, ?, ?, ?)",
                               [table, id.bytes, field.name, Int64(replica.rawValue), contribution.total, Int64(bitPattern: contribution.clock.rawValue)])
                }
            }
        }
        values.append(state.tombstone.map { .integer(Int64(bitPattern: $0.clock.rawValue)) } ?? .null)
        values.append(state.tombstone.map { .integer(Int64($0.replica.rawValue)) } ?? .null)
        values.append(.integer(state.isDeleted(under: layout.table.tombstones) ? 1 : 0))
        try db.run(layout.upsertSQL, values)
    }

    /// Deletes the row and its counter contributions (eviction; not a tombstone).
    func remove(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws {
        _ = try layout(table)
        try db.run("DELETE FROM \(table) WHERE id = ?", [id.bytes])
        try db.run("DELETE FROM counter_contributions WHERE tbl = ? AND id = ?", [table, id.bytes])
    }

    private func counter(_ table: String, _ id: RecordID, _ field: String, in db: isolated SQLiteDatabase) throws -> CounterValue {
        var contributions: [ReplicaID: CounterValue.Contribution] = [:]
        for row in try db.query("SELECT replica, total, clock FROM counter_contributions WHERE tbl = ? AND id = ? AND field = ?", [table, id.bytes, field]) {
            contributions[ReplicaID(UInt32(try row.read(0, as: Int64.self)))] =
                .init(total: try row.read(1, as: Int64.self), clock: HLC(rawValue: UInt64(bitPattern: try row.read(2, as: Int64.self))))
        }
        return CounterValue(contributions)
    }

    static func encode(_ value: FieldValue) -> SQLiteValue {
        switch value {
        case .null: .null
        case .bool(let value): .integer(value ? 1 : 0)
        case .integer(let value), .timestamp(let value): .integer(value)
        case .text(let value): .text(value)
        case .id(let value): .blob(value.bytes)
        case .state(let value): .text(value.name)
        case .counter(let value): .integer(value.sum)
        }
    }

    static func decode(_ value: SQLiteValue, as type: FieldType, epoch: UInt32) throws(StoreError) -> FieldValue {
        switch (type, value) {
        case (_, .null): return .null
        case (.bool, .integer(let value)): return .bool(value != 0)
        case (.integer, .integer(let value)), (.money, .integer(let value)), (.decimal, .integer(let value)): return .integer(value)
        case (.timestamp, .integer(let value)): return .timestamp(value)
        case (.text, .text(let value)), (.blobReference, .text(let value)): return .text(value)
        case (.reference, .blob(let bytes)):
            guard let id = RecordID(bytes: bytes) else { break }
            return .id(id)
        case (.state, .text(let name)): return .state(StateValue(name, epoch: epoch))
        default: break
        }
        throw StoreError(.storage, "a stored value does not match its field's type")
    }
}
