import Foundation
@testable import PostgresDriver
import Testing


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

    @Test("further server settings reach the server, and one that is not a plain word is refused before anything starts")
    func settings() async throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-settings-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = PostgresCluster.Options.throwaway
        options.settings["autovacuum_naptime"] = "1"
        options.settings["work_mem"] = "8MB"
        let cluster = try await PostgresCluster.start(in: directory, options: options)
        let connection = try await PostgresConnection.connect(cluster.connectionString())
        #expect(try await connection.query("SHOW autovacuum_naptime")[0].read(0, as: String.self) == "1s")
        #expect(try await connection.query("SHOW work_mem")[0].read(0, as: String.self) == "8MB")
        await cluster.stop()
        let temporary = try await PostgresCluster.startTemporary(settings: ["autovacuum_naptime": "2"])
        let second = try await PostgresConnection.connect(temporary.connectionString())
        #expect(try await second.query("SHOW autovacuum_naptime")[0].read(0, as: String.self) == "2s")
        await temporary.stop()

        var hostile = PostgresCluster.Options.throwaway
        hostile.settings["work_mem"] = "8MB' -c 'fsync=off"
        let error = await #expect(throws: ClusterError.self) { try await PostgresCluster.start(in: directory, options: hostile) }
        #expect(error?.message.contains("not a plain word") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"), "refused before initdb")
    }

    @Test("a directory whose socket path would be too long is refused with a clear error")
    func socketPathTooLong() async throws {
        let long = URL(fileURLWithPath: "/tmp/" + String(repeating: "d", count: 120))
        let error = await #expect(throws: ClusterError.self) { try await PostgresCluster.start(in: long) }
        #expect(error?.message.contains("too long") == true)
    }

    /// Issue 15: `fieldsync-server dev` run as root from a private (0700) directory failed deep
    /// in initdb; now it stops at once and says what to do. (As another user the cluster simply
    /// starts there: PostgreSQL runs as that user.)
    @Test("as root, a cluster under a private directory is refused with what to do")
    func privateParent() async throws {
        let parent = URL(fileURLWithPath: "/tmp/fieldsync-private-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: parent) }
        let directory = parent.appendingPathComponent("pg")
        guard geteuid() == 0 else {
            let cluster = try await PostgresCluster.start(in: directory)
            await cluster.stop()
            return
        }
        let error = await #expect(throws: ClusterError.self) { try await PostgresCluster.start(in: directory) }
        #expect(error?.message.contains("--state-directory") == true)
        #expect(error?.message.contains(parent.path) == true)
    }
}
