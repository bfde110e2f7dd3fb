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
}
