import ArgumentParser
import Foundation
import Logging

/// Every setting of the serving commands, in one place (issue 21, item 5): each has a flag, an
/// environment variable and a key in the configuration file (`--config FILE`, `key = value`
/// lines, `#` comments), and a default. A flag wins over the environment, the environment over
/// the file, the file over the default. `serve --print-config` prints them all, secrets masked,
/// each with where its value came from (`OPERATIONS.md`, "Configuration").
struct ServerSettings {
    /// One setting.
    struct Setting {
        /// The file's key (`database_url`); the flag is `--database-url`, the variable `FIELDSYNC_DATABASE_URL`.
        let key: String
        /// The value when nobody gives one (`nil`: none).
        let defaultValue: String?
        /// Whether it is printed masked.
        let secret: Bool
        /// What it does.
        let help: String

        var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
        var environment: String { "FIELDSYNC_" + key.uppercased() }
    }

    /// Where a value came from.
    enum Source: String {
        case flag, environment, file, `default`
    }

    /// Every setting, in the order `--print-config` prints them.
    static let all: [Setting] = [
        Setting(key: "host", defaultValue: "127.0.0.1", secret: false, help: "the address to listen on (0.0.0.0 to serve other machines)"),
        Setting(key: "port", defaultValue: "8080", secret: false, help: "the TCP port; 0 picks a free one"),
        Setting(key: "database_url", defaultValue: nil, secret: true, help: "a postgresql:// URL or libpq key=value string"),
        Setting(key: "token_secret", defaultValue: nil, secret: true, help: "the secret FieldSync's own tokens are signed with (HS256), at least 32 bytes"),
        Setting(key: "log_level", defaultValue: "info", secret: false, help: "trace, debug, info, notice, warning, error or critical"),
        Setting(key: "log_format", defaultValue: "text", secret: false, help: "text, or json (one object a line, for a log collector)"),
        Setting(key: "retention_days", defaultValue: "30", secret: false, help: "days the change feed keeps what some device has not read"),
        Setting(key: "requests_per_second", defaultValue: "20", secret: false, help: "each user's request budget a second (bursts of ten times as many)"),
        Setting(key: "oidc_issuer", defaultValue: nil, secret: false, help: "the company's identity provider: its issuer"),
        Setting(key: "oidc_audience", defaultValue: nil, secret: false, help: "the audience its tokens are for"),
        Setting(key: "oidc_tenant", defaultValue: nil, secret: false, help: "the tenant it signs people in for"),
        Setting(key: "oidc_user_claim", defaultValue: "email", secret: false, help: "the claim holding the user's e-mail address"),
        Setting(key: "jwks_url", defaultValue: nil, secret: false, help: "the provider's JWKS URL"),
        Setting(key: "jwks_file", defaultValue: nil, secret: false, help: "or a JWKS file"),
    ]

    private var values: [String: (value: String, source: Source)] = [:]

    /// Resolves every setting from `flags` (key → the flag's value, if given), the process's
    /// environment and the file at `file`.
    ///
    /// - Throws: `ValidationError` for an unreadable file, a line that is not `key = value`, or a key no setting has.
    init(flags: [String: String?], environment: [String: String] = ProcessInfo.processInfo.environment, file: String?) throws {
        var fromFile: [String: String] = [:]
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read the configuration file \(file)") }
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                guard !line.isEmpty, !line.hasPrefix("#") else { continue }
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, Self.all.contains(where: { $0.key == parts[0] }) else {
                    throw ValidationError("\(file), line \(number + 1): not a `key = value` line of a known setting (\(Self.all.map(\.key).joined(separator: ", ")))")
                }
                fromFile[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        for setting in Self.all {
            if let flag = flags[setting.key] ?? nil {
                values[setting.key] = (flag, .flag)
            } else if let variable = environment[setting.environment], !variable.isEmpty {
                values[setting.key] = (variable, .environment)
            } else if let value = fromFile[setting.key] {
                values[setting.key] = (value, .file)
            } else if let value = setting.defaultValue {
                values[setting.key] = (value, .default)
            }
        }
    }

    /// The value of `key`, if any.
    subscript(_ key: String) -> String? { values[key]?.value }

    /// The value of `key` as a number.
    func number<T: LosslessStringConvertible>(_ key: String, _ type: T.Type = T.self) throws -> T {
        guard let text = self[key], let value = T(text) else { throw ValidationError("\(key) must be a number, not “\(self[key] ?? "")”") }
        return value
    }

    /// The settings as `--print-config` prints them: `key = value  # source`, secrets masked.
    var printed: String {
        Self.all.map { setting in
            guard let (value, source) = values[setting.key] else { return "# \(setting.key) is not set: \(setting.help)" }
            return "\(setting.key) = \(setting.secret ? "********" : value)  # \(source.rawValue)"
        }.joined(separator: "\n")
    }

    /// The logger the settings ask for.
    func logger(_ label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: self["log_level"] ?? "info") else {
            throw ValidationError("log_level must be one of trace, debug, info, notice, warning, error, critical")
        }
        var logger: Logger
        switch self["log_format"] ?? "text" {
        case "text": logger = Logger(label: label)
        case "json": logger = Logger(label: label) { JSONLogHandler(label: $0) }
        default: throw ValidationError("log_format is text or json")
        }
        logger.logLevel = level
        return logger
    }
}

/// A log handler writing one JSON object a line to standard error: `time`, `level`, `label`,
/// `message`, `source` and the metadata's members (`--log-format json`, for a log collector).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [
            "time": Date().formatted(.iso8601), "level": event.level.rawValue, "label": label,
            "message": event.message.description, "source": event.source,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) where object[key] == nil {
            object[key] = value.description
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
