import FleetSimulation
import AsyncHTTPClient
import FieldModel
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresDriver
import SyncEngine
import SyncClientHTTP
import SyncCore
import SyncTesting
import Testing

@testable import SyncServer

/// The swarm over real HTTP: the Hummingbird server on a loopback port, a real PostgreSQL, and
/// phones speaking the protocol through AsyncHTTPClient.
@Suite("Swarm over HTTP")
struct HTTPSwarmTests {
    @Test("a fleet over real HTTP against a real PostgreSQL converges under the network and office faults")
    func overHTTP() async throws {
        let database = try await TestPostgres.makeDatabase("swarm-http")
        let pool = try PostgresPool(.init(connectionString: database))
        try await Migrator.migrate(pool)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let clock = ManualWallClock(0)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock, requestsPerSecond: 100_000),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        do {
            try await app.test(.live) { client in
                let url = "http://127.0.0.1:\(client.port!)"
                var faults = Set(SwarmFault.allCases)
                faults.subtract([.serverRestart, .postgresRestart])  // the in-process seeds inject those
                let configuration = Swarm.Configuration(devices: 20, days: 2, seed: 99, faults: faults, visitsPerRep: 2,
                                                        remote: Swarm.Remote(transport: { HTTPTransport(baseURL: url, client: http) }, database: database,
                                                                             tokenSecret: SyncRoutesTests.secret, clock: clock))
                let report = try await Swarm(configuration).run()
                #expect(report.converged, "\(report.details)")
                #expect(report.changes > 100)
                #expect((report.injected["dropped-request"] ?? 0) + (report.injected["dropped-response"] ?? 0) > 0)
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
