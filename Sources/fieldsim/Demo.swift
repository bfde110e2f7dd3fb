import ArgumentParser
import AsyncHTTPClient
import DeviceStore
import FieldModel
import Foundation
import Logging
import ServerStore
import ServiceLifecycle
import SyncClient
import SyncClientHTTP
import SyncCore
import SyncServer
import SyncTesting
import SyncWire
import Synchronization

/// `fieldsim demo`: the whole product on one machine, in about a minute. A private PostgreSQL,
/// the real server on a loopback port, and a fleet of phones working a simulated week over real
/// HTTP, with a few faults; then a reconciliation of every phone against the server.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a throwaway server and run a fleet of phones through a simulated week over HTTP.",
        discussion: """
            Nothing to set up and nothing left behind: the PostgreSQL cluster, the server and the \
            phones' stores live under a temporary directory that is removed at the end. Faults: \
            responses lost after the server committed, requests that never arrive, phones offline \
            for a day, a phone whose clock runs three hours ahead. Exits 1 when the reconciliation \
            finds a violation, printing the command that replays the run.
            """
    )

    @Option(help: "How many phones (reps carry up to three installs, technicians one).")
    var devices = 20

    @Option(help: "How many working days, from Monday 30 November 2026.")
    var days = 5

    @Option(help: "The seed for the faults and the phones' choices.")
    var seed: UInt64 = 20_261_130

    func run() async throws {
        guard (1...200).contains(devices), (1...10).contains(days) else { throw ValidationError("--devices 1...200 and --days 1...10") }
        let started = ContinuousClock.now
        var quiet = Logger(label: "fieldsim.demo")
        quiet.logLevel = .error
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        print("Starting PostgreSQL under \(root.path) …")
        let cluster = try await PostgresCluster.start(in: root.appendingPathComponent("postgres"), logger: quiet)
        do {
            let outcome = try await DemoRun(root: root, cluster: cluster, devices: devices, days: days, seed: seed, logger: quiet).run()
            await cluster.stop()
            let seconds = Double((ContinuousClock.now - started).components.seconds)
            print("Finished in \(Int(seconds)) s; the server, PostgreSQL and every file are gone.")
            if !outcome {
                print("Replay: swift run fieldsim demo --devices \(devices) --days \(days) --seed \(seed)")
                throw ExitCode(1)
            }
        } catch {
            await cluster.stop()
            throw error
        }
    }
}

/// One run of the demo.
struct DemoRun {
    let root: URL
    let cluster: PostgresCluster
    let devices: Int
    let days: Int
    let seed: UInt64
    let logger: Logger

    static let monday = CivilDate(year: 2026, month: 11, day: 30)
    static let hour: UInt64 = 3_600_000

    /// One phone.
    final class Phone: Sendable {
        let index: Int
        let name: String
        let user: RecordID
        let role: Role
        let install: Int, installs: Int
        let store: DeviceStore
        let client: SyncClient
        let made = Mutex(0)
        let syncs = Mutex<[Duration]>([])
        let report = Mutex(SyncClient.Report())
        let failures = Mutex<[String]>([])

        init(index: Int, name: String, user: RecordID, role: Role, install: Int, installs: Int, store: DeviceStore, client: SyncClient) {
            (self.index, self.name, self.user, self.role, self.install, self.installs, self.store, self.client) = (index, name, user, role, install, installs, store, client)
        }

