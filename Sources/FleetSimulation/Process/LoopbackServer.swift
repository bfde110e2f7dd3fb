public import AsyncHTTPClient
import Logging
public import PostgresDriver
import SyncEngine
import ServiceLifecycle
import SyncClientHTTP
public import SyncCore
import SyncServer
import Synchronization

/// The real server on a loopback port, on a private PostgreSQL and a simulated clock, for the
/// demo and `swarm --http`; everything stops and is removed when the body returns.
public struct LoopbackServer: Sendable {
    /// The server's base URL (`http://127.0.0.1:PORT`).
    public let url: String
    /// The database, as a libpq connection string (migrated, empty).
    public let database: String
    /// The secret the server signs tokens with.
    public let secret: String
    /// The server's wall clock (it starts at 0; the caller sets it).
    public let clock: ManualWallClock
    /// A pool on the database, for the caller's own queries and seeding.
    public let pool: PostgresPool
    /// An HTTP client for the phones.
    public let http: HTTPClient

    /// Starts everything, runs `body`, and stops and removes everything, whatever `body` does.
    ///
    /// - Parameter seed: Seeds the token secret.
    /// - Parameter connections: The server's PostgreSQL connections.
    public static func run<T: Sendable>(seed: UInt64, connections: Int = 12, _ body: (LoopbackServer) async throws -> T) async throws -> T {
        var quiet = Logger(label: "fieldsim.server")
        quiet.logLevel = .critical
        // Its tables are young: they grow from empty in seconds. Autovacuum looks at them every
        // second, so that their statistics (and the plans made from them) are what a server's
        // are once autovacuum has seen its tables, within a minute of serving. Without it, a push's
        // read of the new contact notes kept the plan made while the table was empty, a scan of
        // the whole table (the bench's round_trip_100 measured 6 ms of it in every push).
        let cluster = try await PostgresCluster.startTemporary(settings: ["autovacuum_naptime": "1"], logger: quiet)
        do {
            let pool = try PostgresPool(.init(connectionString: cluster.connectionString(), connectionsMax: connections), logger: quiet)
            try await Migrator.migrate(pool, logger: quiet)
            var random = SplitMix64(seed: seed)
            let secret = (0..<4).map { _ in String(random.next() | 1 << 63, radix: 16) }.joined()
            let clock = ManualWallClock(0)
            let port = Mutex<Int?>(nil)
            let app = FieldSyncServer.makeApplication(pool: pool, tokens: try await TokenAuthority(secret: secret), configuration: .init(port: 0),
                                                      wallClock: clock, logger: quiet) { bound in port.withLock { $0 = bound } }
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: quiet))
            let server = Task { try await group.run() }
            var bound: Int?
            for _ in 0..<500 where bound == nil {
                try await Task.sleep(for: .milliseconds(10))
                bound = port.withLock { $0 }
            }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let result: Result<T, any Error>
            if let bound {
                do {
                    result = .success(try await body(LoopbackServer(url: "http://127.0.0.1:\(bound)", database: cluster.connectionString(), secret: secret,
                                                                    clock: clock, pool: pool, http: http)))
                } catch {
                    result = .failure(error)
                }
            } else {
                result = .failure(SwarmError("the server did not start"))
            }
            try? await http.shutdown()
            await group.triggerGracefulShutdown()
            _ = try? await server.value
            await pool.close()
            await cluster.stop()
            return try result.get()
        } catch {
            await cluster.stop()
            throw error
        }
    }
}

extension Swarm.Configuration {
    /// This fleet against `server` over HTTP (the restarts the swarm cannot cause there left out).
    public func over(_ server: LoopbackServer) -> Swarm.Configuration {
        var configuration = self
        configuration.faults.subtract([.serverRestart, .postgresRestart])
        let (url, http) = (server.url, server.http)
        configuration.remote = Swarm.Remote(transport: { HTTPTransport(baseURL: url, client: http) }, database: server.database, tokenSecret: server.secret,
                                            clock: server.clock)
        return configuration
    }
}
