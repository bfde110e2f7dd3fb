import FieldModel
import PostgresDriver
import SyncCore
import SyncTesting
import Testing

@testable import SyncEngine

@Suite("PostgreSQL notifications")
struct PostgresListenerTests {
    @Test("a change-feed entry committed on one connection is heard on the listener's, named by tenant and bucket")
    func feedNotifies() async throws {
        let url = try await TestPostgres.makeDatabase("listen")
        let pool = try PostgresPool(.init(connectionString: url))
        try await Migrator.migrate(pool)
        let listener = try PostgresListener(connectionString: url, channel: "fieldsync_feed")
        defer { listener.stop() }
        let tenant = RecordID(high: 1, low: 1)
        // LISTEN takes effect once the listener's connection is up: insert until a payload arrives
        // (or give up after about ten seconds, and fail).
        let writer = Task {
            for _ in 0..<400 where !Task.isCancelled {
                try await pool.query("INSERT INTO change_log (tenant_id, bucket, change_set) VALUES ($1, 'territory:x', '\\x00')", [tenant.uuidString])
                try await Task.sleep(for: .milliseconds(25))
            }
            listener.stop()
        }
        var payload: String?
        for await heard in listener.notifications where heard != PostgresListener.missedPayload {
            payload = heard
            break
        }
        writer.cancel()
        #expect(payload == "\(tenant.uuidString) territory:x")
    }
}
