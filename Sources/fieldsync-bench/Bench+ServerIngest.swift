import DeviceStore
import FieldModel
import FieldRules
import PostgresDriver
import SyncEngine
import SyncClient
import SyncClientHTTP
import SyncCore
import FleetSimulation
import SyncWire

extension Bench {
    /// 2. Changes merged per second through the push path — the store layer (``SyncStore/push``,
    /// every rule on arrival included) and end to end over HTTP — against a raw libpq batched
    /// upsert of the same rows (one transaction and one multi-row statement per table per push).
    func serverIngest(_ mixA: ChangeMix, _ mixB: ChangeMix, phone: Phone, _ world: BenchWorld) async throws -> [Figure] {
        guard let replica = try await phone.store.identity().replica else { throw BenchError("the mix phone is not registered") }
        let store = SyncStore(pool: world.server.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.server.clock))
        Self.log("server ingest, store layer: \(mixA.changes) changes")
        var rejected = 0
        let statementsBefore = PostgresConnection.statementsSent
        let tripsBefore = PostgresConnection.roundTrips
        let storeSeconds = try await Self.time {
            for push in mixA.pushes() {
                // One call per push, as the server makes.
                let applied = try await store.push(push.map { SyncStore.Submission($0, replica: replica) }, batch: push[0].id.uuid,
                                                   author: SyncStore.Author(role: .rep, user: world.rep, now: world.now), tenant: world.tenant)
                rejected += applied.flatMap(\.outcomes).filter { $0.result == .rejected }.count
            }
        }
        // Every statement of the process while the store-layer pushes ran (the server's
        // background jobs add a few).
        let statementsPerPush = Double(PostgresConnection.statementsSent - statementsBefore) / Double(mixA.pushes().count)
        let tripsPerPush = Double(PostgresConnection.roundTrips - tripsBefore) / Double(mixA.pushes().count)
        Self.log("server ingest over HTTP: \(mixB.changes) changes")
        let transport = HTTPTransport(baseURL: world.server.url, client: world.server.http)
        let token = try await world.token(for: world.rep)
        let httpSeconds = try await Self.time {
            for push in mixB.pushes() {
                let response = try await transport.send(.pushRequest(PushRequest(batch: push[0].id.uuid, changeSets: push)), to: "/v1/push", token: token)
                guard case .pushResponse(let answer) = response.message else { throw BenchError("the server answered a push with \(response.message)") }
                rejected += answer.outcomes.filter { $0.result == .rejected }.count
            }
        }
        let raw = try RawPostgres(world.server.database)
        let rawA = try Self.rawIngest(mixA, on: raw, prefix: "bench_ingest_a")
        let rawB = try Self.rawIngest(mixB, on: raw, prefix: "bench_ingest_b")
        let note = rejected > 0 ? "\(rejected) changes were rejected by the rules" : nil
        return [
            .ratio("server_ingest_store", Double(mixA.changes) / storeSeconds, Double(mixA.changes) / rawA, unit: "changes/s",
                   against: "raw libpq batched upsert", atLeast: 0.25, note: note),
            .ratio("server_ingest_http", Double(mixB.changes) / httpSeconds, Double(mixB.changes) / rawB, unit: "changes/s",
                   against: "raw libpq batched upsert", atLeast: 0.2),
            .ratio("server_ingest_statements", statementsPerPush, Self.rawStatementsPerPush(mixA), unit: "statements/push",
                   against: "raw libpq batched upsert (BEGIN, one per table, COMMIT)"),
            // The raw path waits for each of its statements.
            .ratio("server_ingest_round_trips", tripsPerPush, Self.rawStatementsPerPush(mixA), unit: "round trips/push",
                   against: "raw libpq batched upsert, one round trip per statement"),
        ]
    }

    /// The statements the raw path sends per push: BEGIN, one upsert per table, COMMIT.
    static func rawStatementsPerPush(_ mix: ChangeMix) -> Double {
        let pushes = mix.pushes()
        let statements = pushes.reduce(0) { $0 + 2 + Set($1.flatMap(\.changes).map(\.table)).count }
        return Double(statements) / Double(pushes.count)
    }

    /// The raw path: a table per record type (`id uuid` and a text column per field); per push,
    /// one transaction with one `INSERT … VALUES (…), (…) ON CONFLICT DO UPDATE` per table, the
    /// push's writes to one row folded into one tuple. Returns the seconds it took.
    static func rawIngest(_ mix: ChangeMix, on db: RawPostgres, prefix: String) throws -> Double {
        let schema = FieldSalesSchema.schema
        let tables = Set(mix.changeSets.flatMap { $0.changes.map(\.table) })
        for name in tables {
            let fields = schema.table(name)!.fields.map(\.name)
            try db.query("DROP TABLE IF EXISTS \(prefix)_\(name)")
            try db.query("CREATE TABLE \(prefix)_\(name) (id uuid PRIMARY KEY, \(fields.map { "\($0) text" }.joined(separator: ", ")))")
        }
        let start = ContinuousClock.now
        for push in mix.pushes() {
            // Fold the push's writes per row, in order.
            var rows: [String: [RecordID: [String: String?]]] = [:]
            var order: [String: [RecordID]] = [:]
            for change in push.flatMap(\.changes) {
                guard case .write(let writes) = change.operation else { continue }
                if rows[change.table]?[change.record] == nil { order[change.table, default: []].append(change.record) }
                for write in writes { rows[change.table, default: [:]][change.record, default: [:]][write.field] = RawValue(write.value).postgresText }
            }
            try db.query("BEGIN")
            for (table, ids) in order.sorted(by: { $0.key < $1.key }) {
                let columns = Array(Set(ids.flatMap { rows[table]![$0]!.keys })).sorted()
                var parameters: [String?] = []
                var tuples: [String] = []
                for id in ids {
                    let row = rows[table]![id]!
                    let first = parameters.count
                    parameters.append(id.uuidString)
                    for column in columns { parameters.append(row[column] ?? nil) }
                    tuples.append("(" + (first..<parameters.count).map { "$\($0 + 1)" }.joined(separator: ", ") + ")")
                }
                let updates = columns.map { "\($0) = COALESCE(EXCLUDED.\($0), \(prefix)_\(table).\($0))" }.joined(separator: ", ")
                try db.query("INSERT INTO \(prefix)_\(table) (id, \(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) "
                             + "ON CONFLICT (id) DO UPDATE SET \(updates)", parameters)
            }
            try db.query("COMMIT")
        }
        return seconds(ContinuousClock.now - start)
    }
}
