import Foundation
import SyncTesting
import Testing

@testable import ServerStore

@Suite("PostgresCluster")
struct PostgresClusterTests {
    @Test("a cluster keeps its data across a stop and a start in the same directory, and leaves nothing running")
    func restartKeepsData() async throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-cluster-test-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = PostgresCluster.Options()
        options.durable = false

        let first = try await PostgresCluster.start(in: directory, options: options)
        let url = first.connectionString()
        try await PostgresConnection.connect(url).execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
        await first.stop()
        let refused = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(url) }
        #expect(refused?.code == .connectionRefused)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data/postmaster.pid"))

        let second = try await PostgresCluster.start(in: directory, options: options)
        let value = try await PostgresConnection.connect(url).query("SELECT v FROM kept")[0].read(0, as: String.self)
        #expect(value == "still here")
        await second.stop()
        await second.stop()  // harmless
    }

    @Test("a throwaway cluster's directory is gone after stop")
    func throwawayIsRemoved() async throws {
        let cluster = try await PostgresCluster.startTemporary()
        let directory = cluster.directory
        #expect(try await PostgresConnection.connect(cluster.connectionString()).query("SELECT 1").count == 1)
        await cluster.stop()
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test("a directory whose socket path would be too long is refused with a clear error")
    func socketPathTooLong() async throws {
        let long = URL(fileURLWithPath: "/tmp/" + String(repeating: "d", count: 120))
        let error = await #expect(throws: ClusterError.self) { try await PostgresCluster.start(in: long) }
        #expect(error?.message.contains("too long") == true)
    }
}
