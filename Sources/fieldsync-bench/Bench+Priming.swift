import ArgumentParser
import AsyncHTTPClient
import DeviceStore
import FieldModel
import Foundation
import SyncClient
import SyncClientHTTP
import SyncCore
import FleetSimulation
import SyncWire

extension Bench {
    /// 3. Priming the rep's whole working set on a new phone over loopback HTTP: seconds, bytes on
    /// the wire and the phone's peak memory, against reading the same rows with `COPY … TO` and
    /// inserting them into SQLite raw; and then forgetting them all, as a phone starting every
    /// bucket over does, against deleting every raw table's rows. Each side runs in a child process of its own, so that its
    /// peak resident memory is its own; the faster of two runs counts.
    func priming(_ world: BenchWorld) async throws -> [Figure] {
        let buckets = try await world.buckets(of: world.rep, role: .rep)
        let token = try await world.token(for: world.rep)
        var fieldSync: [JSONValue] = []
        var raw: [JSONValue] = []
        for run in 0..<(scale.name == "quick" ? 1 : 2) {
            Self.log("priming \(world.seededRows) rows, run \(run + 1): FieldSync over HTTP")
            fieldSync.append(try Self.child(["prime-child", "--mode", "fieldsync", "--url", world.server.url, "--token", token,
                                             "--user", world.rep.uuidString, "--directory", world.scratch("prime-\(run)")]))
            Self.log("priming run \(run + 1): COPY TO and raw SQLite")
            raw.append(try Self.child(["prime-child", "--mode", "raw", "--database", world.server.database, "--tenant", world.tenant.uuidString,
                                       "--buckets", buckets.map(\.name).joined(separator: ","), "--directory", world.scratch("prime-raw-\(run)")]))
        }
        func best(_ runs: [JSONValue]) -> (seconds: Double, bytes: Double, rows: Double, peak: Double, startOver: Double) {
            func number(_ run: JSONValue, _ key: String) -> Double { if case .number(let text)? = run[key] { Double(text) ?? .nan } else { .nan } }
            let fastest = runs.min { number($0, "seconds") < number($1, "seconds") }!
            return (number(fastest, "seconds"), number(fastest, "bytes"), number(fastest, "rows"), runs.map { number($0, "peak_bytes") }.max()!,
                    runs.map { number($0, "start_over_seconds") }.min()!)
        }
        let ours = best(fieldSync)
        let theirs = best(raw)
        let megabyte = 1_048_576.0
        var seconds = Figure.ratio("priming_seconds", ours.seconds, theirs.seconds, unit: "s", against: "COPY TO + raw SQLite insert", atMost: 3,
                                   note: "\(Int(ours.rows)) rows primed (\(Int(theirs.rows)) copied raw); target also under 2 s")
        seconds.target = "value < 2 s, ratio ≤ 3"
        seconds.met = ours.seconds < 2 && (seconds.ratio ?? .infinity) <= 3
        var memory = Figure(name: "priming_peak_memory", value: ours.peak / megabyte, baseline: theirs.peak / megabyte, unit: "MB",
                            against: "the raw path's peak (its own process)")
        memory.target = "value < 100 MB"
        memory.met = ours.peak / megabyte < 100
        return [
            seconds,
            Figure(name: "priming_bytes", value: ours.bytes, baseline: theirs.bytes, unit: "bytes", against: "COPY TO text, uncompressed"),
            memory,
            Figure.ratio("phone_start_over_seconds", ours.startOver, theirs.startOver, unit: "s", against: "raw SQLite DELETE of every table",
                         note: "every bucket of the primed phone re-primed: its rows forgotten"),
        ]
    }

    /// Runs this executable with `arguments` and reads the one JSON object it prints.
    static func child(_ arguments: [String]) throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(arguments[0]) failed with exit status \(process.terminationStatus)") }
        return try JSONValue.parse(Array(answer))
    }
}

extension FieldSyncBench {
    /// One side of the priming benchmark in a process of its own (run by the benchmark, hidden).
    struct PrimeChild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prime-child", abstract: "Prime one phone and report (internal).", shouldDisplay: false)

