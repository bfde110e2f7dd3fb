import FieldRules
public import Hummingbird
public import Logging
public import PostgresDriver
import SyncEngine
public import SyncCore
import FieldModel

/// The FieldSync HTTP server: routes over a PostgreSQL pool.
///
/// The process that runs it (`fieldsync-server`) owns the pool and, in development, the embedded
/// cluster; this type only wires routes to them, so tests build the same application around a
/// test database.
public enum FieldSyncServer {
    /// This server's version, reported by `GET /health`.
    public static let version = "0.1.0"

    /// Where the server listens.
    public struct Configuration: Sendable {
        /// The address to bind, `127.0.0.1` by default (`0.0.0.0` to serve other machines).
        public var host: String
        /// The TCP port; 0 lets the system choose one (the chosen port is passed to `onRunning`).
        public var port: Int

        /// Creates a configuration.
        public init(host: String = "127.0.0.1", port: Int = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// The router with every route, for tests that drive it without a socket.
    ///
    /// - Parameter tokens: Verifies bearer tokens; without it only `GET /health` is served.
    /// - Parameter requestsPerSecond: Each user's sustained request rate (bursts of ten times
    ///   as many are allowed); beyond it requests are answered 429.
    /// - Parameter liveWait: How long `POST /v1/live` holds a request with nothing to report.
    public static func makeRouter(pool: PostgresPool, tokens: TokenAuthority? = nil, wallClock: any WallClock = SystemWallClock(),
                                  requestsPerSecond: Double = 20, liveWait: Duration = .seconds(25),
                                  logger: Logger = Logger(label: "fieldsync.http")) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestLog(logger: logger))
        // One budget per user over every route; the unauthenticated routes share one of their own.
        let limiter = RateLimiter(limits: RateLimiter.Limits(requestsPerSecond: requestsPerSecond, burstMax: requestsPerSecond * 10), wallClock: wallClock)
        let anonymous = RateLimiter(limits: RateLimiter.Limits(requestsPerSecond: 500, burstMax: 1_000), wallClock: wallClock)
        router.add(middleware: AnonymousRateLimit(limiter: anonymous))
        router.add(middleware: ConsoleRoutes(logger: logger))
        HealthRoutes(pool: pool).register(on: router)
        if let tokens {
            let metrics = SyncMetrics()
            let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock))
            metrics.register(on: router, store: store)
            let auth = Authenticator(tokens: tokens, store: store, logger: logger)
            let live = LiveFeed(pool: pool, logger: logger)
            OfficeRoutes(store: store, auth: auth, wallClock: wallClock, limiter: limiter, live: live, liveWait: liveWait).register(on: router)
            BlobRoutes(store: store, auth: auth, limiter: limiter).register(on: router)
            SyncRoutes(store: store, auth: auth, wallClock: wallClock, limiter: limiter, metrics: metrics, live: live, liveWait: liveWait).register(on: router)
        }
        return router
    }

    /// The application: the router behind an HTTP/1.1 server, stopped gracefully (in-flight
    /// requests finish) on SIGINT or SIGTERM by `runService()`.
    ///
    /// - Parameter wallClock: The server's clock (a simulated one in `fieldsim demo`).
    /// - Parameter retention: How long the change feed keeps entries some device has not read;
    ///   a device away longer re-primes (compaction runs every ten minutes).
    /// - Parameter requestsPerSecond: Each user's budget (see ``makeRouter(pool:tokens:wallClock:requestsPerSecond:liveWait:logger:)``).
    /// - Parameter onRunning: Called with the bound port once the server accepts connections.
    public static func makeApplication(
        pool: PostgresPool,
        tokens: TokenAuthority? = nil,
        configuration: Configuration,
        wallClock: any WallClock = SystemWallClock(),
        retention: Duration = .seconds(30 * 86_400),
        requestsPerSecond: Double = 20,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(pool: pool, tokens: tokens, wallClock: wallClock, requestsPerSecond: requestsPerSecond, logger: logger),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "fieldsync/\(version)"
            ),
            services: [
                PeriodicJob.feedCompaction(store: SyncStore(pool: pool, domain: FieldSalesDomain()), retention: retention, interval: .seconds(600), logger: logger),
                PeriodicJob.missedVisits(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                         wallClock: wallClock, grace: .seconds(3_600), interval: .seconds(60), logger: logger),
                PeriodicJob.phoneWindow(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                        wallClock: wallClock, interval: .seconds(3_600), logger: logger),
                PeriodicJob.autoDispatch(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                         wallClock: wallClock, interval: .seconds(60), logger: logger),
                PeriodicJob.serviceLevels(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                          wallClock: wallClock, interval: .seconds(60), logger: logger),
                PeriodicJob.maintenance(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                        wallClock: wallClock, interval: .seconds(3_600), logger: logger),
                PeriodicJob.visitSchedules(store: SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: wallClock)),
                                           wallClock: wallClock, interval: .seconds(3_600), logger: logger),
            ],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }
}
