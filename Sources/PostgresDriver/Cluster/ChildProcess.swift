import Foundation

/// A child process started with `posix_spawn`, inheriting only standard input, output and error.
///
/// Why not Foundation's `Process`: on Linux it learns that a child exited when a socket the
/// child inherits is closed, and every descendant inherits that socket too. A daemon such as the
/// PostgreSQL server that `pg_ctl start` leaves behind keeps it open, so `waitUntilExit` never
/// returns; and every other descriptor this process has open leaks into the child. Here the
/// child gets exactly three descriptors and the exit is learned from `waitpid`.
struct ChildProcess {
    /// The child's process id.
    let pid: pid_t

    /// Starts `path` with `arguments`.
    /// - Parameters:
    ///   - standardInput: A descriptor for the child's standard input, or `nil` for /dev/null.
    ///   - standardOutput: Likewise for standard output (and standard error, unless given).
    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        standardInput: Int32? = nil, standardOutput: Int32? = nil, standardError: Int32? = nil
    ) throws -> ChildProcess {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, standardInput ?? null, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput ?? null, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError ?? standardOutput ?? null, 2)
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        } else {
            // Older C libraries: close what is open now (a descriptor opened concurrently by
            // another thread may still leak; glibc 2.34 and later take the branch above).
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap(Int32.init) where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard status == 0 else {
            throw ClusterError("could not start \(path): \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Waits for the child to exit and returns its exit status (128 + signal when killed).
    func wait() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let signal = status & 0x7F
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            }
        }
    }

    /// Runs `path` to completion and returns what it printed on standard output.
    static func capture(_ path: String, _ arguments: [String]) async throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ClusterError("could not create a pipe: errno \(errno)") }
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let child: ChildProcess
        do {
            child = try spawn(path, arguments, standardOutput: fds[1], standardError: nil)
            close(fds[1])
        } catch {
            close(fds[1])
            throw error
        }
        let data = reader.readDataToEndOfFile()
        guard await child.wait() == 0 else { throw ClusterError("\(path) failed") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module
    /// does not declare, looked up at run time.
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
