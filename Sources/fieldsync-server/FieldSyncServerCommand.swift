import ArgumentParser
import FieldModel
import Foundation
import Hummingbird
import Logging
import ServerStore
import SyncServer
import SyncTesting

/// `fieldsync-server`: what the operator runs.
@main
struct FieldSyncServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The FieldSync sync server.",
        subcommands: [Dev.self, Serve.self, Migrate.self, SchemaSQL.self]
    )
}

/// Options every serving command shares.
struct ListenOptions: ParsableArguments {
    @Option(help: "The address to listen on (0.0.0.0 to serve other machines).")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(help: "The log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func logger(_ label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

extension FieldSyncServerCommand {
    struct Dev: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a private PostgreSQL, load the demo data and serve (no setup needed).",
            discussion: """
                The cluster lives under --state-directory (.fieldsync/ in the working directory) and is \
                reused on the next start, demo data and all. It stops with the server: on Ctrl-C, on \
                SIGTERM, and even when the server is killed.
                """
        )

        @OptionGroup var listen: ListenOptions

        @Option(help: "Where the development cluster keeps its files.")
        var stateDirectory = ".fieldsync"

        @Option(help: "The demo data set to load into an empty database.")
        var fixtures = SyncTesting.Fixtures.demo.path

        func run() async throws {
            let logger = try listen.logger("fieldsync.server")
            let directory = URL(fileURLWithPath: stateDirectory).appendingPathComponent("postgres").standardizedFileURL
            let cluster = try await PostgresCluster.start(in: directory, logger: logger)
            do {
                let pool = try PostgresPool(.init(connectionString: cluster.connectionString()), logger: logger)
                try await prepare(pool, loadDemo: fixtures, logger: logger)
                try await serve(pool, listen: listen, logger: logger, banner: "PostgreSQL: \(cluster.connectionString())")
                await pool.close()
            } catch {
                await cluster.stop()
                throw error
            }
            await cluster.stop()
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve against an existing PostgreSQL database.")

        @OptionGroup var listen: ListenOptions

        @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
        var databaseURL: String?

        @Option(help: "Load this demo data set into an empty database before serving.")
        var loadDemo: String?

        func run() async throws {
            let logger = try listen.logger("fieldsync.server")
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(databaseURL)), logger: logger)
            try await prepare(pool, loadDemo: loadDemo, logger: logger)
            try await serve(pool, listen: listen, logger: logger, banner: nil)
            await pool.close()
        }
    }

    struct SchemaSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema-sql",
            abstract: "Print the SQL the current field model derives (the starting point of a new migration)."
        )

        func run() {
            print(ServerSchema(FieldSalesSchema.schema).creationSQL, terminator: "")
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring a database's schema to this build's revision, then exit.")

        @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
        var databaseURL: String?

        func run() async throws {
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(databaseURL), connectionsMax: 1))
            let applied = try await Migrator.migrate(pool)
            let revision = try await Migrator.currentRevision(pool)
            print(applied.isEmpty ? "schema already at revision \(revision)" : "applied revisions \(applied.map(String.init).joined(separator: ", ")); schema at revision \(revision)")
            await pool.close()
        }
    }
}

func resolveDatabaseURL(_ option: String?) throws -> String {
    guard let url = option ?? ProcessInfo.processInfo.environment["FIELDSYNC_DATABASE_URL"], !url.isEmpty else {
        throw ValidationError("give --database-url or set FIELDSYNC_DATABASE_URL (or run `fieldsync-server dev` for a private database)")
    }
    return url
}

/// Migrates, then loads the demo data set into an empty database when asked.
func prepare(_ pool: PostgresPool, loadDemo fixtures: String?, logger: Logger) async throws {
    try await Migrator.migrate(pool, logger: logger)
    guard let fixtures else { return }
    let directory = URL(fileURLWithPath: fixtures)
    let data = FileManager.default.fileExists(atPath: directory.appendingPathComponent("tables.txt").path)
        ? try DemoDataSet(contentsOf: directory)
        : DemoGenerator().generate()  // the same bytes as the committed set
    if try await data.load(into: pool) {
        logger.info("loaded the demo data set", metadata: ["rows": "\(data.tables.reduce(0) { $0 + $1.rows.count })"])
    }
}

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
func serve(_ pool: PostgresPool, listen: ListenOptions, logger: Logger, banner: String?) async throws {
    let app = FieldSyncServer.makeApplication(
        pool: pool, configuration: .init(host: listen.host, port: listen.port), logger: logger
    ) { port in
        print("FieldSync \(FieldSyncServer.version) is serving at http://\(listen.host):\(port)")
        if let banner { print(banner) }
        print("Press Ctrl-C to stop.")
        fflush(nil)  // all streams: a script or test may be waiting for these lines
    }
    try await app.runService()
}
