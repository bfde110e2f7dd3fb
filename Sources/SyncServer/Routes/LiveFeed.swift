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
    /// How many notifications each tenant had on this instance (`""`: those that named no tenant,
    /// which count for every tenant): the office's live cursor.
    private let generations = Mutex<[String: UInt64]>([:])
    /// This instance's name in an office live cursor: a cursor from another instance is stale here.
    let instance = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    private let nextID = Mutex<UInt64>(0)
    private let subscription = Mutex<NotificationSubscription?>(nil)

    /// Listens through a connection of its own to the database `pool` uses.
    init(pool: PostgresPool, logger: Logger) {
        let subscription = NotificationSubscription(pool: pool, channel: "fieldsync_feed", logger: logger) { [weak self] payload in
            self?.wake(payload == PostgresListener.missedPayload ? nil : payload)
        }
        if subscription == nil { logger.warning("the live channel has no notification listener; it falls back to polling") }
        self.subscription.withLock { $0 = subscription }
    }

    /// Returns when a notification names one of `buckets` of `tenant`, after `timeout`, or when
    /// the task is cancelled, whichever comes first.
    func wait(tenant: String, buckets: [Bucket], timeout: Duration) async {
        await wait(keys: Set(buckets.map { "\(tenant) \($0.name)" }), timeout: timeout)
    }

    /// Returns when a notification names one of `keys`, after `timeout`, or when the task is
    /// cancelled; at once when `unless` holds once the waiter is registered.
    private func wait(keys: Set<String>, timeout: Duration, unless: @escaping @Sendable () -> Bool = { false }) async {
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
                        // News that came between the caller's check and the registration is not waited for.
                        if unless() { self.waiters.withLock { $0.removeValue(forKey: id) }?.continuation.resume() }
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

    /// The office's live cursor for `tenant` on this instance: it moves with every feed entry of
    /// the tenant.
    func cursor(tenant: String) -> String {
        let count = generations.withLock { ($0[tenant] ?? 0) + ($0[""] ?? 0) }
        return "\(instance):\(count)"
    }

    /// Returns once `tenant`'s feed has news after `cursor` (at once when it already has, or when
    /// the cursor is another instance's), after `timeout`, or when the task is cancelled.
    func wait(tenant: String, after cursor: String, timeout: Duration) async {
        guard self.cursor(tenant: tenant) == cursor else { return }
        await wait(keys: ["\(tenant) *"], timeout: timeout, unless: { self.cursor(tenant: tenant) != cursor })
    }

    /// Wakes the waiters for `key` (`<tenant> <bucket>`) and the tenant's office waiters, or all of
    /// them for `nil`.
    private func wake(_ key: String?) {
        let tenant = key.map { String($0.prefix { $0 != " " }) } ?? ""
        generations.withLock { $0[tenant, default: 0] += 1 }
        let woken = waiters.withLock { waiters in
            let ids = waiters.filter { key == nil || $0.value.keys.contains(key!) || $0.value.keys.contains("\(tenant) *") }.map(\.key)
            return ids.compactMap { waiters.removeValue(forKey: $0) }
        }
        for waiter in woken { waiter.continuation.resume() }
    }
}
