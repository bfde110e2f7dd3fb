import Foundation
package import PostgresDriver
package import SyncCore

/// Reads and writes records' merged states in PostgreSQL, a table at a time: one query reads every
/// record a change set touches in a table, one statement writes them back.
package struct RecordTables: Sendable {
    package let schema: ServerSchema

    package func table(_ name: String) throws -> TableSchema {
        guard let table = schema.schema.table(name) else { throw SyncStoreError(.invalid, "no table \(name)") }
        return table
    }

    /// The states of `ids` in `table` (absent ids are not in the result).
    package func read(_ table: TableSchema, _ ids: [RecordID], tenant: RecordID, on db: isolated PostgresConnection) async throws -> [RecordID: RecordState] {
        guard !ids.isEmpty else { return [:] }
        var batch = PostgresBatch()
        let statements = read(table, ids, tenant: tenant, into: &batch)
        let answers = try await db.run(batch)
        return try decode(table, answers[0], contributions: statements == 2 ? answers[1] : nil)
    }

    static let countersSQL = "SELECT id, field, replica, total, clock FROM counter_contributions WHERE tenant_id = $1 AND tbl = $2 AND id = ANY($3::uuid[])"

    /// Adds the statements that read `ids` of `table` to `batch` (the rows, and their counters'
    /// contributions when the table has counters); ``decode(_:_:contributions:)`` reads the answers.
    /// Returns how many statements it added.
    func read(_ table: TableSchema, _ ids: [RecordID], tenant: RecordID, into batch: inout PostgresBatch) -> Int {
        read(table, where: "id", in: ids, tenant: tenant, into: &batch)
    }

    /// Adds the statements that read the rows of `table` whose `column` is one of `values` (and,
    /// when `status` is given, whose status is `status`) to `batch`: the rows, and their
    /// counters' contributions when the table has counters. Returns how many statements it added.
    func read(_ table: TableSchema, where column: String, in values: [RecordID], status: String? = nil, tenant: RecordID,
              into batch: inout PostgresBatch) -> Int {
        let list = PostgresArray.uuids(values)
        let condition = "tenant_id = $1 AND \(column) = ANY($2::uuid[])" + (status == nil ? "" : " AND status = $3")
        batch.add("SELECT * FROM \(table.name) WHERE \(condition)", [tenant.uuidString, list] + (status.map { [$0] } ?? []))
        guard table.fields.contains(where: { $0.type == .counter }) else { return 1 }
        if column == "id" {
            batch.add(Self.countersSQL, [tenant.uuidString, table.name, list])
        } else {
            // The rows' ids by the same condition: counters of a row that appeared in between have
            // no row to join in decode(_:_:contributions:).
            batch.add("""
                SELECT id, field, replica, total, clock FROM counter_contributions WHERE tenant_id = $1 AND tbl = $\(status == nil ? 3 : 4)
                AND id IN (SELECT id FROM \(table.name) WHERE \(condition))
                """, [tenant.uuidString, list] + (status.map { [$0] } ?? []) + [table.name])
        }
        return 2
    }

    /// The states in `rows` of `table`, with the counters' contributions in `contributions`.
    func decode(_ table: TableSchema, _ rows: PostgresRows, contributions: PostgresRows?) throws -> [RecordID: RecordState] {
        var counters: [RecordID: [String: CounterValue]] = [:]
        for row in contributions ?? PostgresRows.empty {
            let id = try row.read(0, as: RecordID.self)
            let field = try row.read(1, as: String.self)
            var counter = counters[id, default: [:]][field, default: CounterValue()]
            counter.contributions[ReplicaID(UInt32(try row.read(2, as: Int64.self)))] =
                .init(total: try row.read(3, as: Int64.self), clock: HLC(rawValue: UInt64(bitPattern: try row.read(4, as: Int64.self))))
            counters[id, default: [:]][field] = counter
        }
        guard !rows.isEmpty else { return [:] }
        let layout = try Layout(table, columns: rows.columns)
        var states: [RecordID: RecordState] = [:]
        for row in rows {
            let id = try row.read(layout.id, as: RecordID.self)
            var state = RecordState()
            for (field, at) in zip(table.fields, layout.fields) {
                guard let clock = try row.read(at.clock, as: Int64?.self), let replica = try row.read(at.replica, as: Int32?.self) else { continue }
                let value: FieldValue
                if field.type == .counter {
                    value = .counter(counters[id]?[field.name] ?? CounterValue())
                } else {
                    let epoch = if let column = at.epoch { try row.read(column, as: Int32?.self) ?? 0 } else { Int32(0) }
                    value = try Self.decode(row, at.value, as: field.type, epoch: UInt32(epoch))
                }
                state.fields[field.name] = FieldState(value: value, version: Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(replica))))
            }
            if let clock = try row.read(layout.tombstoneClock, as: Int64?.self), let replica = try row.read(layout.tombstoneReplica, as: Int32?.self) {
                state.tombstone = Version(clock: HLC(rawValue: UInt64(bitPattern: clock)), replica: ReplicaID(UInt32(replica)))
            }
            states[id] = state
        }
        return states
    }

    /// Where each column of a table's row is in a result, found once per result rather than by
    /// name for every row.
    struct Layout {
        struct Field {
            var value: Int
            var clock: Int
            var replica: Int
            var epoch: Int?
        }

        var id: Int
        var fields: [Field]
        var tombstoneClock: Int
        var tombstoneReplica: Int

        init(_ table: TableSchema, columns: [String]) throws {
            var positions: [String: Int] = [:]
            for (index, column) in columns.enumerated() { positions[column] = index }
            func position(_ name: String) throws -> Int {
                guard let index = positions[name] else { throw SyncStoreError(.invalid, "\(table.name) has no column \(name)") }
                return index
            }
            id = try position("id")
            fields = try table.fields.map { field in
                Field(value: try position(field.name), clock: try position("\(field.name)__clock"), replica: try position("\(field.name)__replica"),
                      epoch: field.type.isState ? try position("\(field.name)__epoch") : nil)
            }
            tombstoneClock = try position("_tombstone_clock")
            tombstoneReplica = try position("_tombstone_replica")
        }
    }

    /// Writes `states` into `table`, replacing the rows, in statements of at most 200 rows.
    func write(_ table: TableSchema, _ states: [(RecordID, RecordState)], tenant: RecordID, on db: isolated PostgresConnection) async throws {
        var batch = PostgresBatch()
        write(table, states, tenant: tenant, into: &batch)
        try await db.run(batch)
    }

    /// Adds the statements that write `states` into `table` to `batch`: one upsert whose rows
    /// travel as one array per column (`PostgresBatch.insert` with typed columns), prepared once
    /// whatever the number of rows; then the counters' contributions. The ids must be distinct.
    func write(_ table: TableSchema, _ states: [(RecordID, RecordState)], tenant: RecordID, into batch: inout PostgresBatch) {
        guard !states.isEmpty else { return }
        var columns = [(name: "tenant_id", type: "uuid"), (name: "id", type: "uuid")]
        for field in table.fields {
            columns.append((field.name, ServerSchema.sqlType(field.type)))
            if field.type.isState { columns.append(("\(field.name)__epoch", "integer")) }
            columns += [("\(field.name)__clock", "bigint"), ("\(field.name)__replica", "integer")]
        }
        columns += [("_tombstone_clock", "bigint"), ("_tombstone_replica", "integer"), ("_deleted", "boolean")]
        func integer(_ value: Int64?) -> PostgresValue { value.map { .integer($0) } ?? .null }
        let tenantID = PostgresValue.uuid(tenant)
        var rows: [[PostgresValue]] = []
        rows.reserveCapacity(states.count)
        var contributions: [[PostgresValue]] = []
        for (id, state) in states {
            let rowID = PostgresValue.uuid(id)
            var row: [PostgresValue] = [tenantID, rowID]
            row.reserveCapacity(columns.count)
            for field in table.fields {
                let fieldState = state.fields[field.name]
                row.append(fieldState.map { Self.value($0.value) } ?? .null)
                if field.type.isState {
                    if case .state(let value)? = fieldState?.value { row.append(.integer(Int64(value.epoch))) } else { row.append(.null) }
                }
                row.append(integer(fieldState.map { Int64(bitPattern: $0.version.clock.rawValue) }))
                row.append(integer(fieldState.map { Int64($0.version.replica.rawValue) }))
                if case .counter(let counter)? = fieldState?.value {
                    for (replica, contribution) in counter.contributions {
                        contributions.append([tenantID, .text(table.name), rowID, .text(field.name),
                                              .integer(Int64(replica.rawValue)), .integer(contribution.total),
                                              .integer(Int64(bitPattern: contribution.clock.rawValue))])
                    }
                }
            }
            row.append(integer(state.tombstone.map { Int64(bitPattern: $0.clock.rawValue) }))
            row.append(integer(state.tombstone.map { Int64($0.replica.rawValue) }))
            row.append(.text(state.isDeleted(under: table.tombstones) ? "t" : "f"))
            rows.append(row)
        }
        let updates = columns.dropFirst(2).map { "\($0.name) = EXCLUDED.\($0.name)" }.joined(separator: ", ")
        batch.insert(into: table.name, columns: columns, rows: rows, suffix: "ON CONFLICT (tenant_id, id) DO UPDATE SET \(updates)")
        batch.insert(into: "counter_contributions", columns: [("tenant_id", "uuid"), ("tbl", "text"), ("id", "uuid"), ("field", "text"), ("replica", "integer"),
                                                              ("total", "bigint"), ("clock", "bigint")],
                     rows: contributions, suffix: "ON CONFLICT (tenant_id, tbl, id, field, replica) DO UPDATE SET total = EXCLUDED.total, clock = EXCLUDED.clock")
    }

    /// A field's value as its column takes it.
    static func value(_ value: FieldValue) -> PostgresValue {
        switch value {
        case .null: .null
        case .bool(let value): .text(value ? "t" : "f")
        case .integer(let value), .timestamp(let value): .integer(value)
        case .text(let value): .text(value)
        case .id(let value): .uuid(value)
        case .state(let value): .text(value.name)
        case .counter(let value): .integer(value.sum)
        }
    }

    /// The stored value of a field of `type` in `column` of `row` (NULL is `.null`), parsed from
    /// the result's bytes.
    static func decode(_ row: PostgresRow, _ column: Int, as type: FieldType, epoch: UInt32) throws -> FieldValue {
        do {
            switch type {
            case .bool: return try row.read(column, as: Bool?.self).map(FieldValue.bool) ?? .null
            case .integer, .money, .decimal, .counter: return try row.read(column, as: Int64?.self).map(FieldValue.integer) ?? .null
            case .timestamp: return try row.read(column, as: Int64?.self).map(FieldValue.timestamp) ?? .null
            case .text, .blobReference: return try row.read(column, as: String?.self).map(FieldValue.text) ?? .null
            case .reference: return try row.read(column, as: RecordID?.self).map(FieldValue.id) ?? .null
            case .state: return try row.read(column, as: String?.self).map { .state(StateValue($0, epoch: epoch)) } ?? .null
            }
        } catch {
            throw SyncStoreError(.invalid, "a stored value does not match its field's type")
        }
    }
}

extension FieldType {
    var isState: Bool {
        if case .state = self { return true }
        return false
    }
}

/// An error from the sync store.
public struct SyncStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        /// A request the store cannot carry out as asked.
        public static let invalid = Code("invalid")
        public var description: String { name }
    }

    /// What kind of error.
    public var code: Code
    /// What went wrong, without customer data.
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