        @Option(help: "fieldsync or raw.") var mode: String
        @Option(help: "A new directory for the phone's files (removed afterwards).") var directory: String
        @Option(help: "fieldsync: the server.") var url: String?
        @Option(help: "fieldsync: the rep's token.") var token: String?
        @Option(help: "fieldsync: the rep's id.") var user: String?
        @Option(help: "raw: the database.") var database: String?
        @Option(help: "raw: the tenant.") var tenant: String?
        @Option(help: "raw: the rep's buckets, comma-separated.") var buckets: String?

        func run() async throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/phone.sqlite"
            var seconds = 0.0
            var bytes = 0
            var rows = 0
            var startOver = 0.0
            switch mode {
            case "fieldsync":
                guard let url, let token, let user = user.flatMap(RecordID.init) else { throw ValidationError("fieldsync needs --url, --token and --user") }
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    let store = try await DeviceStore.open(path: path)
                    let client = SyncClient(store: store, transport: HTTPTransport(baseURL: url, client: http), credentials: .init(token: token, user: user, role: .rep))
                    var report = SyncClient.Report()
                    seconds = try await Bench.time { report = try await client.sync() }
                    (bytes, rows) = (report.bytes, report.pulledRows)
                    // Starting every bucket over, as a phone does when the feed no longer reaches
                    // back to its cursor: every row it held is forgotten.
                    let cursors = try await store.cursors()
                    startOver = try await Bench.time {
                        for cursor in cursors { try await store.reprime(bucket: cursor.bucket) }
                    }
                } catch {
                    try? await http.shutdown()
                    throw error
                }
                try await http.shutdown()
            case "raw":
                guard let database, let tenant, let buckets else { throw ValidationError("raw needs --database, --tenant and --buckets") }
                (seconds, bytes, rows) = try Self.raw(database: database, tenant: tenant, buckets: buckets.split(separator: ",").map(String.init), path: path)
                let db = try RawSQLite(path: path)
                startOver = try await Bench.time {
                    try db.execute("BEGIN")
                    for table in FieldSalesSchema.schema.tables { try db.execute("DELETE FROM \(table.name)") }
                    try db.execute("COMMIT")
                }
            default:
                throw ValidationError("--mode is fieldsync or raw")
            }
            print(JSONValue.object([
                .init("seconds", .number(String(seconds))), .init("bytes", .number(String(bytes))), .init("rows", .number(String(rows))),
                .init("peak_bytes", .number(String(Machine.peakResidentBytes()))), .init("start_over_seconds", .number(String(startOver))),
            ]).compact)
        }

        /// Every row of the rep's buckets that phones keep (retired rows are not primed), table by
        /// table, with `COPY (SELECT …) TO STDOUT`, inserted into SQLite tables of the same columns
        /// in one transaction.
        static func raw(database: String, tenant: String, buckets: [String], path: String) throws -> (Double, Int, Int) {
            let pg = try RawPostgres(database)
            let db = try RawSQLite(path: path)
            var columns: [String: [String]] = [:]
            for table in FieldSalesSchema.schema.tables {
                let names = try pg.query("SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", [table.name]).map { $0[0]! }
                columns[table.name] = names
                try db.execute("CREATE TABLE \(table.name) (\(names.map { $0 == "id" ? "id PRIMARY KEY" : $0 }.joined(separator: ", ")))")
            }
            let list = buckets.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
            var bytes = 0
            var rows = 0
            let start = ContinuousClock.now
            try db.execute("BEGIN")
            for table in FieldSalesSchema.schema.tables {
                let names = columns[table.name]!
                let insert = "INSERT OR REPLACE INTO \(table.name) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))"
                bytes += try pg.copyOut("""
                    COPY (SELECT * FROM \(table.name) WHERE tenant_id = '\(tenant)' AND id IN
                          (SELECT id FROM row_buckets WHERE tenant_id = '\(tenant)' AND tbl = '\(table.name)' AND bucket IN (\(list)))
                      AND id NOT IN (SELECT id FROM row_retired WHERE tenant_id = '\(tenant)' AND tbl = '\(table.name)')) TO STDOUT
                    """) { line in
                    try db.run(insert, RawPostgres.fields(line).map { $0.map(RawValue.text) ?? .null })
                    rows += 1
                }
            }
            try db.execute("COMMIT")
            return (Bench.seconds(ContinuousClock.now - start), bytes, rows)
        }
    }
}
