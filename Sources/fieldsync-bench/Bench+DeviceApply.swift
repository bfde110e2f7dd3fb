import DeviceStore
import FieldModel
import SyncCore
import FleetSimulation
import SyncWire

extension Bench {
    /// 1. Remote changes applied per second into a phone's store (one pulled page, one
    /// transaction) against a raw prepared SQLite upsert of the same changes' fields in one
    /// transaction. The best of three runs each, on new files.
    func deviceApply(_ mix: ChangeMix, _ world: BenchWorld) async throws -> [Figure] {
        Self.log("device apply: \(mix.changes) changes")
        let runs = scale.name == "quick" ? 1 : 3
        var fieldSync = 0.0
        var raw = 0.0
        for run in 0..<runs {
            let store = try await DeviceStore.open(path: world.scratch("apply-\(run).sqlite"))
            let page = BucketPage(bucket: .territory(world.territory), kind: .changes, changeSets: mix.changeSets, cursor: 1, hasMore: false)
            let elapsed = try await Self.time { try await store.apply(page, serverClock: HLC(milliseconds: world.now)) }
            fieldSync = max(fieldSync, Double(mix.changes) / elapsed)
            raw = max(raw, Double(mix.changes) / (try Self.rawApply(mix, path: world.scratch("apply-raw-\(run).sqlite"))))
        }
        return [.ratio("device_apply", fieldSync, raw, unit: "changes/s", against: "raw SQLite prepared upsert, one transaction", atLeast: 0.5)]
    }

    /// The raw path: a table per record type with one column per field, and for each change an
    /// `INSERT … ON CONFLICT DO UPDATE` of the fields it writes. Returns the seconds it took.
    static func rawApply(_ mix: ChangeMix, path: String) throws -> Double {
        let db = try RawSQLite(path: path)
        let schema = FieldSalesSchema.schema
        for name in Set(mix.changeSets.flatMap { $0.changes.map(\.table) }) {
            let fields = schema.table(name)!.fields.map(\.name)
            try db.execute("CREATE TABLE \(name) (id BLOB PRIMARY KEY, \(fields.joined(separator: ", ")))")
        }
        let start = ContinuousClock.now
        try db.execute("BEGIN")
        for change in mix.changeSets.flatMap(\.changes) {
            switch change.operation {
            case .delete:
                try db.run("DELETE FROM \(change.table) WHERE id = ?", [.blob(change.record.bytes)])
            case .write(let writes):
                let names = writes.map(\.field)
                let sql = "INSERT INTO \(change.table) (id, \(names.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: names.count))) "
                    + "ON CONFLICT (id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))"
                try db.run(sql, [.blob(change.record.bytes)] + writes.map { RawValue($0.value) })
            }
        }
        try db.execute("COMMIT")
        return seconds(ContinuousClock.now - start)
    }
}
