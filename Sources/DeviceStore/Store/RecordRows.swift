import SyncCore

/// Reads and writes records' merged states in their tables (see ``DeviceSchema``).
extension DeviceSchema {
    func layout(_ table: String) throws(StoreError) -> TableLayout {
        guard let layout = tables[table] else { throw StoreError(.invalidArgument, "no table \(table)") }
        return layout
    }

    /// The record's state, or `nil` when the device has no such row. Reads the columns straight
    /// from the statement, by position.
    func read(_ table: String, _ id: RecordID, in db: isolated SQLiteDatabase) throws -> RecordState? {
        let layout = try layout(table)
        let statement = try db.prepare(layout.selectSQL)
        try statement.bind(id, at: 1)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        var state = RecordState()
        var column = 1
        var counters: [String] = []
        for (name, storage) in layout.fields {
            let valueColumn = column
            var epoch: UInt32 = 0
            if case .state = storage {
                epoch = UInt32(truncatingIfNeeded: statement.integer(at: column + 1) ?? 0)
                column += 1
            }
            let clock = statement.integer(at: column + 1)
            let replica = statement.integer(at: column + 2)
            column += 3
            guard let clock, let replica else { continue }
            let version = Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(truncatingIfNeeded: replica)))
            let value: FieldValue
            switch storage {
            case .counter:
                counters.append(name)  // read below, once this statement is done
                value = .null
            case .plain(let type), .state(let type):
                value = try Self.decode(statement.value(at: valueColumn), as: type, epoch: epoch)
            }
            state.fields[name] = FieldState(value: value, version: version)
        }
        if let clock = statement.integer(at: column), let replica = statement.integer(at: column + 1) {
            state.tombstone = Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(truncatingIfNeeded: replica)))
        }
        statement.reset()
        for name in counters { state.fields[name]?.value = .counter(try counter(table, id, name, in: db)) }
        return state
    }

    /// Writes the record's state, replacing the row. Binds each column in place, by position;
    /// columns of fields the state does not hold stay NULL.
    func write(_ table: String, _ id: RecordID, _ state: RecordState, in db: isolated SQLiteDatabase) throws {
        let layout = try layout(table)
        let statement = try db.prepare(layout.upsertSQL)
        statement.clearBindings()
        try statement.bind(id, at: 1)
        var parameter: Int32 = 2
        var contributions: [(field: String, counter: CounterValue)] = []
        for (name, storage) in layout.fields {
            let width: Int32
            if case .state = storage { width = 4 } else { width = 3 }
            defer { parameter += width }
            guard let field = state.fields[name] else { continue }
            try statement.bind(Self.encode(field.value), at: parameter)
            if case .state(let value) = field.value { try statement.bind(.integer(Int64(value.epoch)), at: parameter + 1) }
            if case .counter(let counter) = field.value { contributions.append((name, counter)) }
            try statement.bind(.integer(Int64(bitPattern: field.version.clock.rawValue)), at: parameter + width - 2)
            try statement.bind(.integer(Int64(field.version.replica.rawValue)), at: parameter + width - 1)
        }
        if let tombstone = state.tombstone {
            try statement.bind(.integer(Int64(bitPattern: tombstone.clock.rawValue)), at: parameter)
            try statement.bind(.integer(Int64(tombstone.replica.rawValue)), at: parameter + 1)
        }
        try statement.bind(.integer(state.isDeleted(under: layout.table.tombstones) ? 1 : 0), at: parameter + 2)
        try statement.execute()
        for (field, counter) in contributions {
            for (replica, contribution) in counter.contributions {
                try db.run("INSERT OR REPLACE INTO counter_contributions (tbl, id, field, replica, total, clock) VALUES (?, ?, ?, ?, ?, ?)",
                           [table, id.bytes, field, Int64(replica.rawValue), contribution.total, Int64(bitPattern: contribution.clock.rawValue)])
            }
        }
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
