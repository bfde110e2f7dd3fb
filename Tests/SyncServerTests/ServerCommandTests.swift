import Foundation
import Testing
import SyncTesting

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `fieldsync-server dev`, run as the operator runs it: a separate process, real signals.
@Suite("fieldsync-server dev", .serialized)
struct ServerCommandTests {
    /// Starts `fieldsync-server dev --port 0` in `directory` and returns it with the URL it printed.
    /// Runs `fieldsync-server` with `arguments` to its end: its exit status, output and errors.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = DevServer.built("fieldsync-server")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FIELDSYNC_") }.merging(environment) { $1 }
        let (output, error) = (Pipe(), Pipe())
        (process.standardOutput, process.standardError) = (output, error)
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let complained = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, printed, complained)
    }

    static func startDev(in directory: URL) async throws -> (Process, URL) {
        let server = try DevServer.start(in: directory)
        return (server.process, server.url)
    }

    /// Whether any PostgreSQL server runs on a cluster under `directory`.
    static func postgresRunning(under directory: URL) throws -> Bool {
        let processes = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init)
        return processes.contains { pid in
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return command.contains("postgres") && command.contains(directory.path)
        }
    }

    static func waitUntilStopped(under directory: URL) async throws -> Bool {
        for _ in 0..<200 where try postgresRunning(under: directory) {
            try await Task.sleep(for: .milliseconds(100))
        }
        return try !postgresRunning(under: directory)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-dev-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("serves /health, and Ctrl-C stops the server and its PostgreSQL")
    func interrupt() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, url) = try await Self.startDev(in: directory)
        let (body, response) = try await URLSession.shared.data(from: url.appendingPathComponent("health"))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("\"status\":\"ok\""))
        #expect(try Self.postgresRunning(under: directory))

        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try await Self.waitUntilStopped(under: directory))
    }

    @Test("a killed server leaves no PostgreSQL behind, and the next start reuses the cluster")
    func killed() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, _) = try await Self.startDev(in: directory)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(try await Self.waitUntilStopped(under: directory))

        let (second, url) = try await Self.startDev(in: directory)
        let (_, response) = try await URLSession.shared.data(from: url.appendingPathComponent("health"))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        second.terminate()
        second.waitUntilExit()
        #expect(try await Self.waitUntilStopped(under: directory))
    }

    @Test("serve's settings: flags over the environment over the file over defaults; --print-config masks secrets and says where each came from; a bad file refused; --log-format json")
    func configuration() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("fieldsync.conf")
        try Data("""
            # the operator's file
            host = 0.0.0.0
            token_secret = "file-secret-file-secret-file-secret-42"
            retention_days = 7
            """.utf8).write(to: file)
        let printed = try Self.run(["serve", "--print-config", "--config", file.path, "--retention-days", "9"],
                                   environment: ["FIELDSYNC_PORT": "9090", "FIELDSYNC_DATABASE_URL": "postgresql://fieldsync:hunter2@db.example.com/fieldsync"])
        #expect(printed.status == 0, "\(printed)")
        for line in ["host = 0.0.0.0  # file", "port = 9090  # environment", "retention_days = 9  # flag", "database_url = ********  # environment",
                     "token_secret = ********  # file", "log_level = info  # default", "log_format = text  # default"] {
            #expect(printed.output.contains(line + "\n"), "\(line) in \(printed.output)")
        }
        #expect(!printed.output.contains("hunter2") && !printed.output.contains("file-secret"))
        try Data("colour = red\n".utf8).write(to: file)
        let refused = try Self.run(["serve", "--print-config", "--config", file.path])
        #expect(refused.status == 64 && refused.error.contains("line 1"), "\(refused)")
        // JSON logs: the migration's lines as JSON objects on standard error.
        let process = Process()
        process.executableURL = DevServer.built("fieldsync-server")
        process.arguments = ["serve", "--log-format", "json", "--port", "0", "--database-url", try await TestPostgres.makeDatabase("json-logs"),
                             "--token-secret", String(repeating: "s", count: 40)]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        defer { process.terminate() }
        var text = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while !text.contains("\n"), ContinuousClock.now < deadline, process.isRunning {
            text += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        let first = try #require(text.split(separator: "\n").first, "no log line")
        let object = try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any]
        #expect(object?["level"] as? String == "info" && object?["message"] is String && object?["label"] as? String == "fieldsync.server", "\(first)")
    }
}
