import Foundation
import DeviceStore
import FieldModel
import Logging
import PostgresDriver
import SyncEngine
public import SyncClient
public import SyncCore
import SyncServer
public import SyncWire
import Synchronization

/// A fleet of phones through simulated working days under injected faults, ending with a
/// reconciliation of every phone against the server (issue 7; `fieldsim swarm`).
///
/// Without ``Configuration/remote`` it is deterministic: the server runs in-process on a private
/// PostgreSQL with a simulated clock and seeded ids, the phones act one after another in a fixed
/// order, and every random choice comes from the seed — so one seed gives one final state, whose
/// ``Report/digest`` a test compares across runs.
public struct Swarm: Sendable {
    /// What to run.
    public struct Configuration: Sendable {
        /// Phones (one user each: reps, and a technician in ten).
        public var devices: Int
        /// Working days, from Monday 30 November 2026.
        public var days: Int
        /// The seed of every choice.
        public var seed: UInt64
        /// The faults to inject.
        public var faults: Set<SwarmFault>
        /// Visits the dispatcher plans for each rep each day.
        public var visitsPerRep: Int
        /// Keep the demo's whole catalogue (2,000 products) instead of 300, for realistic priming.
        public var fullCatalog = false
        /// A real server instead of the in-process one.
        public var remote: Remote?
        /// Where to report progress (a line per day), if anywhere.
        public var progress: (@Sendable (String) -> Void)?

        /// Creates a configuration.
        public init(devices: Int = 200, days: Int = 3, seed: UInt64 = 1, faults: Set<SwarmFault> = Set(SwarmFault.allCases), visitsPerRep: Int = 4,
                    remote: Remote? = nil, progress: (@Sendable (String) -> Void)? = nil) {
            self.devices = devices
            self.visitsPerRep = visitsPerRep
            self.days = days
            self.seed = seed
            self.faults = faults
            self.remote = remote
            self.progress = progress
        }
    }

    /// A real server: how to reach it, the database it serves (the swarm seeds its users there,
    /// acts as the office and reconciles against it), the secret it signs tokens with, and the
    /// simulated clock it runs on (the swarm moves it through the days; a server on the real
    /// clock would see every phone days ahead).
    public struct Remote: Sendable {
        /// A transport to the server (HTTP).
        public var transport: @Sendable () -> any SyncTransport
        /// The server's database, as a libpq connection string (migrated).
        public var database: String
        /// The server's token secret.
        public var tokenSecret: String
        /// The server's wall clock.
        public var clock: ManualWallClock

        /// Creates a remote.
        public init(transport: @escaping @Sendable () -> any SyncTransport, database: String, tokenSecret: String, clock: ManualWallClock) {
            self.transport = transport
            self.database = database
            self.tokenSecret = tokenSecret
            self.clock = clock
        }
    }

