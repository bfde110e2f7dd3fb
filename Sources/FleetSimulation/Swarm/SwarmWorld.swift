import DemoData
import FieldRules
import Foundation
import DeviceStore
import FieldModel
import Logging
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncClient
import SyncCore
import SyncServer
import SyncWire
import Synchronization

/// A device's wall clock: the simulation's, shifted by a skew that a fault sets and the end clears.
final class SkewClock: WallClock {
    let base: ManualWallClock
    private let skew = Mutex<Int64>(0)
    init(base: ManualWallClock) { self.base = base }
    func set(_ milliseconds: Int64) { skew.withLock { $0 = milliseconds } }
    func now() -> UInt64 { UInt64(Int64(base.now()) + skew.withLock { $0 }) }
}

/// One phone of the swarm: a user's device store and sync client, re-created after a crash.
final class SwarmDevice {
    let index: Int
    let user: RecordID
    let role: Role
    let path: String
    let clock: SkewClock
    var store: DeviceStore
    var client: SyncClient
    var transport: FaultyTransport
    var token: String
    var made = 0
    var receipts: [String] = []
    var workOrders: [RecordID] = []
    /// The orders the phone made since the morning (a rejected one is reopened the next morning).
    var orders: [RecordID] = []
    /// The day (days since the epoch) the rep last counted a shelf.
    var countedDay: Int64 = -1

    init(index: Int, user: RecordID, role: Role, path: String, clock: SkewClock, store: DeviceStore, client: SyncClient, transport: FaultyTransport, token: String) {
        (self.index, self.user, self.role, self.path, self.clock, self.store, self.client, self.transport, self.token) =
            (index, user, role, path, clock, store, client, transport, token)
    }
}

/// The simulation behind ``Swarm``: the server (in-process or remote), the office, the phones, the days.
final class SwarmWorld {
    let configuration: Swarm.Configuration
    let root: URL
    let pool: PostgresPool
    var cluster: PostgresCluster?
    var store: SyncStore
    let inProcess: InProcessTransport?
    let tokens: TokenAuthority
    let clock: ManualWallClock
    let tenant: RecordID
    let logger: Logger
    var devices: [SwarmDevice] = []
    var random: SplitMix64
    var report = Swarm.Report()
    let territories: [RecordID]
    var customers: [RecordID: [RecordID]] = [:]  // territory → customers
    var territoryOf: [RecordID: RecordID] = [:]  // rep → territory
    let products: [RecordID]
    let dispatcher: SyncStore.OfficeUser
    let manager: SyncStore.OfficeUser
    var restarts: UInt64 = 0
    /// The ERP's place in the export feed, the orders it took (with the night it took them), and every event it read, by order.
    var erpCursor = SyncStore.ExportCursor.start
    var erpOrders: [(order: RecordID, night: Int)] = []
    var exportedEvents: [RecordID: [String]] = [:]
    var durations: [Duration] = []
    /// Orders the phones reopened after a rejection; weekly plans the managers returned once.
    var reopenedOrders: Set<RecordID> = []
    var returnedPlans: Set<RecordID> = []

    static let monday = CivilDate(year: 2026, month: 11, day: 30)
    static let hour: Int64 = 3_600_000

    init(configuration: Swarm.Configuration, root: URL, pool: PostgresPool, cluster: PostgresCluster?, store: SyncStore, inProcess: InProcessTransport?,
         tokens: TokenAuthority, clock: ManualWallClock, tenant: RecordID, logger: Logger, territories: [RecordID], products: [RecordID],
         dispatcher: SyncStore.OfficeUser, manager: SyncStore.OfficeUser) {
        self.configuration = configuration
        self.root = root
        self.pool = pool
        self.cluster = cluster
        self.store = store
        self.inProcess = inProcess
        self.tokens = tokens
        self.clock = clock
        self.tenant = tenant
        self.logger = logger
        self.random = SplitMix64(seed: configuration.seed)
        self.territories = territories
        self.products = products
        self.dispatcher = dispatcher
        self.manager = manager
    }

    func stopCluster() async { await cluster?.stop() }

    func has(_ fault: SwarmFault) -> Bool { configuration.faults.contains(fault) }
    func roll(_ perMille: UInt64) -> Bool { random.next() % 1_000 < perMille }
    func count(_ fault: SwarmFault) { report.injected[fault.name, default: 0] += 1 }

