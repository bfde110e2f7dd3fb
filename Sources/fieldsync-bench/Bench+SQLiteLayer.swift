import DeviceStore
import FieldModel
import Foundation
import GRDB
import SyncCore
import SyncWire

/// The SQLite layer alone, to decide between DeviceStore's own wrapper and GRDB (issue 22): the
/// same upserts through the C API, the wrapper and GRDB; and how soon a live query sees a commit,
/// through DeviceStore's observation and GRDB's `ValueObservation`.
extension Bench {
    func sqliteLayer(_ mix: ChangeMix, _ world: BenchWorld) async throws -> [Figure] {
        Self.log("SQLite layer: \(mix.changes) upserts three ways; live-query latency two ways")
        let runs = scale.name == "quick" ? 1 : 3
        var (raw, wrapper, grdb) = (0.0, 0.0, 0.0)
        for run in 0..<runs {
            raw = max(raw, Double(mix.changes) / (try Self.rawApply(mix, path: world.scratch("layer-raw-\(run).sqlite"))))
            wrapper = max(wrapper, Double(mix.changes) / (try await Self.wrapperApply(mix, path: world.scratch("layer-wrapper-\(run).sqlite"))))
            grdb = max(grdb, Double(mix.changes) / (try Self.grdbApply(mix, path: world.scratch("layer-grdb-\(run).sqlite"))))
        }
        let rounds = scale.name == "quick" ? 20 : 200
        let ours = try await Self.observationLatency(rounds: rounds, path: world.scratch("live-ours.sqlite"))
        let theirs = try await Self.grdbObservationLatency(rounds: rounds, path: world.scratch("live-grdb.sqlite"))
        let against = "the raw C API, same statements and rows, one transaction"
        return [
            .ratio("sqlite_upsert_wrapper", wrapper, raw, unit: "upserts/s", against: against, note: "DeviceStore's SQLiteDatabase: cached statements, typed binding"),
            .ratio("sqlite_upsert_grdb", grdb, raw, unit: "upserts/s", against: against, note: "GRDB 7: cached statements, StatementArguments"),
            .ratio("live_query_latency_p50", ours.p50, theirs.p50, unit: "ms", against: "GRDB ValueObservation, same query, rows and writes",
                   note: "commit to the new value in the consumer; the day's customers list, one rename per commit"),
            .ratio("live_query_latency_p99", ours.p99, theirs.p99, unit: "ms", against: "GRDB ValueObservation, same query, rows and writes"),
        ]
    }

    /// The raw path's statements through `SQLiteDatabase`, bound value by value. Returns seconds.
    static func wrapperApply(_ mix: ChangeMix, path: String) async throws -> Double {
        let db = try SQLiteDatabase(path: path)
        let schema = FieldSalesSchema.schema
        for name in Set(mix.changeSets.flatMap { $0.changes.map(\.table) }) {
            try await db.execute("CREATE TABLE \(name) (id BLOB PRIMARY KEY, \(schema.table(name)!.fields.map(\.name).joined(separator: ", ")))")
        }
        let changes = mix.changeSets.flatMap(\.changes)
        let start = ContinuousClock.now
        // Each change's statement and values, made as the raw path makes them inside its loop.
        let work: [(SQLiteSQL, RecordID, [SQLiteValue])] = changes.map { change in
            switch change.operation {
            case .delete: (SQLiteSQL("DELETE FROM \(change.table) WHERE id = ?"), change.record, [])
            case .write(let writes): (SQLiteSQL(upsertSQL(change.table, writes.map(\.field))), change.record, writes.map { sqliteValue($0.value) })
            }
        }
        try await db.transaction { db in
            for (sql, id, values) in work {
                let statement = try db.prepare(sql)
                try statement.bind(id, at: 1)
                for (index, value) in values.enumerated() { try statement.bind(value, at: Int32(index + 2)) }
                try statement.execute()
                statement.clearBindings()
            }
        }
        return seconds(ContinuousClock.now - start)
    }

    /// The raw path's statements through GRDB's cached statements. Returns seconds.
    static func grdbApply(_ mix: ChangeMix, path: String) throws -> Double {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        let schema = FieldSalesSchema.schema
        try queue.write { db in
            for name in Set(mix.changeSets.flatMap { $0.changes.map(\.table) }) {
                try db.execute(sql: "CREATE TABLE \(name) (id BLOB PRIMARY KEY, \(schema.table(name)!.fields.map(\.name).joined(separator: ", ")))")
            }
        }
        let changes = mix.changeSets.flatMap(\.changes)
        let start = ContinuousClock.now
        try queue.write { db in
            for change in changes {
                switch change.operation {
                case .delete:
                    try db.cachedStatement(sql: "DELETE FROM \(change.table) WHERE id = ?").execute(arguments: [Data(change.record.bytes)])
                case .write(let writes):
                    let statement = try db.cachedStatement(sql: Self.upsertSQL(change.table, writes.map(\.field)))
                    var arguments: [DatabaseValue] = [Data(change.record.bytes).databaseValue]
                    for write in writes { arguments.append(Self.grdbValue(write.value)) }
                    try statement.execute(arguments: StatementArguments(arguments))
                }
            }
        }
        return seconds(ContinuousClock.now - start)
    }