    /// The verdict and what happened.
    public struct Report: Sendable {
        /// Every check passed.
        public var converged: Bool {
            divergentDevices == 0 && lostWrites == 0 && duplicateApplications == 0 && outOfScopeRows == 0 && missingBlobs == 0 && pendingAttachments == 0
                && heldOutsideWindow == 0 && windowErrors == 0 && dispatchErrors == 0 && erpErrors == 0 && planningErrors == 0
        }
        /// Phones whose rows differ from the server's on their buckets.
        public var divergentDevices = 0
        /// Changes made on a phone and never answered, or answered and missing on the server.
        public var lostWrites = 0
        /// Facts recorded twice on the server (a check-in, a payment, a part used).
        public var duplicateApplications = 0
        /// Rows a phone holds outside its buckets.
        public var outOfScopeRows = 0
        /// Rows a phone holds that the server retired from phones (outside their window).
        public var heldOutsideWindow = 0
        /// Rows the server serves to phones though their window lets go of them, or retired though
        /// their window keeps them, judged afresh from their states at the end.
        public var windowErrors = 0
        /// Rows retired from phones at the end (outside their window: history).
        public var retiredRows = 0
        /// Photos and signatures the phones attached (records on the server).
        public var attachments = 0
        /// Attachments whose bytes are not on the server, or do not hash to their name.
        public var missingBlobs = 0
        /// Attachments still `pending` on the server, or waiting on a phone, after the final sync.
        public var pendingAttachments = 0
        /// Changes refused into quarantine, with a reason.
        public var quarantined = 0
        /// Changes applied with an exception.
        public var flagged = 0
        /// Conflicts the server recorded.
        public var conflicts = 0
        /// Work orders the server's automatic dispatch assigned, and decisions that left one waiting.
        public var dispatched = 0, dispatchWaiting = 0
        /// Work orders the maintenance job generated from the assets' plans.
        public var maintenanceWorkOrders = 0
        /// Meter readings the server holds at the end, and the work orders plans by meter generated from them.
        public var meterReadings = 0, meterWorkOrders = 0
        /// Automatic assignments still standing at the end that break dispatch's promises: a
        /// technician without the skill or the territory, or two of a technician's slots overlapping.
        public var dispatchErrors = 0
        /// Records the ERP's files created or rewrote; export entries it read; invoices it answered.
        public var imported = 0, erpExported = 0, erpInvoiced = 0
        /// Orders priced from the dearer list that took over on the second day.
        public var pricedFromNewList = 0
        /// Orders that reached `confirmed` and were not exported exactly once, and priced orders
        /// whose list is not the one in force on their date.
        public var erpErrors = 0
        /// Weekly plans approved, and the visits approved plans made; visits recurring plans made.
        public var weekPlansApproved = 0, weekPlanVisits = 0, scheduledVisits = 0
        /// Shelf counts on the server; typed tasks answered.
        public var shelfCounts = 0, typedAnswers = 0
        /// Orders reopened on the phones after a rejection, and those of them confirmed at the end.
        public var ordersReopened = 0, reopenedConfirmed = 0
        /// Approved weekly plans without one visit per proposal, recurring visits made twice, and
        /// reps with completed visits but no shelf count.
        public var planningErrors = 0
        /// Changes the phones made.
        public var changes = 0
        /// Requests the phones sent, and how many were retries.
        public var requests = 0, retries = 0
        /// Bytes on the wire, both ways.
        public var bytes = 0
        /// Syncs, and their p50 and p99 wall-clock durations in milliseconds.
        public var syncs = 0, syncP50Milliseconds = 0, syncP99Milliseconds = 0
        /// Faults injected, by kind.
        public var injected: [String: Int] = [:]
        /// A digest of the server's final state (FNV-1a over every record, versions included).
        public var digest = ""
        /// The seed.
        public var seed: UInt64 = 0
        /// What failed, for a human (the first few).
        public var details: [String] = []

        /// The report as JSON.
        public var json: JSONValue {
            func number(_ value: Int) -> JSONValue { .number(String(value)) }
            return .object([
                .init("converged", .bool(converged)), .init("divergent_devices", number(divergentDevices)), .init("lost_writes", number(lostWrites)),
                .init("duplicate_applications", number(duplicateApplications)), .init("out_of_scope_rows", number(outOfScopeRows)),
                .init("held_outside_window", number(heldOutsideWindow)), .init("window_errors", number(windowErrors)), .init("retired_rows", number(retiredRows)),
                .init("attachments", number(attachments)), .init("missing_blobs", number(missingBlobs)), .init("pending_attachments", number(pendingAttachments)),
                .init("quarantined", number(quarantined)), .init("flagged", number(flagged)), .init("conflicts", number(conflicts)),
                .init("dispatched", number(dispatched)), .init("dispatch_waiting", number(dispatchWaiting)), .init("dispatch_errors", number(dispatchErrors)),
                .init("maintenance_work_orders", number(maintenanceWorkOrders)), .init("meter_readings", number(meterReadings)),
                .init("meter_work_orders", number(meterWorkOrders)), .init("imported", number(imported)), .init("erp_exported", number(erpExported)),
                .init("erp_invoiced", number(erpInvoiced)), .init("priced_from_new_list", number(pricedFromNewList)), .init("erp_errors", number(erpErrors)),
                .init("week_plans_approved", number(weekPlansApproved)), .init("week_plan_visits", number(weekPlanVisits)),
                .init("scheduled_visits", number(scheduledVisits)), .init("shelf_counts", number(shelfCounts)), .init("typed_answers", number(typedAnswers)),
                .init("orders_reopened", number(ordersReopened)), .init("reopened_confirmed", number(reopenedConfirmed)),
                .init("planning_errors", number(planningErrors)),
                .init("changes", number(changes)), .init("requests", number(requests)), .init("retries", number(retries)), .init("bytes", number(bytes)),
                .init("syncs", number(syncs)), .init("sync_p50_ms", number(syncP50Milliseconds)), .init("sync_p99_ms", number(syncP99Milliseconds)),
                .init("faults", .object(injected.sorted { $0.key < $1.key }.map { .init($0.key, number($0.value)) })),
                .init("digest", .string(digest)), .init("seed", .number(String(seed))), .init("details", .array(details.map(JSONValue.string))),
            ])
        }
    }