    // MARK: - Setting up

    static func make(_ configuration: Swarm.Configuration, root: URL, pool: PostgresPool, cluster: PostgresCluster?,
                     tokenSecret: String?, logger: Logger) async throws -> SwarmWorld {
        var data = DemoGenerator().generate()
        if !configuration.fullCatalog {
            // A catalogue of 300 products keeps priming hundreds of phones quick; the sync paths are the same.
            let kept = Set(data["products"]!.rows.prefix(300).map { $0[0]! })
            for index in data.tables.indices where data.tables[index].name == "products" || data.tables[index].name == "price_list_entries" {
                let column = data.tables[index].name == "products" ? 0 : 1
                data.tables[index].rows = data.tables[index].rows.filter { kept.contains($0[column] ?? "") }
            }
        }
        // The dispatcher plans every visit of the swarm's days itself.
        data.tables.removeAll { $0.name == "visits" || $0.name == "visit_plans" }
        _ = try await data.load(into: pool)
        let tenant = data.tenant!
        let users = data["users"]!
        var random = SplitMix64(seed: configuration.seed ^ 0x5A5A_5A5A)
        let clock = configuration.remote?.clock ?? ManualWallClock(0)
        clock.set(UInt64(monday.epochSeconds * 1000) + 12 * UInt64(hour))
        let secret = tokenSecret ?? (0..<4).map { _ in String(random.next() | 1 << 63, radix: 16) }.joined()
        let tokens = try await TokenAuthority(secret: secret)
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock, seed: configuration.seed))
        let inProcess = configuration.remote == nil
            ? InProcessTransport(SyncService(store: store, tokens: tokens, wallClock: clock, logger: logger)) : nil
        let territories = data["territories"]!.rows.map { RecordID($0[0]!)! }
        func first(_ role: String) -> RecordID { RecordID(users.rows.first { $0[2] == role }![0]!)! }
        let world = SwarmWorld(configuration: configuration, root: root, pool: pool, cluster: cluster, store: store, inProcess: inProcess, tokens: tokens,
                               clock: clock, tenant: tenant, logger: logger, territories: territories,
                               products: data["products"]!.rows.prefix(300).map { RecordID($0[0]!)! },
                               dispatcher: .init(user: first("dispatcher"), role: .dispatcher, tenant: tenant),
                               manager: .init(user: first("manager"), role: .manager, tenant: tenant))
        let customerTable = data["customers"]!
        let territoryColumn = customerTable.columns.firstIndex(of: "territory_id")!
        for row in customerTable.rows { world.customers[RecordID(row[territoryColumn]!)!, default: []].append(RecordID(row[0]!)!) }
        try await world.seedUsers(data, random: &random)
        try await world.seedTechnicianResources()
        return world
    }

    /// The fleet's users: the demo's reps and technicians, and as many more as the fleet needs
    /// (reps share the three territories), seeded as the server's own records.
    func seedUsers(_ data: DemoDataSet, random: inout SplitMix64) async throws {
        let users = data["users"]!
        let owners = data["territory_owners"]!
        let technicianCount = max(1, configuration.devices / 10)
        let repCount = configuration.devices - technicianCount
        var reps = users.rows.filter { $0[2] == "rep" }.map { RecordID($0[0]!)! }
        var technicians = users.rows.filter { $0[2] == "technician" }.map { RecordID($0[0]!)! }
        for row in owners.rows { territoryOf[RecordID(row[1]!)!] = RecordID(row[0]!)! }
        var extra = DemoDataSet(tables: [DemoDataSet.Table(name: "users", columns: users.columns), DemoDataSet.Table(name: "territory_owners", columns: owners.columns)])
        let template = users.rows.first { $0[2] == "rep" }!
        func add(_ role: String, _ n: Int) -> RecordID {
            let id = RecordID.make(milliseconds: UInt64(Self.monday.epochSeconds * 1000) - 86_400_000, using: &random)
            var row = template
            row[0] = id.uuidString
            row[2] = role
            row[3] = "Swarm \(role) \(n)"
            row[4] = "swarm.\(role).\(n).\(configuration.seed)@demo.fieldsync.example"
            extra.tables[0].append(row)
            return id
        }
        while reps.count < repCount {
            let rep = add("rep", reps.count)
            let territory = territories[reps.count % territories.count]
            extra.tables[1].append([territory.uuidString, rep.uuidString, "2026-01-01T05:00:00Z", nil])
            territoryOf[rep] = territory
            reps.append(rep)
        }
        while technicians.count < technicianCount { technicians.append(add("technician", technicians.count)) }
        let records = try extra.snapshots(for: FieldSalesSchema.schema, clock: HLC(milliseconds: 1_796_000_000_000))
        let existing = try await pool.query("SELECT count(*) FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
                                            [tenant.uuidString, "{" + records.filter { $0.ref.table == "users" }.map(\.ref.record.uuidString).joined(separator: ",") + "}"])[0].read(0, as: Int.self)
        if existing == 0, !records.isEmpty { try await store.seed(records.map { ($0.ref.table, $0.ref.record, $0.state) }, tenant: tenant) }
        let seats = reps.prefix(repCount).map { ($0, Role.rep) } + technicians.prefix(technicianCount).map { ($0, Role.technician) }
        for (index, seat) in seats.enumerated() { devices.append(try await makeDevice(index, user: seat.0, role: seat.1)) }
    }

    /// Every technician's working week (07:00 to 19:00 local, every day, six jobs), their skills
    /// and every territory; the work types the office uses (a repair with a checklist); the tenant
    /// dispatching automatically — so the office leaves half of each day's work orders to the
    /// server; and maintenance plans on three assets, every other day, and on the first by its
    /// meter, for the maintenance job.
    func seedTechnicianResources() async throws {
        var edits: [SyncStore.OfficeEdit] = []
        for (code, skill) in [("maintenance", "maintenance"), ("repair", "repair")] {
            let type = store.clock.newID()
            edits.append(.init("work_order_types", type, [("code", .text(code)), ("name", .text(code.capitalized)), ("duration_minutes", .integer(60)),
                                                           ("signature_required", .bool(true)), ("active", .bool(true))]))
            edits.append(.init("work_order_type_skills", store.clock.newID(), [("work_order_type_id", .id(type)), ("skill", .text(skill)), ("min_level", .integer(1))]))
            // A repair's checklist: a yes/no and a reading with its range.
            if code == "repair" {
                for (position, (label, kind)) in [("Leak fixed", "yes_no"), ("Pressure (bar)", "number")].enumerated() {
                    edits.append(.init("work_order_type_steps", store.clock.newID(), [
                        ("work_order_type_id", .id(type)), ("position", .integer(Int64(position))), ("label", .text(label)), ("answer_kind", .text(kind)),
                        ("required", .bool(true)), ("min_value", kind == "number" ? .integer(1) : .null), ("max_value", kind == "number" ? .integer(4) : .null),
                    ]))
                }
            }
        }
        for device in devices where device.role == .technician {
            edits.append(.init("technician_profiles", store.clock.newID(), [
                ("user_id", .id(device.user)), ("start_latitude_e6", .integer(40_750_000)), ("start_longitude_e6", .integer(-73_990_000)),
                ("workday_start_minute", .integer(420)), ("workday_end_minute", .integer(1_140)), ("working_days", .integer(127)), ("daily_capacity", .integer(6)),
            ]))
            for skill in ["maintenance", "repair"] {
                edits.append(.init("technician_skills", store.clock.newID(), [("user_id", .id(device.user)), ("skill", .text(skill)), ("level", .integer(2))]))
            }
            for territory in territories {
                edits.append(.init("service_territories", store.clock.newID(), [("user_id", .id(device.user)), ("territory_id", .id(territory))]))
            }
        }
        for chunk in stride(from: 0, to: edits.count, by: 100).map({ Array(edits[$0..<min($0 + 100, edits.count)]) }) {
            try await store.edit(chunk, by: dispatcher, tenant: tenant)
        }
        try await store.edit([.init("tenants", tenant, [("auto_dispatch", .bool(true))])], by: nil, tenant: tenant)
        // Maintenance plans on the first assets, due every other day from the first day, generated a day ahead.
        let assets = try await pool.query("SELECT id::text FROM assets WHERE tenant_id = $1 AND NOT _deleted ORDER BY id LIMIT 3", [tenant.uuidString])
            .compactMap { RecordID(try $0.read(0, as: String.self)) }
        let firstDay = Int64(Self.monday.epochSeconds * 1000) + 15 * Self.hour
        for (index, asset) in assets.enumerated() {
            _ = try await store.saveMaintenancePlan(.init(asset: asset, workType: "maintenance", intervalDays: 2, startsAt: firstDay + Int64(index) * Self.hour,
                                                          leadDays: 1, windowDays: 1), by: dispatcher)
        }
        // And the first asset by its meter too: an inspection every 36 running hours, from the technicians' readings.
        if let asset = assets.first {
            _ = try await store.saveMaintenancePlan(.init(asset: asset, workType: "maintenance", meter: "hours", intervalMeter: 36, startsAt: firstDay, leadDays: 1, windowDays: 1),
                                                    by: dispatcher)
        }
    }

    func makeDevice(_ index: Int, user: RecordID, role: Role) async throws -> SwarmDevice {
        let path = root.appendingPathComponent("device-\(index).sqlite").path
        let deviceClock = SkewClock(base: clock)
        let store = try await DeviceStore.open(path: path, options: .init(wallClock: deviceClock, seed: configuration.seed &+ UInt64(index) &* 7_919))
        let token = try await tokens.issue(user: user, tenant: tenant, role: role)
        let transport = FaultyTransport(inner: inner(), faults: configuration.faults, seed: configuration.seed ^ UInt64(index) &* 0x9E37_79B9)
        let device = SwarmDevice(index: index, user: user, role: role, path: path, clock: deviceClock, store: store,
                                 client: client(store, transport, user: user, role: role, token: token, index: index), transport: transport, token: token)
        return device
    }

    /// Adds what a device's transport injected to the report (before the transport is replaced).
    func collectStrikes(_ device: SwarmDevice) {
        for (name, count) in device.transport.struck.withLock({ $0 }) { report.injected[name, default: 0] += count }
        device.transport.struck.withLock { $0 = [:] }
    }

    func inner() -> any SyncTransport { inProcess ?? configuration.remote!.transport() }

    func client(_ store: DeviceStore, _ transport: FaultyTransport, user: RecordID, role: Role, token: String, index: Int) -> SyncClient {
        var options = SyncClient.Options()
        options.seed = configuration.seed &+ UInt64(index)
        options.attempts = 8
        options.backoff = .milliseconds(10)
        options.backoffMax = .milliseconds(200)
        // Simulated time: back-off does not wait, but a crashed app stops at its next pause.
        options.sleep = { _ in try Task.checkCancellation() }
        return SyncClient(store: store, transport: transport, credentials: .init(token: token, user: user, role: role), options: options)
    }

    /// The app was killed mid-sync: start it again from its database file.
    func reopen(_ device: SwarmDevice) async throws {
        collectStrikes(device)
        device.store = try await DeviceStore.open(path: device.path, options: .init(wallClock: device.clock, seed: configuration.seed &+ UInt64(device.index) &* 7_919 &+ 1))
        device.transport = FaultyTransport(inner: inner(), faults: configuration.faults, seed: random.next())
        device.client = client(device.store, device.transport, user: device.user, role: device.role, token: device.token, index: device.index)
    }

    // MARK: - Syncing

    /// One sync as the app does it: a crash restarts the app, an expired token signs in again.
    func sync(_ device: SwarmDevice) async {
        for _ in 0..<3 {
            do {
                let began = ContinuousClock.now
                let result = try await device.client.sync()
                durations.append(ContinuousClock.now - began)
                report.requests += result.requests
                report.retries += result.retries
                report.bytes += result.bytes
                return
            } catch is CancellationError {
                count(.crash)
                do { try await reopen(device) } catch { report.details.append("device \(device.index) could not restart: \(error)") }
            } catch let error as SyncClientError where error.code == .tokenExpired || error.code == .unauthorized {
                device.token = (try? await tokens.issue(user: device.user, tenant: tenant, role: device.role)) ?? device.token
                await device.client.setToken(device.token)
            } catch {
                return  // offline after every retry: the outbox waits for the next sync
            }
        }
    }
}
