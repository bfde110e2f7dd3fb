import Logging
import ServerStore
import ServiceLifecycle

/// Compacts the change feed every `interval` (``SyncStore/compact(retention:)``): entries every
/// active device has read, and entries older than the retention window, go; devices behind the
/// window re-prime. Stops at graceful shutdown.
struct FeedCompactor: Service {
    let store: SyncStore
    let retention: Duration
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await store.compact(retention: retention)
                    if removed > 0 { logger.info("compacted the change feed", metadata: ["entries": "\(removed)"]) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("compacting the change feed failed; retrying later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