    static func upsertSQL(_ table: String, _ names: [String]) -> String {
        "INSERT INTO \(table) (id, \(names.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: names.count))) "
            + "ON CONFLICT (id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))"
    }

    static func sqliteValue(_ value: FieldValue) -> SQLiteValue {
        switch RawValue(value) {
        case .null: .null
        case .integer(let number): .integer(number)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(bytes)
        }
    }

    static func grdbValue(_ value: FieldValue) -> DatabaseValue {
        switch RawValue(value) {
        case .null: return .null
        case .integer(let number): return number.databaseValue
        case .text(let text): return text.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }

    // MARK: Live queries

    /// The rows both live queries read: 2,000 customers.
    static let liveCustomers = 2_000
    static let liveQuery = "SELECT id, name, phone, city, tax_number, status FROM customers WHERE _deleted = 0 ORDER BY name, id LIMIT 50"

    /// DeviceStore: `observe(.customers(limit: 50))` while the first customer is renamed, one
    /// commit at a time; milliseconds from each commit's return to the consumer's new value.
    static func observationLatency(rounds: Int, path: String) async throws -> (p50: Double, p99: Double) {
        let store = try await DeviceStore.open(path: path)
        let user = RecordID(high: 1, low: 1)
        try await store.register(replica: ReplicaID(7), user: user, role: .manager, serverClock: HLC(milliseconds: 1_000))
        let version = Version(clock: HLC(milliseconds: 1_000), replica: .server)
        let snapshots = (0..<liveCustomers).map { index in
            RecordSnapshot(ref: RecordRef(table: "customers", record: RecordID(high: 2, low: UInt64(index))), state: RecordState(fields: [
                "name": FieldState(value: .text("Customer \(100_000 + index)"), version: version),
                "phone": FieldState(value: .text("+1-212-555-\(1000 + index % 9000)"), version: version),
            ]))
        }
        try await store.apply(BucketPage(bucket: "bench", kind: .snapshot, snapshots: snapshots, cursor: 1, hasMore: false), serverClock: version.clock)
        let first = RecordID(high: 2, low: 0)
        return try await latency(rounds: rounds, values: store.observe(.customers(limit: 50)).map { $0.first?.name ?? "" }, fromStart: false) { round in
            _ = try await store.correctCustomer(first, ["name": .text("A \(round)")])
        }
    }

    /// GRDB: a `ValueObservation` of the same query on the same rows, renamed by plain updates.
    static func grdbObservationLatency(rounds: Int, path: String) async throws -> (p50: Double, p99: Double) {
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE customers (id BLOB PRIMARY KEY, name TEXT, phone TEXT, city TEXT, tax_number TEXT, status TEXT, _deleted INTEGER NOT NULL DEFAULT 0)")
            for index in 0..<liveCustomers {
                try db.execute(sql: "INSERT INTO customers (id, name, phone) VALUES (?, ?, ?)",
                               arguments: [Data(RecordID(high: 2, low: UInt64(index)).bytes), "Customer \(100_000 + index)", "+1-212-555-\(1000 + index % 9000)"])
            }
        }
        let first = Data(RecordID(high: 2, low: 0).bytes)
        // The same columns as the phone's customer list reads; the consumer looks at the first name.
        let observation = ValueObservation.tracking { db in try Row.fetchAll(db, sql: liveQuery).map { row -> String in row["name"] ?? "" } }
        return try await latency(rounds: rounds, values: observation.values(in: queue, scheduling: .async(onQueue: DispatchQueue(label: "fieldsync.bench.grdb"))).map { $0.first ?? "" }, fromStart: true) { round in
            try await queue.write { db in try db.execute(sql: "UPDATE customers SET name = ? WHERE id = ?", arguments: ["A \(round)", first]) }
        }
    }

    /// Runs `write(round)` `rounds` times, each time waiting for `values` to show `A <round>`;
    /// returns the p50 and p99 milliseconds from the commit to that value. The commit is taken
    /// as the write's return (`fromStart` false: DeviceStore, whose write does a local merge and
    /// an outbox entry before it commits) or its start (`fromStart` true: GRDB, which re-reads
    /// an observed query inside the write, before it returns; its plain UPDATE takes
    /// microseconds).
    static func latency<Values: AsyncSequence & Sendable>(rounds: Int, values: Values, fromStart: Bool,
                                                           write: (Int) async throws -> Void) async throws -> (p50: Double, p99: Double)
        where Values.Element == String {
        var iterator = values.makeAsyncIterator()
        _ = try await iterator.next()  // the first value
        var samples: [Double] = []
        for round in 0..<rounds {
            let started = ContinuousClock.now
            try await write(round)
            let committed = fromStart ? started : ContinuousClock.now
            while let value = try await iterator.next(), value != "A \(round)" {}
            samples.append(seconds(ContinuousClock.now - committed) * 1_000)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, samples.count * 99 / 100)])
    }
}
