import Foundation
import Logging
import PostgresDriver
import SyncEngine
import SyncCore
import Synchronization

/// Wakes live-channel requests when their buckets get new feed entries, on this server instance
/// or any other sharing the database: every `change_log` insert notifies `fieldsync_feed` with
/// `<tenant> <bucket>` (schema revision 4), and one ``PostgresListener`` per instance hears it.
///
/// A wake-up only says "look again": the request re-checks the feed, whose entries may still be
/// held back by the visibility watermark for a moment.
final class LiveFeed: Sendable {
    private struct Waiter {
        var keys: Set<String>
        var continuation: CheckedContinuation<Void, Never>
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let nextID = Mutex<UInt64>(0)
    private let listener: PostgresListener?
    private let consumer: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Listens through a connection of its own to the database `pool` uses.
    init(pool: PostgresPool, logger: Logger) {
        let listener = try? PostgresListener(connectionString: pool.configuration.connectionString, channel: "fieldsync_feed", logger: logger)
        self.listener = listener
        guard let listener else {
            logger.warning("the live channel has no notification listener; it falls back to polling")
            return
        }
        let task = Task { [weak self] in
            for await payload in listener.notifications {
                guard let self else { return }
                self.wake(payload == PostgresListener.missedPayload ? nil : payload)
            }
        }
        consumer.withLock { $0 = task }
    }

    deinit {
        listener?.stop()
        consumer.withLock { $0?.cancel() }
    }

    /// Returns when a notification names one of `buckets` of `tenant`, after `timeout`, or when
    /// the task is cancelled, whichever comes first.
    func wait(tenant: String, buckets: [Bucket], timeout: Duration) async {
        let keys = Set(buckets.map { "\(tenant) \($0.name)" })
        let id = nextID.withLock { next in
            next += 1
            return next
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let cancelled = Task.isCancelled
                        self.waiters.withLock { waiters in
                            if cancelled { continuation.resume() } else { waiters[id] = Waiter(keys: keys, continuation: continuation) }
                        }
                    }
                } onCancel: {
                    self.waiters.withLock { $0.removeValue(forKey: id) }?.continuation.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Wakes the waiters for `key` (`<tenant> <bucket>`), or all of them for `nil`.
    private func wake(_ key: String?) {
        let woken = waiters.withLock { waiters in
            let ids = waiters.filter { key == nil || $0.value.keys.contains(key!) }.map(\.key)
            return ids.compactMap { waiters.removeValue(forKey: $0) }
        }
        for waiter in woken { waiter.continuation.resume() }
    }
}
