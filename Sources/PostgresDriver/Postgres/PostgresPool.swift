public import Logging
import Synchronization

/// A small pool of ``PostgresConnection``s to one database.
///
/// It opens connections on demand up to ``Configuration/connectionsMax``, hands an idle one to
/// each caller (callers beyond the limit wait in arrival order), and replaces connections that
/// broke: before reuse it checks, without a round trip, that a connection still works, so a
/// backend terminated by the server or an administrator costs the next caller nothing.
public actor PostgresPool {
    /// How the pool connects and how large it grows.
    public struct Configuration: Sendable {
        /// A `postgresql://` URL or libpq `key=value` string.
        public var connectionString: String
        /// The most connections open at once.
        public var connectionsMax: Int

        /// Creates a configuration.
        public init(connectionString: String, connectionsMax: Int = 8) {
            precondition(connectionsMax > 0, "a pool needs at least one connection")
            self.connectionString = connectionString
            self.connectionsMax = connectionsMax
        }
    }

    /// The configuration the pool was created with.
    public nonisolated let configuration: Configuration
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    /// Connections open or being opened, idle or leased.
    private var opened = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiterID: UInt64 = 0
    private var isClosed = false
    /// The listeners made by ``listen(channel:logger:)``, stopped by ``close()``.
    private nonisolated let listeners = Listeners()

    /// Creates a pool; it connects lazily, on first use.
    /// - Throws: ``PostgresError/Code/badConnectionString`` when the string does not parse.
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "fieldsync.postgres")) throws(PostgresError) {
        try PostgresConnection.validate(configuration.connectionString)
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` with a connection of its own, and returns the connection to the pool after.
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs one statement on some connection of the pool.
    @discardableResult
    public func query(_ sql: String, _ values: [any PostgresBindable] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, values) }
    }

    /// Runs `body` in a transaction on one connection of the pool.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @Sendable (isolated PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { try await $0.transaction(body) }
    }

    /// How many connections are open (idle or in use).
    public var openConnections: Int { opened }

    /// How busy the pool is: connections open, of them idle, callers waiting for one, and the most it opens.
    public struct Usage: Sendable, Hashable {
        /// Connections open (idle or in use), idle, callers waiting, and the pool's limit.
        public var open: Int, idle: Int, waiting: Int, max: Int
    }

    /// How busy the pool is now (for the operator's metrics).
    public var usage: Usage { Usage(open: opened, idle: idle.count, waiting: waiters.count, max: configuration.connectionsMax) }

    /// Closes idle connections, refuses new callers and fails every waiting caller with
    /// ``PostgresError/Code/poolClosed``. Connections in use close when they are returned.
    public func close() {
        isClosed = true
        listeners.stopAll()
        opened -= idle.count
        idle.removeAll()
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(.poolClosed, message: "the pool was closed"))
        }
        waiters.removeAll()
    }

    /// A listener on `channel` of the pool's database, on a connection of its own, that stops when
    /// the pool closes (``close()``): a server that shuts down closes its pool before its database
    /// goes, and its listeners go with it instead of reconnecting to a stopped database.
    ///
    /// - Throws: ``PostgresError/Code/poolClosed`` once the pool is closed; what
    ///   ``PostgresListener/init(connectionString:channel:logger:)`` throws.
    public nonisolated func listen(channel: String, logger: Logger = Logger(label: "fieldsync.postgres.listen")) throws(PostgresError) -> PostgresListener {
        let listener = try PostgresListener(connectionString: configuration.connectionString, channel: channel, logger: logger)
        guard listeners.keep(listener.stopFlag) else {
            listener.stop()
            throw PostgresError(.poolClosed, message: "the pool is closed")
        }
        return listener
    }

    private func acquire() async throws -> PostgresConnection {
        while true {
            guard !isClosed else { throw PostgresError(.poolClosed, message: "the pool is closed") }
            while let connection = idle.popLast() {
                if await connection.isReusable { return connection }
                opened -= 1
                logger.info("replacing a broken database connection", metadata: ["backend": "\(connection.backendPID)"])
            }
            if opened < configuration.connectionsMax {
                opened += 1
                do {
                    return try await PostgresConnection.connect(configuration.connectionString)
                } catch {
                    opened -= 1
                    wakeOne()
                    throw error
                }
            }
            try await waitForTurn()
        }
    }

    private func release(_ connection: PostgresConnection) async {
        if !isClosed, await connection.isReusable {
            idle.append(connection)
        } else {
            opened -= 1
        }
        wakeOne()
    }

    private func wakeOne() {
        guard !waiters.isEmpty else { return }
        waiters.removeFirst().continuation.resume()
    }

    private func waitForTurn() async throws {
        let id = nextWaiterID
        nextWaiterID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}

/// The stop flags of a pool's listeners; none are kept once the pool closed.
private final class Listeners: Sendable {
    private let flags = Mutex<[StopFlag]?>([])

    /// Keeps `flag`; `false` once the pool closed.
    func keep(_ flag: StopFlag) -> Bool {
        flags.withLock { flags in
            guard flags != nil else { return false }
            // Flags of listeners stopped meanwhile are dropped as new ones come.
            flags!.removeAll(where: \.isRaised)
            flags!.append(flag)
            return true
        }
    }

    /// Stops every listener kept, and every later one.
    func stopAll() {
        for flag in flags.withLock({ flags in defer { flags = nil }; return flags ?? [] }) { flag.raise() }
    }
}
