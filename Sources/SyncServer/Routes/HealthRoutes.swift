import Hummingbird
import Logging
import PostgresDriver
import SyncEngine

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

    /// The body of `GET /ready`.
    struct Readiness: ResponseEncodable {
        /// `ready`, or `not_ready`.
        var status: String
        /// Why not, when not ready.
        var reason: String?
        var schemaRevision: Int?

        enum CodingKeys: String, CodingKey {
            case status, reason
            case schemaRevision = "schema_revision"
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        // Ready: the database answers and its schema is the revision this build expects, so a load
        // balancer sends no traffic to an instance that would fail every sync request.
        router.get("/ready") { _, _ in
            do {
                let revision = try await Migrator.currentRevision(pool)
                guard revision == Migrator.latestRevision else {
                    return EditedResponse(status: .serviceUnavailable, response: Readiness(
                        status: "not_ready", reason: "the database is at schema revision \(revision); this build needs \(Migrator.latestRevision): run fieldsync-server migrate",
                        schemaRevision: revision))
                }
                return EditedResponse(status: .ok, response: Readiness(status: "ready", schemaRevision: revision))
            } catch {
                return EditedResponse(status: .serviceUnavailable, response: Readiness(status: "not_ready", reason: "the database cannot be reached"))
            }
        }
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
