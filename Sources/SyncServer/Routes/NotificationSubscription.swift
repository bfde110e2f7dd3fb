import Logging
import PostgresDriver

/// One channel of PostgreSQL notifications handed to a handler for as long as the subscription
/// lives: a ``PostgresListener`` on a connection of its own and the task that reads it. The live
/// channel (``LiveFeed``) and the authenticator (``Authenticator``) each keep one.
final class NotificationSubscription: Sendable {
    private let listener: PostgresListener
    private let consumer: Task<Void, Never>

    /// Listens on `channel` of the database `pool` uses, handing every payload (and
    /// ``PostgresListener/missedPayload`` after a reconnect) to `handle`, until the subscription
    /// goes or the pool closes; `nil` when no listener can be made.
    init?(pool: PostgresPool, channel: String, logger: Logger, _ handle: @escaping @Sendable (String) -> Void) {
        guard let listener = try? pool.listen(channel: channel, logger: logger) else { return nil }
        self.listener = listener
        consumer = Task {
            for await payload in listener.notifications { handle(payload) }
        }
    }

    deinit {
        listener.stop()
        consumer.cancel()
    }
}
