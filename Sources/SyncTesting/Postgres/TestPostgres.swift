import Foundation
public import PostgresDriver

/// Real PostgreSQL for tests: one private cluster per test process, one fresh database per test.
///
/// The first caller starts a throwaway ``PostgresCluster`` under a temporary directory; it stops
/// and is deleted by its watchdog when the test process exits, however it exits. Set
/// `FIELDSYNC_TEST_DATABASE_URL` to a libpq `key=value` string for a server where the user may
/// `CREATE DATABASE` (without `dbname`) to use that
/// server instead (as a CI job that starts its own PostgreSQL might).
public enum TestPostgres {
    /// Creates an empty database and returns a connection string for it.
    /// - Parameter prefix: The start of the database's name, to tell tests apart in logs.
    public static func makeDatabase(_ prefix: String = "test") async throws -> String {
        try await Shared.instance.makeDatabase(prefix)
    }

    /// The shared cluster (started if needed), for tests of the cluster and of restarts.
    public static func cluster() async throws -> PostgresCluster? {
        try await Shared.instance.cluster()
    }

    private actor Shared {
        static let instance = Shared()
        private var started: Task<PostgresCluster, any Error>?
        private var counter = 0

        func cluster() async throws -> PostgresCluster? {
            if ProcessInfo.processInfo.environment["FIELDSYNC_TEST_DATABASE_URL"] != nil { return nil }
            if started == nil { started = Task { try await PostgresCluster.startTemporary() } }
            return try await started!.value
        }

        func makeDatabase(_ prefix: String) async throws -> String {
            counter += 1
            let name = "\(prefix)_\(counter)_\(UUID().uuidString.prefix(8).lowercased())".lowercased()
            if let url = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_DATABASE_URL"] {
                let admin = try await PostgresConnection.connect(url)
                try await admin.execute("CREATE DATABASE \"\(name)\"")
                return "\(url) dbname=\(name)"
            }
            let cluster = try await cluster()!
            try await cluster.createDatabase(name)
            return cluster.connectionString(database: name)
        }
    }
}
