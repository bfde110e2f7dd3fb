import AsyncHTTPClient
import DeviceStore
import FieldModel
import Foundation
import SyncClient
import SyncClientHTTP
import SyncCore
import SyncWire

/// Where `fieldsim device` keeps one phone between commands: `store.sqlite` (the phone's replica)
/// and `device.json` (the server, the token, the user, and whether the phone is offline).
struct DeviceHome {
    struct Config {
        var server: String
        var token: String
        var user: RecordID
        var role: Role
        var offline: Bool

        var json: JSONValue {
            JSONValue.fields([("server", .string(server)), ("token", .string(token)), ("user", .string(user.uuidString)),
                           ("role", .string(role.name)), ("offline", .bool(offline))])
        }

        init(server: String, token: String, user: RecordID, role: Role, offline: Bool) {
            self.server = server
            self.token = token
            self.user = user
            self.role = role
            self.offline = offline
        }

        init(json: JSONValue) throws {
            guard let server = json["server"]?.string, let token = json["token"]?.string, let user = json["user"]?.string.flatMap({ RecordID($0) }),
                  let role = json["role"]?.string else {
                throw CLIError(.usage, "device.json is damaged: run `fieldsim device init` again")
            }
            self.init(server: server, token: token, user: user, role: Role(role), offline: json["offline"] == .bool(true))
        }
    }

    let directory: URL
    var configFile: URL { directory.appendingPathComponent("device.json") }
    var storeFile: URL { directory.appendingPathComponent("store.sqlite") }

    /// `--home`, else `$FIELDSIM_HOME`, else `~/.fieldsim/device`.
    init(_ path: String?) {
        let chosen = path ?? ProcessInfo.processInfo.environment["FIELDSIM_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".fieldsim/device").path
        directory = URL(fileURLWithPath: chosen)
    }

    func load() throws -> Config {
        guard let data = FileManager.default.contents(atPath: configFile.path) else {
            throw CLIError(.usage, "no phone at \(directory.path): run `fieldsim device init --server URL --token TOKEN` first")
        }
        do {
            return try Config(json: try JSONValue.parse(Array(data)))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(.usage, "device.json is damaged: run `fieldsim device init` again")
        }
    }

    func save(_ config: Config) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(config.json.printed.utf8).write(to: configFile, options: .atomic)
    }

    func open() async throws -> DeviceStore {
        try await DeviceStore.open(path: storeFile.path)
    }

    /// A sync client for the phone; fails with ``CLIError/Kind/offline`` while the phone is offline.
    func client(_ config: Config, store: DeviceStore, http: HTTPClient) throws -> SyncClient {
        guard !config.offline else { throw CLIError(.offline, "the phone is offline: run `fieldsim device online` first") }
        var options = SyncClient.Options()
        options.platform = "fieldsim"
        return SyncClient(store: store, transport: HTTPTransport(baseURL: config.server, client: http),
                          credentials: .init(token: config.token, user: config.user, role: config.role), options: options)
    }

    /// The user and role a token names (read from its claims; the server verifies the signature).
    static func claims(of token: String) throws -> (user: RecordID, role: Role) {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { throw CLIError(.usage, "the token is not a JWT: pass the token `fieldsync-server token issue` printed") }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload), let json = try? JSONValue.parse(Array(data)),
              let user = json["sub"]?.string.flatMap({ RecordID($0) }), let role = json["role"]?.string else {
            throw CLIError(.usage, "the token carries no user and role")
        }
        return (user, Role(role))
    }
}

/// An error `fieldsim` reports: what went wrong, what to do, and the exit status it means.
struct CLIError: Error, CustomStringConvertible {
    /// Exit statuses, documented in `fieldsim --help`.
    enum Kind: Int32 {
        /// A command used wrongly, or a phone not set up.
        case usage = 64
        /// The phone refused the action (unknown record, forbidden move, bad value).
        case refused = 2
        /// No network, the server unreachable, or the phone set offline.
        case offline = 3
        /// The token expired or was refused: get a new one.
        case auth = 4
        /// The server refused the request (upgrade required, a protocol error, an office rule).
        case server = 5
        /// A verdict: the swarm or demo did not converge.
        case verdict = 1
    }

    var kind: Kind
    var message: String
    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    var description: String { message }

    /// The error for any error thrown by the device store or the sync client.
    static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError: return error
        case let error as StoreError: return CLIError(.refused, error.message)
        case let error as SyncClientError:
            switch error.code {
            case .offline: return CLIError(.offline, "\(error.message); the changes stay in the outbox: sync again when the server is reachable")
            case .tokenExpired: return CLIError(.auth, "the token expired: get a new one and run `fieldsim device init` with it (the outbox is kept)")
            case .unauthorized: return CLIError(.auth, "the server refused the token: \(error.message)")
            case .userDeactivated: return CLIError(.auth, "the user was deactivated: this phone stops syncing (the outbox is kept; ask an admin)")
            case .deviceRevoked: return CLIError(.auth, "an admin revoked this phone: it stops syncing (its data stays on it)")
            case .deviceWiped: return CLIError(.auth, "an admin wiped this phone: what it held was uploaded and its replica deleted; `fieldsim device init` starts afresh")
            case .upgradeRequired: return CLIError(.server, "the server needs a newer app: \(error.message)")
            case .notFound: return CLIError(.refused, error.message)
            default: return CLIError(.server, "\(error.code): \(error.message)")
            }
        default: return CLIError(.server, "\(error)")
        }
    }
}

/// Human-readable times for the text output.
enum Output {

    /// A time as `2026-11-30T09:05:00` (UTC).
    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "-" }
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }
}

extension JSONValue {
    /// The text of a string (short for ``stringValue``, as the commands read answers).
    var string: String? { stringValue }
}
