import AsyncHTTPClient
import DemoData
import FieldModel
import FieldRules
import Foundation
import NIOCore
import PostgresDriver
import SyncEngine
import SyncClient
import SyncClientHTTP
import SyncCore
import FleetSimulation
import SyncWire
import Synchronization

extension Bench {
    /// 5. The most devices syncing every ``Scale/syncPeriod`` seconds that the server serves with
    /// a p99 under 500 ms, trying ``Scale/capacitySteps`` in turn; one sync in ten pushes a visit
    /// of the standard mix.
    ///
    /// The load generator speaks the real protocol over loopback HTTP: each device is a user of
    /// its own (reps, five to a territory), registered, with its cursors at the feed's head. A
    /// device syncs on its own schedule (spread evenly over the period); a sync pushes a visit of
    /// the standard mix's shape (13 changes) one time in ten, then pulls. Latency is counted from when the sync was due, so a
    /// server that falls behind is charged for the wait. The first period warms up; the second
    /// is measured. A step passes with a p99 under 500 ms and no failed request.
    func capacity(_ world: BenchWorld) async throws -> [Figure] {
        let most = scale.capacitySteps.max()!
        Self.log("capacity: seeding \(most) users")
        let devices = try await seedLoadUsers(most, world)
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        config.timeout = .init(connect: .seconds(10), read: .seconds(60))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let transport = HTTPTransport(baseURL: world.server.url, client: http, timeout: .seconds(60))
        let priceList = try await Self.priceList(world)
        var registered = 0
        var sustained = 0
        var steps: [String] = []
        do {
            for count in scale.capacitySteps.sorted() {
                Self.log("capacity: registering devices \(registered + 1)…\(count)")
                try await register(devices[registered..<count], transport: transport, world)
                registered = count
                Self.log("capacity: \(count) devices syncing every \(Figure.format(scale.syncPeriod)) s")
                let (p50, p99, failures, syncs) = await load(Array(devices.prefix(count)), transport: transport, world, priceList: priceList)
                steps.append("\(count) devices: \(syncs) syncs measured, p50 \(Figure.format(p50)) ms, p99 \(Figure.format(p99)) ms, \(failures) failed")
                Self.log("capacity: " + steps.last!)
                guard p99 < 500, failures == 0 else { break }
                sustained = count
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        let target = 10_000.0
        var figure = Figure(name: "server_capacity", value: Double(sustained), baseline: target, unit: "devices",
                            against: "the issue's target (no raw equivalent)", note: steps.joined(separator: "; "))
        figure.target = "value ≥ 10000 at p99 < 500 ms"
        figure.met = Double(sustained) >= target
        return [figure]
    }

    /// One simulated device of the load generator.
    final class LoadDevice: Sendable {
        let user: RecordID
        let customer: RecordID
        let token: String
        let state = Mutex<(replica: ReplicaID?, cursors: [BucketCursor])>((nil, []))
        init(user: RecordID, customer: RecordID, token: String) {
            (self.user, self.customer, self.token) = (user, customer, token)
        }
    }

    /// `count` reps, five to a new territory with one customer each, seeded as the server's own
    /// records; `label` and `seed` keep the users of one group apart from another's.
    func seedLoadUsers(_ count: Int, _ world: BenchWorld, label: String = "load", seed: UInt64 = 5) async throws -> [LoadDevice] {
        let demo = DemoGenerator().generate()
        var random = SplitMix64(seed: seed)
        let idTime = UInt64(BenchWorld.monday.epochSeconds * 1000) - 20 * 86_400_000
        var data = DemoDataSet(tables: [
            DemoDataSet.Table(name: "territories", columns: demo["territories"]!.columns),
            DemoDataSet.Table(name: "users", columns: demo["users"]!.columns),
            DemoDataSet.Table(name: "territory_owners", columns: demo["territory_owners"]!.columns),
            DemoDataSet.Table(name: "customers", columns: demo["customers"]!.columns),
        ])
        let userTemplate = demo["users"]!.rows.first { $0[2] == "rep" }!
        let customerTemplate = demo["customers"]!.rows[0]
        let territoryColumn = demo["customers"]!.columns.firstIndex(of: "territory_id")!
        var seats: [(user: RecordID, customer: RecordID)] = []
        var territory = ""
        var customer = RecordID(high: 0, low: 0)
        for n in 0..<count {
            if n % 5 == 0 {
                territory = RecordID.make(milliseconds: idTime, using: &random).uuidString
                data.tables[0].append([territory, world.tenant.uuidString, "\(label.capitalized) territory \(n / 5)"])
                customer = RecordID.make(milliseconds: idTime, using: &random)
                var row = customerTemplate
                row[0] = customer.uuidString
                row[territoryColumn] = territory
                row[3] = "\(label.capitalized) Customer \(n / 5)"
                row[4] = "\(label) customer \(n / 5)"
                data.tables[3].append(row)
            }
            let user = RecordID.make(milliseconds: idTime, using: &random)
            var row = userTemplate
            row[0] = user.uuidString
            row[3] = "\(label.capitalized) rep \(n)"
            row[4] = "\(label).rep.\(n)@bench.fieldsync.example"
            data.tables[1].append(row)
            data.tables[2].append([territory, user.uuidString, "2026-01-01T05:00:00Z", nil])
            seats.append((user, customer))
        }
        let records = try data.snapshots(for: FieldSalesSchema.schema, clock: HLC(milliseconds: idTime))
        try await SyncStore(pool: world.server.pool, domain: FieldSalesDomain()).seed(records.map { ($0.ref.table, $0.ref.record, $0.state) }, tenant: world.tenant)
        var devices: [LoadDevice] = []
        for seat in seats { devices.append(LoadDevice(user: seat.user, customer: seat.customer, token: try await world.token(for: seat.user))) }
        return devices
    }

    /// Registers `devices` (32 at a time) and sets their cursors at the feed's head.
    func register(_ devices: ArraySlice<LoadDevice>, transport: HTTPTransport, _ world: BenchWorld) async throws {
        let head = UInt64(try await world.server.pool.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")[0].read(0, as: String.self))! - 1
        let queue = Locked(Array(devices))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    while let device = queue.withLock({ $0.popLast() }) {
                        let request = RegisterRequest(installation: device.user, appVersion: "1.0.0", platform: "fieldsync-bench",
                                                      schemaRevision: UInt64(FieldSalesSchema.schema.revision))
                        let answer = try await transport.send(.registerRequest(request), to: "/v1/register", token: device.token)
                        guard case .registerResponse(let response) = answer.message else { throw BenchError("registration failed: \(answer.message)") }
                        device.state.withLock { $0 = (response.replica, response.buckets.map { BucketCursor(bucket: $0, sequence: head) }) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Two sync periods of `devices`; returns the second period's p50 and p99 (ms), failures and syncs.
    func load(_ devices: [LoadDevice], transport: HTTPTransport, _ world: BenchWorld, priceList: RecordID) async -> (Double, Double, Int, Int) {
        let latencies = Locked<[Double]>([])
        let failures = Locked(0)
        let period = scale.syncPeriod
        let start = ContinuousClock.now + .milliseconds(500)
        await withTaskGroup(of: Void.self) { group in
            for (index, device) in devices.enumerated() {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(index) &* 0x9E37_79B9)
                    for round in 0..<2 {
                        let due = start + .milliseconds(Int64((Double(index) / Double(devices.count) + Double(round)) * period * 1000))
                        try? await Task.sleep(until: due, clock: .continuous)
                        do {
                            try await Self.sync(device, push: random.next() % 10 == 0, transport: transport, world, priceList: priceList)
                            if round == 1 { latencies.withLock { $0.append(Self.seconds(ContinuousClock.now - due) * 1000) } }
                        } catch {
                            failures.withLock { $0 += 1 }
                        }
                    }
                }
            }
        }
        let measured = latencies.withLock { $0 }
        return (Self.quantile(measured, 0.5), Self.quantile(measured, 0.99), failures.withLock { $0 }, measured.count)
    }

    /// One sync of a load device: maybe a push of one visit of the standard mix's shape (check-in,
    /// an order of five lines submitted, a payment, check-out, completion: 13 changes in 11 change
    /// sets), then a pull.
    static func sync(_ device: LoadDevice, push: Bool, transport: HTTPTransport, _ world: BenchWorld, priceList: RecordID) async throws {
        let (replica, cursors) = device.state.withLock { $0 }
        guard replica != nil else { throw BenchError("an unregistered device") }
        if push {
            let visit = day(of: device, visits: 1, products: world.products, priceList: priceList, seed: UInt64.random(in: 1...UInt64.max), now: world.now)
            let answer = try await transport.send(.pushRequest(PushRequest(batch: visit[0].id.uuid, changeSets: visit)), to: "/v1/push", token: device.token)
            guard answer.status == 200, case .pushResponse = answer.message else { throw BenchError("push failed: \(answer.message)") }
        }
        let answer = try await transport.send(.pullRequest(PullRequest(cursors: cursors, replica: replica)), to: "/v1/pull", token: device.token)
        guard answer.status == 200, case .pullResponse(let response) = answer.message else { throw BenchError("pull failed: \(answer.message)") }
        var next = Dictionary(uniqueKeysWithValues: cursors.map { ($0.bucket, $0) })
        for page in response.pages { next[page.bucket] = BucketCursor(bucket: page.bucket, sequence: page.cursor) }
        device.state.withLock { $0.cursors = next.values.sorted { $0.bucket < $1.bucket } }
    }
}

/// A value shared between tasks, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout sending Value) -> sending T) -> T { mutex.withLock(body) }
}
