import SyncCore
import Synchronization

/// A token bucket per user: each request takes a token; tokens come back at a steady rate up to a
/// burst. A request without a token is answered 429 `rate_limited` with when to retry.
final class RateLimiter: Sendable {
    /// The limits.
    struct Limits: Sendable {
        /// Tokens regained per second.
        var requestsPerSecond: Double = 20
        /// The most tokens a user can hold (a device catching up after days offline pulls in a burst).
        var burstMax: Double = 200
    }

    private let limits: Limits
    private let wallClock: any WallClock
    private let buckets = Mutex<[RecordID: (tokens: Double, at: UInt64)]>([:])

    init(limits: Limits, wallClock: any WallClock) {
        self.limits = limits
        self.wallClock = wallClock
    }

    /// Takes a token for `user`; returns `nil` when allowed, else the milliseconds to wait.
    func take(for user: RecordID) -> UInt64? {
        let now = wallClock.now()
        return buckets.withLock { buckets in
            var bucket = buckets[user] ?? (limits.burstMax, now)
            let elapsed = Double(now > bucket.at ? now - bucket.at : 0) / 1000
            bucket.tokens = min(limits.burstMax, bucket.tokens + elapsed * limits.requestsPerSecond)
            bucket.at = now
            defer { buckets[user] = bucket }
            guard bucket.tokens >= 1 else {
                return UInt64(((1 - bucket.tokens) / limits.requestsPerSecond * 1000).rounded(.up))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
