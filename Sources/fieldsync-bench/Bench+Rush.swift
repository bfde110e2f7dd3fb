import AsyncHTTPClient
import FieldModel
import Foundation
import NIOCore
import NIOHTTP1
import PostgresDriver
import SyncEngine
import SyncClient
import SyncClientHTTP
import SyncCore
import FleetSimulation
import SyncWire
import Synchronization

extension Bench {
    /// 6. The evening rush: ``Scale/rushPhones`` reps come back online within
    /// ``Scale/rushWindow`` seconds (arrivals spread evenly) and each pushes a day's work over
    /// loopback HTTP, in pushes of at most 100 change sets as the sync client sends them. A day
    /// is ``Scale/rushVisits`` visits of the standard mix's shape at the rep's store: an ad hoc
    /// visit and its check-in, an order of five lines submitted, a payment, the check-out and the
    /// completion (13 changes a visit). Reported: the time from the first arrival until every
    /// push is acknowledged, the p50 and p99 of a phone's whole upload (from its arrival), and
    /// the same rows through the raw path, one push after another.
    func eveningRush(_ world: BenchWorld) async throws -> [Figure] {
        let phones = scale.rushPhones
        Self.log("evening rush: seeding \(phones) reps")
        let devices = try await seedLoadUsers(phones, world, label: "rush", seed: 6)
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        config.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let transport = HTTPTransport(baseURL: world.server.url, client: http, timeout: .seconds(120))
        // More instances: `fieldsync-server serve` processes of this build on the same database.
        var others: [Process] = []
        defer { for process in others { process.terminate(); process.waitUntilExit() } }
        var started = [transport]
        for index in 1..<instances {
            let (process, url) = try await Self.startInstance(index, world)
            others.append(process)
            started.append(HTTPTransport(baseURL: url, client: http, timeout: .seconds(120)))
        }
        let transports = started
        do {
            try await register(devices[...], transport: transport, world)
            let priceList = try await Self.priceList(world)
            let days = devices.enumerated().map { index, device in
                Self.day(of: device, visits: scale.rushVisits, products: world.products, priceList: priceList, seed: UInt64(index), now: world.now)
            }
            let changes = days.reduce(0) { $0 + $1.reduce(0) { $0 + $1.changes.count } }
            Self.log("evening rush: \(phones) phones, \(changes) changes, arriving within \(Figure.format(scale.rushWindow)) s at \(transports.count) instance(s)")
            let uploads = Locked<[Double]>([])
            let failures = Locked<[String]>([])
            let refused = Locked<[String: Int]>([:])
            let start = ContinuousClock.now + .milliseconds(200)
            await withTaskGroup(of: Void.self) { group in
                for (index, device) in devices.enumerated() {
                    group.addTask {
                        let due = start + .milliseconds(Int64(Double(index) / Double(phones) * scale.rushWindow * 1000))
                        try? await Task.sleep(until: due, clock: .continuous)
                        do {
                            for push in stride(from: 0, to: days[index].count, by: 100).map({ Array(days[index][$0..<min($0 + 100, days[index].count)]) }) {
                                let answer = try await transports[index % transports.count].send(.pushRequest(PushRequest(batch: push[0].id.uuid, changeSets: push)), to: "/v1/push", token: device.token)
                                guard answer.status == 200, case .pushResponse(let response) = answer.message else { throw BenchError("push answered \(answer.status)") }
                                for outcome in response.outcomes where outcome.result == .rejected { refused.withLock { $0[outcome.reason ?? "?", default: 0] += 1 } }
                            }
                            uploads.withLock { $0.append(Self.seconds(ContinuousClock.now - due) * 1000) }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
            let drained = Self.seconds(ContinuousClock.now - start)
            try await http.shutdown()
            let measured = uploads.withLock { $0 }
            let failed = failures.withLock { $0 }
            let raw = try RawPostgres(world.server.database)
            let rawSeconds = try Self.rawIngest(ChangeMix(changeSets: days.flatMap { $0 }), on: raw, prefix: "bench_rush")
            let note = "\(phones) phones, \(changes) changes, \(transports.count) server instance(s); raw: the same rows in pushes of 100, one after another"
                + (failed.isEmpty ? "" : "; \(failed.count) phones failed: \(failed.first!)")
                + refused.withLock { refused in refused.isEmpty ? "" : "; refused: " + refused.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") }
            var acknowledged = Figure(name: "evening_rush_seconds", value: drained, baseline: rawSeconds, unit: "s",
                                      against: "raw libpq batched upsert of the same rows", note: note)
            acknowledged.target = "every push acknowledged within \(Figure.format(scale.rushWindow)) s of arrivals, none failed"
            acknowledged.met = failed.isEmpty && drained <= scale.rushWindow + 60
            return [
                acknowledged,
                .ratio("evening_rush_upload_p50", Self.quantile(measured, 0.5), rawSeconds * 1000 / Double(phones), unit: "ms",
                       against: "raw upsert of one phone's day (the raw run's mean)", note: "a phone's whole day, from its arrival until its last push is acknowledged"),
                .ratio("evening_rush_upload_p99", Self.quantile(measured, 0.99), rawSeconds * 1000 / Double(phones), unit: "ms",
                       against: "raw upsert of one phone's day (the raw run's mean)"),
                .ratio("evening_rush_rate", Double(changes) / drained, Double(changes) / rawSeconds, unit: "changes/s",
                       against: "raw libpq batched upsert, one push after another", note: "arrivals are spread over the window: the rate is bounded by it"),
            ]
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The price list the load's orders use: the tenant's first.
    static func priceList(_ world: BenchWorld) async throws -> RecordID {
        RecordID(try await world.server.pool.query("SELECT id::text FROM price_lists WHERE tenant_id = $1 AND NOT _deleted ORDER BY id LIMIT 1",
                                                   [world.tenant.uuidString])[0].read(0, as: String.self))!
    }

    /// Starts `fieldsync-server serve` (next to this executable) on the bench's database and
    /// secret, on a free port, and waits until it is ready.
    static func startInstance(_ index: Int, _ world: BenchWorld) async throws -> (Process, String) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("fieldsync-server")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError("--instances needs \(binary.path): swift build -c release --product fieldsync-server")
        }
        let port = 18_000 + Int.random(in: 0..<20_000)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--database-url", world.server.database, "--token-secret", world.server.secret, "--port", String(port),
                             "--log-level", "error", "--requests-per-second", "100000"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let url = "http://127.0.0.1:\(port)"
        let probe = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await probe.shutdown() } }
        for _ in 0..<300 {
            if let response = try? await probe.execute(HTTPClientRequest(url: url + "/ready"), timeout: .seconds(2)), response.status == .ok { return (process, url) }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw BenchError("instance \(index) did not become ready on port \(port)")
    }

    /// A rep's day at their store: `visits` ad hoc visits of the standard mix's shape, as the
    /// phone makes them (one change set per action).
    static func day(of device: LoadDevice, visits: Int, products: [RecordID], priceList: RecordID, seed: UInt64, now: UInt64) -> [ChangeSet] {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 1)
        let replica = device.state.withLock { $0.replica } ?? .server
        // The phone registered just before (its first sync of the day): the day is stamped after
        // that, within the clock drift the server allows, a second between actions.
        var clock = now - 250_000
        var sets: [ChangeSet] = []
        func id() -> RecordID { RecordID.make(milliseconds: clock, using: &random) }
        func set(_ changes: [(table: String, record: RecordID, fields: [(String, FieldValue)])]) {
            clock += 1_000
            let stamped = changes.enumerated().map { index, change in
                Change(id: ChangeID(id()), table: change.table, record: change.record, operation: .write(change.fields.map { FieldWrite($0.0, $0.1) }),
                       version: Version(clock: HLC(milliseconds: clock, counter: UInt16(index)), replica: replica))
            }
            sets.append(ChangeSet(id: ChangeID(id()), changes: stamped))
        }
        for visitIndex in 0..<visits {
            let visit = id()
            let time = Int64(clock)
            func geo(_ kind: String) -> (String, RecordID, [(String, FieldValue)]) {
                ("geo_events", id(), [("visit_id", .id(visit)), ("user_id", .id(device.user)), ("kind", .text(kind)), ("device_time", .timestamp(Int64(clock))),
                                      ("latitude_e6", .integer(40_750_000)), ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(12)),
                                      ("provider", .text("gps")), ("mock_location", .bool(false))])
            }
            set([("visits", visit, [("customer_id", .id(device.customer)), ("assignee_id", .id(device.user)), ("visit_type", .text("routine")),
                                    ("status", .state(StateValue("in_progress"))), ("creation_mode", .text("ad_hoc")), ("actual_start", .timestamp(time)),
                                    ("executed_by", .id(device.user))]),
                 geo("check_in")])
            let order = id()
            set([("sales_orders", order, [("customer_id", .id(device.customer)), ("visit_id", .id(visit)), ("created_by", .id(device.user)),
                                          ("price_list_id", .id(priceList)), ("currency", .text("USD")), ("tax_inclusive", .bool(false)),
                                          ("order_date", .timestamp(time)), ("status", .state(StateValue("draft")))])])
            for line in 0..<5 {
                set([("order_lines", id(), [("order_id", .id(order)), ("product_id", .id(products[Int(random.next() % UInt64(products.count))])),
                                            ("quantity", .integer(Int64(1 + line))), ("discount_bp", .integer(0))])])
            }
            set([("sales_orders", order, [("status", .state(StateValue("submitted")))])])
            set([("payments", id(), [("order_id", .id(order)), ("amount_minor", .integer(1_000)), ("method", .text("cash")),
                                     ("receipt_number", .text("RUSH-\(seed)-\(visitIndex)")), ("collected_by", .id(device.user)),
                                     ("collected_at", .timestamp(Int64(clock)))])])
            set([geo("check_out"), ("visits", visit, [("actual_end", .timestamp(Int64(clock)))])])
            set([("visits", visit, [("status", .state(StateValue("completed")))])])
        }
        return sets
    }
}
