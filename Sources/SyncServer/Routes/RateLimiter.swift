import SyncCore
import Synchronization

/// A token bucket per user, shared by every route: a request costs tokens by what it makes the
/// server do, tokens come back at a steady rate up to a burst, and a request that finds the
/// bucket empty is answered 429 `rate_limited` with when to retry.
///
/// A request is admitted while the user holds at least one token; its cost is then taken in
/// full, and what it turned out to cost (rows served, bytes sent) is charged after it with
/// ``charge(_:for:)``, so the bucket may go below zero and the next requests wait it out. The
/// costs are in ``Cost`` and in `SyncProtocol/errors.md`.
final class RateLimiter: Sendable {
    /// The limits.
    struct Limits: Sendable {
        /// Tokens regained per second.
        var requestsPerSecond: Double = 20
        /// The most tokens a user can hold (a device catching up after days offline pulls in a burst).
        var burstMax: Double = 200
    }

    /// What requests cost, in tokens.
    enum Cost {
        /// Register, push, live, an office write: one.
        static let request: Double = 1
        /// An office read that scans a day or a queue (the board, reviews, the team).
        static let officeRead: Double = 5
        /// Rows a pull served, per token (a 5,000-row snapshot page costs 2 more). Priming a
        /// large working set (100,000 rows) costs about 90 tokens with its requests, well inside
        /// the default burst, so a new phone's first sync is never held back.
        static let rowsPerToken: Double = 2_500
        /// Records a fetch asks for, per token: each is a few reads (the record, its buckets, its
        /// children by level), so a fetch of 100 unknown records costs 10 tokens, not 1.
        static let fetchedRecordsPerToken: Double = 10
        /// Blob bytes moved, per token.
        static let bytesPerToken: Double = 1_048_576
    }

    /// The bucket of requests that carry no user (`/health`, `/ready`, `/metrics`).
    static let anonymous = RecordID(high: 0, low: 0)

    private let limits: Limits
    private let wallClock: any WallClock
    private let buckets = Mutex<[RecordID: (tokens: Double, at: UInt64)]>([:])

    init(limits: Limits, wallClock: any WallClock) {
        self.limits = limits
        self.wallClock = wallClock
    }

    /// Admits a request of `user` costing `cost`; returns `nil` when admitted, else the
    /// milliseconds to wait.
    func take(for user: RecordID, cost: Double = Cost.request) -> UInt64? {
        update(user) { tokens in
            guard tokens >= 1 else { return UInt64(((1 - tokens) / limits.requestsPerSecond * 1000).rounded(.up)) }
            tokens -= cost
            return nil
        }
    }

    /// Charges `user` what an admitted request turned out to cost beyond its admission.
    func charge(_ cost: Double, for user: RecordID) {
        guard cost > 0 else { return }
        _ = update(user) { tokens in
            // Debt is bounded, so no single request locks a user out for long.
            tokens = max(-limits.burstMax, tokens - cost)
            return nil
        }
    }

    private func update(_ user: RecordID, _ body: (inout Double) -> UInt64?) -> UInt64? {
        let now = wallClock.now()
        return buckets.withLock { buckets in
            var bucket = buckets[user] ?? (limits.burstMax, now)
            let elapsed = Double(now > bucket.at ? now - bucket.at : 0) / 1000
            bucket.tokens = min(limits.burstMax, bucket.tokens + elapsed * limits.requestsPerSecond)
            bucket.at = now
            defer { buckets[user] = bucket }
            return body(&bucket.tokens)
        }
    }
}
