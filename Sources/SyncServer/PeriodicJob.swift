import Logging
import OfficeStore
import SyncEngine
import ServiceLifecycle
import SyncCore

/// A server job run every `interval` until graceful shutdown; a failed run is logged and retried
/// at the next interval.
struct PeriodicJob: Service {
    /// What the job does, for the logs ("compacting the change feed").
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await work()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("\(name) failed; retrying later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Compacts the change feed (``SyncStore/compact(retention:)``): entries every active device
    /// has read, and entries older than the retention window, go; devices behind it re-prime.
    static func feedCompaction(store: SyncStore, retention: Duration, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "compacting the change feed", interval: interval, logger: logger) {
            let removed = try await store.compact(retention: retention)
            if removed > 0 { logger.info("compacted the change feed", metadata: ["entries": "\(removed)"]) }
        }
    }

    /// Retires from phones the rows time has carried out of their table's phone window (a visit
    /// completed 30 days ago; see `PhoneWindow`), for every tenant: a remove in each of their buckets.
    static func phoneWindow(store: SyncStore, wallClock: any WallClock, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "retiring rows past the phones' window", interval: interval, logger: logger) {
            let retired = try await store.retireAged(at: Int64(wallClock.now()))
            if retired > 0 { logger.info("retired rows from phones", metadata: ["rows": "\(retired)"]) }
        }
    }

    /// Marks `missed` the visits whose window passed `grace` ago without a check-in (DOMAIN.md §2),
    /// for every tenant; a late check-in still revives them.
    static func missedVisits(store: SyncStore, wallClock: any WallClock, grace: Duration, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "marking missed visits", interval: interval, logger: logger) {
            let now = Int64(wallClock.now())
            for tenant in try await store.tenantsWithMissedVisits(now: now, grace: grace) {
                let marked = try await store.markMissedVisits(now: now, grace: grace, tenant: tenant)
                if marked > 0 { logger.info("marked visits missed", metadata: ["tenant": "\(tenant)", "visits": "\(marked)"]) }
            }
        }
    }

    /// Dispatches the open, unassigned work orders of every tenant that dispatches automatically
    /// (``SyncStore/autoDispatch(tenant:now:only:by:)``); two servers never plan one tenant at once.
    static func autoDispatch(store: SyncStore, wallClock: any WallClock, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "dispatching work orders", interval: interval, logger: logger) {
            let now = Int64(wallClock.now())
            for tenant in try await store.tenantsDispatchingAutomatically() {
                let decisions = try await store.autoDispatch(tenant: tenant, now: now)
                let assigned = decisions.filter { $0.outcome == "assigned" }.count
                if !decisions.isEmpty {
                    logger.info("dispatched work orders", metadata: ["tenant": "\(tenant)", "assigned": "\(assigned)", "waiting": "\(decisions.count - assigned)"])
                }
            }
        }
    }

    /// Flags the work orders whose response or arrival time passed (``SyncStore/flagServiceLevelBreaches(now:tenant:limit:)``), for every tenant.
    static func serviceLevels(store: SyncStore, wallClock: any WallClock, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "flagging service-level breaches", interval: interval, logger: logger) {
            let now = Int64(wallClock.now())
            for tenant in try await store.tenantsWithServiceLevelBreaches(now: now) {
                let flagged = try await store.flagServiceLevelBreaches(now: now, tenant: tenant)
                if flagged > 0 { logger.info("flagged service-level breaches", metadata: ["tenant": "\(tenant)", "work_orders": "\(flagged)"]) }
            }
        }
    }

    /// Generates, re-plans and cancels the work orders of every tenant's maintenance plans
    /// (``SyncStore/generateMaintenanceWork(tenant:now:)``); safe on every instance at once.
    static func maintenance(store: SyncStore, wallClock: any WallClock, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "generating planned maintenance", interval: interval, logger: logger) {
            let now = Int64(wallClock.now())
            for tenant in try await store.tenantsWithMaintenancePlans() {
                let run = try await store.generateMaintenanceWork(tenant: tenant, now: now)
                if run.created + run.updated + run.cancelled > 0 {
                    logger.info("planned maintenance", metadata: ["tenant": "\(tenant)", "created": "\(run.created)", "updated": "\(run.updated)", "cancelled": "\(run.cancelled)"])
                }
            }
        }
    }

    /// Creates, re-plans and cancels the visits of every tenant's recurring visit plans
    /// (``SyncStore/generateScheduledVisits(tenant:now:)``); safe on every instance at once.
    static func visitSchedules(store: SyncStore, wallClock: any WallClock, interval: Duration, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "planning recurring visits", interval: interval, logger: logger) {
            let now = Int64(wallClock.now())
            for tenant in try await store.tenantsWithVisitSchedules() {
                let run = try await store.generateScheduledVisits(tenant: tenant, now: now)
                if run.created + run.updated + run.cancelled > 0 {
                    logger.info("planned recurring visits", metadata: ["tenant": "\(tenant)", "created": "\(run.created)", "updated": "\(run.updated)", "cancelled": "\(run.cancelled)"])
                }
            }
        }
    }
}
