public import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A headless Chromium driven over the W3C WebDriver protocol through Debian's `chromedriver`,
/// for the console's end-to-end tests. ``find()`` says whether both are installed (`.ci/run`
/// installs `chromium` and `chromium-driver`), so a test without them can say so and skip.
public final class Browser: @unchecked Sendable {
    // @unchecked: every property is set once in `init` and only read afterwards.
    private let driver: Process
    private let http: HTTPClient
    private let base: String
    private let session: String

    /// The executables a browser test needs, if both are installed.
    public static func find() -> (chromium: String, driver: String)? {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium, let driver else { return nil }
        return (chromium, driver)
    }

    /// Starts `chromedriver` on a free port and opens a headless session of `width` × `height`.
    public static func start(width: Int = 1_400, height: Int = 1_000) async throws -> Browser {
        guard let found = find() else { throw BrowserError("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)") }
        var lastError: any Error = BrowserError("chromedriver did not start")
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...45_000)
            let driver = Process()
            driver.executableURL = URL(fileURLWithPath: found.driver)
            driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
            driver.standardOutput = FileHandle.nullDevice
            driver.standardError = FileHandle.nullDevice
            try driver.run()
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let base = "http://127.0.0.1:\(port)"
            do {
                try await waitUntilReady(http, base, driver)
                let answer = try await call(http, "POST", base + "/session", [
                    "capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": [
                        "binary": found.chromium,
                        "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=\(width),\(height)"],
                    ]]],
                ])
                guard let session = answer["sessionId"] as? String else { throw BrowserError("no session in \(answer)") }
                return Browser(driver: driver, http: http, base: base + "/session/" + session, session: session)
            } catch {
                lastError = error
                if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
                try? await http.shutdown()
            }
        }
        throw lastError
    }

    private init(driver: Process, http: HTTPClient, base: String, session: String) {
        self.driver = driver
        self.http = http
        self.base = base
        self.session = session
    }

    private static func waitUntilReady(_ http: HTTPClient, _ base: String, _ driver: Process) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, driver.isRunning {
            if let status = try? await call(http, "GET", base + "/status", nil), (status["ready"] as? Bool) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BrowserError("chromedriver did not become ready on \(base)")
    }

    /// One WebDriver command: its `value`.
    private static func call(_ http: HTTPClient, _ method: String, _ url: String, _ body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] ?? [:]
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw BrowserError("\(error): \(value["message"] as? String ?? "")")
        }
        if let value = object["value"] as? [String: Any] { return value }
        return ["value": object["value"] ?? NSNull()]
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        try await Self.call(http, method, base + path, body ?? (method == "POST" ? [:] : nil))
    }

    // MARK: - Pages

    /// Opens `url` and waits for the page to load.
    public func open(_ url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    /// Runs `script` in the page (a function body; `arguments` holds the arguments) and returns
    /// its result as JSON-shaped Foundation values.
    @discardableResult
    public func run(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        let answer = try await command("POST", "/execute/sync", ["script": script, "args": arguments])
        if let value = answer["value"] { return value is NSNull ? nil : value }
        return answer
    }

    /// A text the page's script returns.
    public func text(of script: String) async throws -> String? { try await run(script) as? String }

    /// Waits until `script` (a function body, given `arguments`) returns true, polling.
    public func wait(until script: String, timeout: Duration = .seconds(30), _ what: String, arguments: [Any] = []) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await run(script, arguments)) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BrowserError("timed out waiting for \(what)")
    }

    /// Clicks the first element `selector` finds, as a user would. An element a redraw replaced
    /// between finding and clicking it ("stale element reference") is found again, up to three times.
    public func click(_ selector: String) async throws {
        for attempt in 1...3 {
            let element = try await command("POST", "/element", ["using": "css selector", "value": selector])
            guard let id = element.first(where: { $0.key.hasPrefix("element-") })?.value as? String else { throw BrowserError("no element \(selector)") }
            do {
                _ = try await command("POST", "/element/\(id)/click")
                return
            } catch let error as BrowserError where attempt < 3 && error.description.contains("stale element") {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Types `text` into the first element `selector` finds.
    public func type(_ selector: String, _ text: String) async throws {
        let element = try await command("POST", "/element", ["using": "css selector", "value": selector])
        guard let id = element.first(where: { $0.key.hasPrefix("element-") })?.value as? String else { throw BrowserError("no element \(selector)") }
        _ = try await command("POST", "/element/\(id)/clear")
        _ = try await command("POST", "/element/\(id)/value", ["text": text])
    }

    /// Saves a PNG of the window to `file`.
    public func screenshot(to file: URL) async throws {
        let answer = try await command("GET", "/screenshot")
        guard let text = answer["value"] as? String, let data = Data(base64Encoded: text) else { throw BrowserError("no screenshot") }
        try data.write(to: file)
    }

    /// Ends the session and stops `chromedriver` (killed if it has not exited within five seconds).
    public func stop() async {
        _ = try? await command("DELETE", "")
        driver.terminate()
        // Not `waitUntilExit()`: it can wait for ever on a thread of the concurrency pool.
        let deadline = ContinuousClock.now + .seconds(5)
        while driver.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
        try? await http.shutdown()
    }
}

/// The browser or its driver failed.
public struct BrowserError: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
    init(_ description: String) { self.description = description }
}