        func sync() async {
            let began = ContinuousClock.now
            do {
                let report = try await client.sync()
                syncs.withLock { $0.append(ContinuousClock.now - began) }
                self.report.withLock { total in
                    total.pushed += report.pushed; total.rejected += report.rejected; total.flagged += report.flagged
                    total.pulledChangeSets += report.pulledChangeSets; total.pulledRows += report.pulledRows
                    total.requests += report.requests; total.retries += report.retries; total.bytes += report.bytes
                    total.restamps += report.restamps
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }

        func act(_ body: () async throws -> ActionReport) async {
            do {
                let report = try await body()
                made.withLock { $0 += report.changeSet?.changes.count ?? 0 }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
    }

    func run() async throws -> Bool {
        let pool = try PostgresPool(.init(connectionString: cluster.connectionString(), connectionsMax: 16), logger: logger)
        try await Migrator.migrate(pool, logger: logger)
        let data = try DemoDataSet(contentsOf: SyncTesting.Fixtures.demo)
        _ = try await data.load(into: pool)
        let tenant = data.tenant!
        var generator = SplitMix64(seed: seed)
        let tokens = try await TokenAuthority(secret: (0..<4).map { _ in String(generator.next(), radix: 16) }.joined())
        let clock = ManualWallClock(Self.monday.epochSeconds * 1000 + 12 * Self.hour)
        let port = Mutex<Int?>(nil)
        let app = FieldSyncServer.makeApplication(pool: pool, tokens: tokens, configuration: .init(port: 0), wallClock: clock, logger: logger) { bound in
            port.withLock { $0 = bound }
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        var bound: Int?
        for _ in 0..<500 where bound == nil {
            try await Task.sleep(for: .milliseconds(10))
            bound = port.withLock { $0 }
        }
        guard let bound else { throw ValidationError("the server did not start") }
        print("FieldSync is serving at http://127.0.0.1:\(bound) (PostgreSQL on a private socket)")
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await simulate(pool: pool, data: data, tenant: tenant, tokens: tokens, clock: clock, url: "http://127.0.0.1:\(bound)", http: http)
            try await http.shutdown()
            await group.triggerGracefulShutdown()
            _ = try? await server.value
            await pool.close()
            return result
        } catch {
            try? await http.shutdown()
            await group.triggerGracefulShutdown()
            throw error
        }
    }

    func simulate(pool: PostgresPool, data: DemoDataSet, tenant: RecordID, tokens: TokenAuthority, clock: ManualWallClock,
                  url: String, http: HTTPClient) async throws -> Bool {
        // The fleet: reps carry up to three installs (phone, tablet, a re-installed phone), technicians one.
        let users = data["users"]!.rows
        let reps = users.filter { $0[2] == "rep" }, technicians = users.filter { $0[2] == "technician" }
        var seats: [(row: [String?], install: Int, installs: Int)] = []
        let perRep = max(1, min(3, (devices - technicians.count + reps.count - 1) / max(1, reps.count)))
        for rep in reps { for install in 0..<perRep { seats.append((rep, install, perRep)) } }
        for technician in technicians { seats.append((technician, 0, 1)) }
        seats = Array(seats.prefix(devices))
        var phones: [Phone] = []
        let office = SyncStore(pool: pool, schema: FieldSalesSchema.schema, clock: ServerClock(wallClock: clock))
        var missed = 0
        for (index, seat) in seats.enumerated() {
            let user = RecordID(seat.row[0]!)!
            let role = Role(seat.row[2]!)
            // Phone 5 runs three hours ahead: the server makes it re-stamp.
            let deviceClock: any WallClock = index == 5 ? OffsetClock(base: clock, offset: 3 * Self.hour) : clock
            let store = try await DeviceStore.open(path: root.appendingPathComponent("phone-\(index).sqlite").path,
                                                   options: .init(wallClock: deviceClock, seed: seed &+ UInt64(index)))
            var options = SyncClient.Options()
            options.seed = seed &+ UInt64(index)
            options.backoff = .milliseconds(20)
            options.attempts = 10
            options.backoffMax = .seconds(2)
            let transport = FaultyTransport(inner: HTTPTransport(baseURL: url, client: http), seed: seed &+ UInt64(index), lossRate: 0.03)
            let token = try await tokens.issue(user: user, tenant: tenant, role: role)
            let client = SyncClient(store: store, transport: transport, credentials: .init(token: token, user: user, role: role), options: options)
            phones.append(Phone(index: index, name: seat.row[3] ?? "?", user: user, role: role, install: seat.install, installs: seat.installs, store: store, client: client))
        }
        print("\(phones.count) phones: \(phones.filter { $0.role == .rep }.count) of \(reps.count) reps' (up to \(perRep) each) and \(phones.filter { $0.role == .technician }.count) of technicians', \(days) working days")
        let offline: (Phone, Int) -> Bool = { phone, day in phone.index % 7 == 3 && day == 1 || phone.index % 9 == 7 && (1...2).contains(day) }

        for day in 0..<days {
            let dayStart = Self.monday.adding(days: day).epochSeconds * 1000
            clock.set(dayStart + 12 * Self.hour)
            let online = phones.filter { !offline($0, day) }
            await forEach(online) { await $0.sync() }
            for hour in 13..<23 {
                clock.set(dayStart + UInt64(hour) * Self.hour)
                await forEach(phones) { phone in await work(phone, from: Int64(clock.now()), data: data) }
                if hour == 17 { await forEach(online) { await $0.sync() } }
            }
            clock.set(dayStart + 23 * Self.hour)
            await forEach(online) { await $0.sync() }
            // The server's job marks the day's unvisited visits missed (it runs every minute in
            // `fieldsync-server`; here the simulated clock jumps, so the demo calls it at night).
            // A phone that was offline revives them when it syncs.
            missed += try await office.markMissedVisits(now: Int64(clock.now()), tenant: tenant)
            let done = phones.reduce(0) { $0 + $1.made.withLock { $0 } }
            let date = Self.monday.adding(days: day)
            print("  day \(day + 1) (\(date.year)-\(date.month)-\(date.day)): \(online.count) phones online, \(done) changes made so far")
        }
        print("  the missed-visit job marked \(missed) visits missed over the week (late check-ins revive them)")
        // Everyone comes back and syncs twice (the second pull sees what the last pushes wrote).
        clock.set(Self.monday.adding(days: days).epochSeconds * 1000 + 12 * Self.hour)
        await forEach(phones) { await $0.sync() }
        await forEach(phones) { await $0.sync() }
        return try await reconcile(phones, pool: pool, tenant: tenant, clock: clock)
    }

    /// What a phone does in one hour: its visits planned in that hour (reps) or its work orders
    /// of the day (technicians, at their first hour).
    func work(_ phone: Phone, from start: Int64, data: DemoDataSet) async {
        let end = start + Int64(Self.hour)
        var random = SplitMix64(seed: seed ^ UInt64(start) ^ UInt64(phone.index) << 32)
        if phone.role == .technician {
            guard (start / Int64(Self.hour)) % 24 == 13 else { return }
            let orders = data["work_orders"]!
            let column = { (name: String) in orders.columns.firstIndex(of: name)! }
            for row in orders.rows where row[column("assignee_id")] == phone.user.uuidString {
                guard let window = row[column("window_start")].flatMap(ISO8601DateFormatter().date(from:)),
                      Int64(window.timeIntervalSince1970 * 1000) / 86_400_000 == start / 86_400_000 else { continue }
                let order = RecordID(row[0]!)!
                for status in ["en_route", "on_site"] { await phone.act { try await phone.store.moveWorkOrder(order, to: status, at: start) } }
                await phone.act { try await phone.store.setResolution(workOrder: order, resolution: "Replaced the worn part; tested.") }
                await phone.act { try await phone.store.moveWorkOrder(order, to: "completed", at: start + 3_600_000) }
            }
            return
        }
        guard let visits = try? await phone.store.visits(from: start, to: end) else { return }
        let products = data["products"]!.rows.prefix(200).map { RecordID($0[0]!)! }
        for (position, visit) in visits.enumerated() where visit.status == "planned" {
            // Installs of one rep share the day: each takes its own visits.
            guard Int(visit.sequence ?? Int64(position)) % phone.installs == phone.install, let location = visit.location else { continue }
            let time = visit.plannedStart ?? start
            var coordinate = location
            let roll = random.next() % 100
            if roll < 8 { coordinate.latitudeE6 += 18_000 }  // about 2 km north: outside the geofence, flagged
            let fix = Geofence.Fix(coordinate: coordinate, accuracyMeters: 15, deviceTime: time, mockLocation: roll == 99)
            await phone.act { try await phone.store.checkIn(visit: visit.id, fix: fix) }
            if random.next() % 100 < 60 {
                do {
                    let order = try await phone.store.createOrder(customer: visit.customerID, visit: visit.id)
                    phone.made.withLock { $0 += order.changeSet?.changes.count ?? 0 }
                    for _ in 0..<(1 + random.next() % 4) {
                        let product = products[Int(random.next() % UInt64(products.count))]
                        await phone.act { try await phone.store.addOrderLine(order: order.record, product: product, quantity: Int64(1 + random.next() % 12)) }
                    }
                    await phone.act { try await phone.store.submitOrder(order.record) }
                } catch {
                    phone.failures.withLock { $0.append("\(error)") }
                }
            }
            let out = Geofence.Fix(coordinate: coordinate, accuracyMeters: 15, deviceTime: time + 20 * 60_000)
            await phone.act { try await phone.store.checkOut(visit: visit.id, fix: out) }
            await phone.act { try await phone.store.completeVisit(visit: visit.id) }
        }
    }

    func forEach(_ phones: [Phone], _ body: @escaping @Sendable (Phone) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for phone in phones { group.addTask { await body(phone) } }
        }
    }
}

/// A wall clock a fixed offset ahead of another.
struct OffsetClock: WallClock {
    let base: ManualWallClock
    let offset: UInt64
    func now() -> UInt64 { base.now() + offset }
}

/// Loses some requests before they arrive and some responses after the server committed.
final class FaultyTransport: SyncTransport {
    let inner: any SyncTransport
    let random: Mutex<SplitMix64>
    let lossRate: Double

    init(inner: any SyncTransport, seed: UInt64, lossRate: Double) {
        self.inner = inner
        self.random = Mutex(SplitMix64(seed: seed))
        self.lossRate = lossRate
    }

    struct Lost: Error {}

    func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
        let (before, after) = random.withLock { ($0.next() % 10_000, $0.next() % 10_000) }
        let threshold = UInt64(lossRate * 10_000)
        if before < threshold { throw Lost() }
        let response = try await inner.send(message, to: route, token: token)
        if after < threshold { throw Lost() }  // the server did the work; the phone never hears
        return response
    }
}

extension DemoRun {
    /// Every phone against the server: same state on every bucket it holds, nothing outside its
    /// scope, every change it made answered (applied, or quarantined with a reason), outbox empty.
    func reconcile(_ phones: [Phone], pool: PostgresPool, tenant: RecordID, clock: ManualWallClock) async throws -> Bool {
        let store = SyncStore(pool: pool, schema: FieldSalesSchema.schema)
        var divergent: [String] = [], lost = 0, outOfScope = 0, quarantined = 0, flagged = 0, pending = 0
        var server: [String: [RecordRef: RecordState]] = [:]
        for phone in phones {
            var visible: [RecordRef: RecordState] = [:]
            for bucket in try await store.buckets(user: phone.user, role: phone.role, tenant: tenant, at: Int64(clock.now())) {
                if server[bucket] == nil {
                    var rows: [RecordRef: RecordState] = [:]
                    var cursor = BucketCursor(bucket: bucket, sequence: 0)
                    while true {
                        let page = try await store.snapshot(bucket: bucket, cursor: cursor, limit: 5_000, tenant: tenant)
                        for snapshot in page.snapshots { rows[snapshot.ref] = snapshot.state }
                        guard page.hasMore else { break }
                        cursor = BucketCursor(bucket: bucket, sequence: page.cursor, resume: page.resume)
                    }
                    server[bucket] = rows
                }
                visible.merge(server[bucket]!) { first, _ in first }
            }
            let held = try await phone.store.heldRows()
            var differs = 0
            for ref in held {
                guard let expected = visible[ref] else { outOfScope += 1; continue }
                if try await phone.store.record(ref.table, ref.record) != expected { differs += 1 }
            }
            if differs > 0 || Set(held) != Set(visible.keys) { divergent.append("\(phone.name) #\(phone.index): \(differs) rows differ, holds \(held.count) of \(visible.count)") }
            let outcomes = try await phone.store.outcomes()
            quarantined += outcomes.filter { $0.result == "rejected" }.count
            flagged += outcomes.filter { $0.result == "applied_with_exception" }.count
            pending += try await phone.store.outboxCount()
            lost += max(0, phone.made.withLock { $0 } - outcomes.count)
        }
        let reports = phones.map { $0.report.withLock { $0 } }
        let durations = phones.flatMap { $0.syncs.withLock { $0 } }.sorted()
        let percentile = { (p: Double) -> String in
            guard !durations.isEmpty else { return "-" }
            let d = durations[min(durations.count - 1, Int(Double(durations.count) * p))]
            return "\(d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000) ms"
        }
        let visits = try await pool.query("SELECT status, count(*) FROM visits WHERE tenant_id = $1 AND planned_start < $2 GROUP BY status ORDER BY status",
                                          [tenant.uuidString, Int64(DemoRun.monday.adding(days: days).epochSeconds * 1000)])
        let orders = try await pool.query("SELECT status, count(*) FROM sales_orders WHERE tenant_id = $1 GROUP BY status ORDER BY status", [tenant.uuidString])
        let conflicts = try await pool.query("SELECT count(*) FROM conflicts WHERE tenant_id = $1", [tenant.uuidString])[0].read(0, as: Int64.self)
        let exceptions = try await pool.query("""
            SELECT rule, count(*) FROM decisions WHERE tenant_id = $1 AND review IS NOT NULL GROUP BY rule ORDER BY count(*) DESC, rule
            """, [tenant.uuidString])
        let failures = phones.flatMap { $0.failures.withLock { $0 } }
        func list(_ rows: PostgresRows) throws -> String {
            try rows.map { "\(try $0.read(0, as: String?.self) ?? "none") \(try $0.read(1, as: Int64.self))" }.joined(separator: ", ")
        }
        print("")
        print("Visits planned this week, by status on the server: \(try list(visits))")
        print("Orders by status: \(try list(orders))")
        print("Changes pushed: \(reports.reduce(0) { $0 + $1.pushed }); flagged by rules: \(flagged); quarantined: \(quarantined); conflicts recorded: \(conflicts)")
        print("Exceptions and refusals waiting for the office, by rule: \(exceptions.isEmpty ? "none" : try list(exceptions))")
        print("Requests: \(reports.reduce(0) { $0 + $1.requests }) (\(reports.reduce(0) { $0 + $1.retries }) retried after lost requests or responses); re-stamps after clock_ahead: \(reports.reduce(0) { $0 + $1.restamps })")
        print("Bytes on the wire: \(reports.reduce(0) { $0 + $1.bytes } / 1024) KiB; sync time p50 \(percentile(0.5)), p99 \(percentile(0.99)) over \(durations.count) syncs")
        if !failures.isEmpty {
            print("Actions or syncs that failed on phones: \(failures.count), for example: \(failures.prefix(3).joined(separator: " | "))")
        }
        let converged = divergent.isEmpty && lost == 0 && outOfScope == 0 && pending == 0
        print("")
        print("Verdict: \(converged ? "converged" : "NOT converged") — divergent phones \(divergent.count), lost writes \(lost), rows out of scope \(outOfScope), changes still in outboxes \(pending)")
        for line in divergent.prefix(5) { print("  \(line)") }
        return converged
    }
}