    /// The configuration.
    public let configuration: Configuration

    /// Creates a swarm.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs it: starts what it needs, simulates the days, reconciles, and removes everything.
    public func run() async throws -> Report {
        guard configuration.devices >= 1, configuration.days >= 1, (1...8).contains(configuration.visitsPerRep) else {
            throw SwarmError("a swarm needs at least one device and one day, and 1 to 8 visits per rep and day")
        }
        var quiet = Logger(label: "fieldsync.swarm")
        quiet.logLevel = .critical
        let root = URL(fileURLWithPath: "/tmp/fieldsync-swarm-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if let remote = configuration.remote {
            let pool = try PostgresPool(.init(connectionString: remote.database, connectionsMax: 8), logger: quiet)
            do {
                let report = try await Self.simulate(configuration, root: root, pool: pool, cluster: nil, tokenSecret: remote.tokenSecret, logger: quiet)
                await pool.close()
                await ScratchDirectory.remove(root)
                return report
            } catch {
                await pool.close()
                await ScratchDirectory.remove(root)
                throw error
            }
        }
        let cluster = try await PostgresCluster.start(in: root.appendingPathComponent("pg"), options: Self.clusterOptions, logger: quiet)
        do {
            let pool = try PostgresPool(.init(connectionString: cluster.connectionString(), connectionsMax: 8), logger: quiet)
            try await Migrator.migrate(pool, logger: quiet)
            let report = try await Self.simulate(configuration, root: root, pool: pool, cluster: cluster, tokenSecret: nil, logger: quiet)
            await pool.close()
            await ScratchDirectory.remove(root)
            return report
        } catch {
            await cluster.stop()
            await ScratchDirectory.remove(root)
            throw error
        }
    }

    /// The swarm's own cluster: not durable (a crash of the machine ends the run anyway), and
    /// its autovacuum looks every second instead of every minute. The swarm lives days in
    /// seconds; a served database over those days would have had its statistics refreshed many
    /// times, and without that the planner takes tables that filled a second ago for empty
    /// (one seed ran 13 % longer, a check-in's exact-spot lookup read 11,000 buffers a call).
    static var clusterOptions: PostgresCluster.Options {
        var options = PostgresCluster.Options()
        options.durable = false
        options.settings["autovacuum_naptime"] = "1"
        return options
    }

    /// Builds the world, simulates, and stops the cluster the world last started (a PostgreSQL
    /// restart replaces it); the phones' stores are released before their files are removed.
    static func simulate(_ configuration: Configuration, root: URL, pool: PostgresPool, cluster: PostgresCluster?, tokenSecret: String?,
                         logger: Logger) async throws -> Report {
        let world = try await SwarmWorld.make(configuration, root: root, pool: pool, cluster: cluster, tokenSecret: tokenSecret, logger: logger)
        defer { world.devices.removeAll() }
        do {
            let report = try await world.simulate()
            await world.stopCluster()
            return report
        } catch {
            await world.stopCluster()
            throw error
        }
    }
}
