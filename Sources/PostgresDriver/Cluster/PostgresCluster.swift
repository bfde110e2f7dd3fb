public import Foundation
public import Logging

/// A private PostgreSQL cluster in a directory, reachable only on a Unix socket there.
///
/// Tests and `fieldsync-server dev` use one so that nobody needs a database set up: the cluster
/// is created with `initdb` on first use, started with no TCP listener (so two runs never
/// collide on a port), and stopped when its owner stops it — or when the owning process dies.
///
/// Why that last part holds: beside the server runs a small watchdog shell whose standard input
/// is a pipe from this process. When this process closes the pipe (``stop()``) or exits for any
/// reason, Ctrl-C and crashes included, the watchdog reads end-of-file and stops the server with
/// `pg_ctl stop -m fast`. A cluster therefore never outlives the process that started it.
///
/// `initdb` and `postgres` refuse to run as root; when this process is root (as CI is), the
/// cluster's files are given to the `postgres` user (or `nobody`) and the binaries run as that
/// user through `runuser`.
public actor PostgresCluster {
    /// How to create and run the cluster.
    public struct Options: Sendable {
        /// Keep data safe across a machine crash (`fsync`). Throwaway test clusters turn it off
        /// for speed; the development cluster keeps it.
        public var durable = true
        /// Delete the directory when the cluster stops.
        public var removeOnStop = false
        /// How long to wait for the server to accept connections (whole seconds).
        public var startTimeout: Duration = .seconds(60)
        /// Further server settings, by name (`autovacuum_naptime: "1"`), passed to `postgres -c`
        /// on every start; they override the launcher's own. Names and values are plain words
        /// (letters, digits, `_ . , -`): a start with anything else throws ``ClusterError``.
        public var settings: [String: String] = [:]

        /// The defaults: durable, kept on stop.
        public init() {}

        /// Settings for a test: not durable, removed on stop.
        public static var throwaway: Options {
            var options = Options()
            options.durable = false
            options.removeOnStop = true
            return options
        }
    }

    /// The database superuser every FieldSync cluster is created with.
    public static let superuser = "fieldsync"
    /// The database created with the cluster for FieldSync's own use.
    public static let defaultDatabase = "fieldsync"

    /// The cluster's directory: `data/` holds the database files; the socket and `server.log`
    /// sit beside it.
    public nonisolated let directory: URL
    private let options: Options
    private let logger: Logger
    /// The watchdog and the write end of its standard input, while the server runs.
    private var watchdog: (process: ChildProcess, pipe: Int32)?

    private init(directory: URL, options: Options, logger: Logger) {
        self.directory = directory
        self.options = options
        self.logger = logger
    }

    /// A libpq connection string for `database` on this cluster.
    public nonisolated func connectionString(database: String = PostgresCluster.defaultDatabase) -> String {
        "host=\(directory.path) user=\(Self.superuser) dbname=\(database)"
    }

    /// Creates (if needed) and starts a cluster in `directory`.
    ///
    /// An existing cluster in the directory is reused, and one left running by an earlier
    /// process is stopped and started again under this process's watchdog.
    /// - Throws: ``ClusterError`` when PostgreSQL is not installed, is older than 15, or does not start.
    public static func start(in directory: URL, options: Options = Options(), logger: Logger = Logger(label: "fieldsync.cluster")) async throws -> PostgresCluster {
        let cluster = PostgresCluster(directory: directory.standardizedFileURL, options: options, logger: logger)
        try await cluster.launch()
        return cluster
    }

    /// Creates and starts a throwaway cluster in a new temporary directory, removed on stop.
    ///
    /// - Parameter settings: Further server settings (``Options/settings``).
    public static func startTemporary(settings: [String: String] = [:], logger: Logger = Logger(label: "fieldsync.cluster")) async throws -> PostgresCluster {
        // A short base keeps the socket path under the 107 bytes Unix sockets allow.
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.utf8.count < 40 ? $0 : nil } ?? "/tmp"
        let directory = URL(fileURLWithPath: base).appendingPathComponent("fieldsync-pg-\(UUID().uuidString.prefix(8).lowercased())")
        var options = Options.throwaway
        options.settings = settings
        return try await start(in: directory, options: options, logger: logger)
    }

    /// Stops the server (a fast shutdown: open transactions roll back) and waits until it has
    /// exited; removes the directory when the options say so. Stopping twice is harmless.
    ///
    /// A process that exits without calling this gets the same result from the watchdog.
    public func stop() async {
        guard let watchdog else { return }
        self.watchdog = nil
        close(watchdog.pipe)
        _ = await watchdog.process.wait()
        logger.debug("stopped PostgreSQL", metadata: ["directory": "\(directory.path)"])
        // The watchdog removed a throwaway directory after the server exited; this catches the
        // files it could not remove (none, unless someone else wrote there).
        if options.removeOnStop { try? FileManager.default.removeItem(at: directory) }
    }

    /// Creates a database on the cluster (for test isolation: one database per test).
    public func createDatabase(_ name: String) async throws {
        let connection = try await PostgresConnection.connect(connectionString(database: "postgres"))
        try await connection.execute("CREATE DATABASE \(quoteIdentifier(name))")
    }

    /// Dumps `database` into `file` with `pg_dump` in its custom format: the nightly backup
    /// OPERATIONS.md describes ("Backups and restores").
    public func dump(database: String, to file: URL) async throws {
        try await Self.dump(connectionString(database: database), to: file)
    }

    /// Creates `database` and restores `file` (a ``dump(database:to:)``) into it with `pg_restore`.
    public func restore(_ file: URL, into database: String) async throws {
        try await createDatabase(database)
        try await Self.restore(file, into: connectionString(database: database))
    }

    /// Dumps the database `connectionString` names into `file` (`pg_dump --format=custom`), with
    /// the `pg_dump` beside PostgreSQL's server binaries.
    public static func dump(_ connectionString: String, to file: URL) async throws {
        let binaries = try await PostgresBinaries.find()
        _ = try await ChildProcess.capture(try binaries.tool("pg_dump"), ["--format=custom", "--file", file.path, "--dbname", connectionString])
    }

    /// Restores `file` (a ``dump(_:to:)``) into the existing, empty database `connectionString` names.
    public static func restore(_ file: URL, into connectionString: String) async throws {
        let binaries = try await PostgresBinaries.find()
        _ = try await ChildProcess.capture(try binaries.tool("pg_restore"), ["--exit-on-error", "--no-owner", "--dbname", connectionString, file.path])
    }

    // MARK: - Starting

    private nonisolated var dataDirectory: URL { directory.appendingPathComponent("data") }
    private nonisolated var logFile: URL { directory.appendingPathComponent("server.log") }

    private func launch() async throws {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,-")
        for (name, value) in options.settings where name.isEmpty || value.isEmpty || !(name + value).allSatisfy(plain.contains) {
            throw ClusterError("the server setting \(name) = \(value) is not a plain word: use letters, digits and _ . , -")
        }
        let socket = directory.path + "/.s.PGSQL.5432"
        guard socket.utf8.count < 108 else {
            throw ClusterError("the cluster directory's path is too long for a Unix socket (\(socket.utf8.count) bytes, at most 107): choose a shorter one")
        }
        let binaries = try await PostgresBinaries.find()
        let user = try RunAsUser.current()
        if let blocked = user.blockedParent(of: directory) {
            throw ClusterError("""
                PostgreSQL runs as the system user '\(user.name ?? "")', who cannot enter \(blocked.path) (it is private to its owner), \
                so it cannot keep its cluster in \(directory.path). Put the cluster where that user can reach it: \
                fieldsync-server dev --state-directory /var/tmp/fieldsync (or run from such a directory, or chmod o+x \(blocked.path)).
                """)
        }
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        try user.own(directory, mode: 0o700)
        if !fileManager.fileExists(atPath: logFile.path) {
            _ = fileManager.createFile(atPath: logFile.path, contents: nil)
        }
        try user.own(logFile, mode: 0o600)

        if !fileManager.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            logger.info("creating a PostgreSQL cluster", metadata: ["directory": "\(directory.path)"])
            try await user.run(binaries.initdb, [
                "-D", dataDirectory.path, "-A", "trust", "-U", Self.superuser, "-E", "UTF8", "--locale=C", "--no-sync",
            ], logTo: logFile)
        } else if fileManager.fileExists(atPath: dataDirectory.appendingPathComponent("postmaster.pid").path) {
            // Left running by a process that did not stop it (or a stale pid file): stop it,
            // so that the server runs under this process's watchdog.
            try? await user.run(binaries.pgCtl, ["stop", "-D", dataDirectory.path, "-m", "fast", "-w"], logTo: logFile)
        }

        // The watchdog first, so that the server never runs without one: it waits for our end
        // of the pipe to close, then stops the server (retrying once, in case a start was still
        // under way) and removes a throwaway directory.
        // It ignores the terminal's Ctrl-C (sent to the whole process group) and SIGTERM: it must
        // outlive this process to do its job, and the end of the pipe is its only signal.
        let script = """
            trap '' INT TERM HUP
            read -r line || true
            for attempt in 1 2 3; do "$0" stop -D "$1" -m fast -w -t 60 && break; sleep 1; done
            if [ -n "$2" ]; then rm -rf "$2"; fi
            """
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ClusterError("could not create a pipe: errno \(errno)") }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        do {
            let process = try user.spawn("/bin/sh", ["-c", script, binaries.pgCtl, dataDirectory.path, options.removeOnStop ? directory.path : ""], standardInput: fds[0], logTo: logFile)
            close(fds[0])
            watchdog = (process, fds[1])
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }

        // random_page_cost: PostgreSQL's default of 4 prices a random read for a spinning disk;
        // FieldSync reads rows by key from a database in memory or on SSD, and at 4 the planner
        // hashed a tenant's every bucket membership to look up 200 (OPERATIONS.md).
        var settings = ["listen_addresses=''", "unix_socket_directories='\(directory.path)'", "max_connections=500", "random_page_cost=1.1"]
        if !options.durable { settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] }
        settings += options.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        do {
            let seconds = String(max(1, options.startTimeout.components.seconds))
            try await user.run(binaries.pgCtl, [
                "start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", seconds,
                "-o", settings.map { "-c \($0)" }.joined(separator: " "),
            ], logTo: logFile)
            if try await !databaseExists(Self.defaultDatabase) { try await createDatabase(Self.defaultDatabase) }
        } catch {
            await stop()
            throw error
        }
        logger.info("PostgreSQL is ready", metadata: ["socket": "\(directory.path)"])
    }

    private func databaseExists(_ name: String) async throws -> Bool {
        let connection = try await PostgresConnection.connect(connectionString(database: "postgres"))
        return try await !connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).isEmpty
    }
}

/// Why a cluster could not be created or started.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do about it.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
