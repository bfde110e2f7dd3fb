public import Foundation

/// `fieldsync-server dev` run as a separate process, as a user runs it, for end-to-end tests of
/// the executables: it starts a private PostgreSQL under its working directory, loads the demo
/// data and prints its URL and the demo users' tokens.
public struct DevServer: Sendable {
    /// The process.
    public let process: Process
    /// The URL it serves at.
    public let url: URL
    /// The demo users' tokens by role (`rep`, `technician`, `dispatcher`, `manager`).
    public let tokens: [String: String]
    /// The libpq connection string of the server's private database.
    public let database: String?
    /// Its working directory.
    public let directory: URL

    /// An executable built beside the running test bundle (`fieldsim`, `fieldsync-server`).
    public static func built(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Starts `fieldsync-server dev --port 0` in `directory` and waits (up to 90 s) until it serves.
    ///
    /// - Parameter arguments: More arguments for `fieldsync-server dev`.
    /// - Parameter environment: More environment variables for it.
    public static func start(in directory: URL, arguments: [String] = [], environment: [String: String] = [:]) throws -> DevServer {
        let process = Process()
        process.executableURL = built("fieldsync-server")
        process.arguments = ["dev", "--port", "0", "--log-level", "warning"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = ContinuousClock.now + .seconds(90)
        while !text.contains("Press Ctrl-C"), ContinuousClock.now < deadline, process.isRunning {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        guard let address = text.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("http://") }), let url = URL(string: String(address)) else {
            process.terminate()
            throw DevServerError(message: "fieldsync-server dev did not start; it printed: \(text)")
        }
        var tokens: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("Token for ") {
            guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else { continue }
            tokens[String(line[line.index(after: open)..<close])] = line.split(separator: " ").last.map(String.init)
        }
        let database = text.split(separator: "\n").first { $0.hasPrefix("PostgreSQL: ") }.map { String($0.dropFirst("PostgreSQL: ".count)) }
        return DevServer(process: process, url: url, tokens: tokens, database: database, directory: directory)
    }

    /// Stops the server the way Ctrl-C does and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        process.interrupt()
        process.waitUntilExit()
    }
}

/// `fieldsync-server dev` did not start.
public struct DevServerError: Error, CustomStringConvertible {
    /// What it printed.
    public var message: String
    public var description: String { message }
}
