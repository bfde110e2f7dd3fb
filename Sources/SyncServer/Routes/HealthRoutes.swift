import Hummingbird
import Logging
import ServerStore

/// `GET /health`: whether the server is up and can reach its database.
struct HealthRoutes: Sendable {
    let pool: PostgresPool

    /// The body of `GET /health`.
    struct Health: ResponseEncodable {
        /// `ok`, or `database_unavailable`.
        var status: String
        var serverVersion: String
        /// PostgreSQL's `server_version`, when reachable.
        var databaseVersion: String?
        /// The schema revision of the database, when reachable.
        var schemaRevision: Int?

        enum CodingKeys: String, CodingKey {
            case status
            case serverVersion = "server_version"
            case databaseVersion = "database_version"
            case schemaRevision = "schema_revision"
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/health") { _, context in
            do {
                let version = try await pool.query("SHOW server_version")[0].read(0, as: String.self)
                let revision = try await Migrator.currentRevision(pool)
                return EditedResponse(
                    status: .ok,
                    response: Health(status: "ok", serverVersion: FieldSyncServer.version, databaseVersion: version, schemaRevision: revision)
                )
            } catch {
                context.logger.warning("health check could not reach the database", metadata: ["error": "\(error)"])
                return EditedResponse(
                    status: .serviceUnavailable,
                    response: Health(status: "database_unavailable", serverVersion: FieldSyncServer.version)
                )
            }
        }
    }
}
