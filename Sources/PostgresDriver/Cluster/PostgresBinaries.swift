import Foundation

/// Where `initdb`, `pg_ctl` and `postgres` are.
///
/// Looked up in order: the `PATH`; `pg_config --bindir`; Debian's versioned directories
/// (`/usr/lib/postgresql/<version>/bin`, newest first), where Debian keeps them off the `PATH`.
struct PostgresBinaries {
    /// The oldest PostgreSQL FieldSync supports.
    static let majorVersionMin = 15

    let initdb: String
    let pgCtl: String
    let postgres: String
    /// The directory they are in, with the client programs (`pg_dump`, `pg_restore`) of the same version.
    let directory: String

    init(directory: String) {
        self.directory = directory
        initdb = directory + "/initdb"
        pgCtl = directory + "/pg_ctl"
        postgres = directory + "/postgres"
    }

    /// A client program of the same version (`pg_dump`, `pg_restore`): beside the server's
    /// binaries, or beside what they link to (a `PATH` may hold links to only some of them).
    func tool(_ name: String) throws -> String {
        let beside = URL(fileURLWithPath: postgres).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
        for path in [directory + "/" + name, beside] where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw ClusterError("\(name) was not found beside PostgreSQL's server binaries (\(directory)); install the client programs (Debian: postgresql-client)")
    }

    static func find() async throws -> PostgresBinaries {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let pgConfig = candidates.map({ $0 + "/pg_config" }).first(where: FileManager.default.isExecutableFile(atPath:)),
           let bindir = try? await ChildProcess.capture(pgConfig, ["--bindir"]) {
            candidates.append(bindir)
        }
        let debian = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: debian)) ?? []
        candidates += versions.compactMap(Int.init).sorted(by: >).map { "\(debian)/\($0)/bin" }

        for directory in candidates {
            let binaries = PostgresBinaries(directory: directory)
            guard [binaries.initdb, binaries.pgCtl, binaries.postgres].allSatisfy(FileManager.default.isExecutableFile(atPath:)) else { continue }
            let version = try await ChildProcess.capture(binaries.postgres, ["--version"])
            // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
            let major = version.split(separator: " ").dropFirst(2).first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
            guard major >= majorVersionMin else {
                throw ClusterError("found PostgreSQL \(major) in \(directory), but FieldSync needs \(majorVersionMin) or later")
            }
            return binaries
        }
        throw ClusterError("PostgreSQL's server binaries (initdb, pg_ctl, postgres) were not found on the PATH, through pg_config, or under /usr/lib/postgresql; install them (Debian: apt-get install postgresql) or pass a database URL")
    }
}

/// The user PostgreSQL's binaries run as: this process's user, or, when that is root, an
/// unprivileged one (PostgreSQL refuses to run as root).
struct RunAsUser {
    /// The unprivileged account's name, or `nil` to run as this process's user.
    let name: String?
    let uid: uid_t
    let gid: gid_t

    static func current() throws -> RunAsUser {
        guard geteuid() == 0 else { return RunAsUser(name: nil, uid: geteuid(), gid: getegid()) }
        for name in ["postgres", "nobody"] {
            if let entry = getpwnam(name) {
                return RunAsUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
            }
        }
        throw ClusterError("running as root, and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL as")
    }

    /// Gives `path` to the user with `mode`, so that PostgreSQL can write there.
    func own(_ path: URL, mode: mode_t) throws {
        if name != nil, chown(path.path, uid, gid) != 0 {
            throw ClusterError("could not hand \(path.path) to user \(name!): errno \(errno)")
        }
        _ = chmod(path.path, mode)
    }

    /// The first directory on the way to `path` that this user may not pass through, or `nil`
    /// when it can reach `path` (always, when it is this process's own user).
    ///
    /// As root, PostgreSQL runs as another account, which needs the execute bit on every parent
    /// of its directory: a cluster under a private (0700) home or work folder cannot start there.
    func blockedParent(of path: URL) -> URL? {
        guard name != nil else { return nil }
        var current = URL(fileURLWithPath: "/")
        for component in path.standardizedFileURL.deletingLastPathComponent().pathComponents.dropFirst() {
            current.appendPathComponent(component)
            var info = stat()
            guard stat(current.path, &info) == 0 else { return nil }  // not created yet: created for the user below
            let passable = info.st_uid == uid ? info.st_mode & S_IXUSR != 0 : info.st_gid == gid ? info.st_mode & S_IXGRP != 0 : info.st_mode & S_IXOTH != 0
            if !passable { return current }
        }
        return nil
    }

    /// The executable and arguments that run `program` as this user.
    func command(_ program: String, _ arguments: [String]) -> (path: String, arguments: [String]) {
        guard let name else { return (program, arguments) }
        return ("/usr/sbin/runuser", ["-u", name, "--", program] + arguments)
    }

    /// Starts `program` as this user, its output appended to `log`.
    func spawn(_ program: String, _ arguments: [String], standardInput: Int32? = nil, logTo log: URL) throws -> ChildProcess {
        let logFD = open(log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { throw ClusterError("could not open \(log.path): errno \(errno)") }
        defer { close(logFD) }
        let (path, arguments) = command(program, arguments)
        return try ChildProcess.spawn(path, arguments, standardInput: standardInput, standardOutput: logFD)
    }

    /// Runs `program` to completion as this user, its output appended to `log`.
    func run(_ program: String, _ arguments: [String], logTo log: URL) async throws {
        let status = try await spawn(program, arguments, logTo: log).wait()
        guard status == 0 else {
            let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(10).joined(separator: "\n")
            throw ClusterError("\(URL(fileURLWithPath: program).lastPathComponent) failed (exit \(status)):\n\(tail)")
        }
    }
}
