import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresDriver
import SyncEngine
import SyncTesting
import Testing

@testable import SyncServer

@Suite("GET /health")
struct HealthRoutesTests {
    @Test("reports the server and database versions and the schema revision")
    func healthy() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("health")))
        try await Migrator.migrate(pool)
        let app = FieldSyncServer.makeApplication(pool: pool, configuration: .init(port: 0), logger: .init(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(body?["status"] as? String == "ok")
                #expect(body?["server_version"] as? String == FieldSyncServer.version)
                #expect((body?["database_version"] as? String)?.hasPrefix("1") == true)
                #expect(body?["schema_revision"] as? Int == Migrator.latestRevision)
            }
        }
    }

    @Test("answers 503 with a clear status when the database cannot be reached")
    func databaseDown() async throws {
        let pool = try PostgresPool(.init(connectionString: "host=/nonexistent-fieldsync user=x dbname=y"))
        let app = FieldSyncServer.makeApplication(pool: pool, configuration: .init(port: 0), logger: .init(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(body?["status"] as? String == "database_unavailable")
            }
        }
    }
}
