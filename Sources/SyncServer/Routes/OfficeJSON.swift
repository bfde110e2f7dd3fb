import Foundation
import Hummingbird
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// A JSON request body of the office API, read strictly: an unknown member, a missing required
/// one or a value of the wrong kind is a clear `invalid` error naming the member.
struct OfficeBody {
    private var members: [String: JSONValue] = [:]
    /// An upload's bytes as they came (a file, not JSON); empty for a JSON body.
    private(set) var file: [UInt8] = []

    /// An upload: the bytes are the file.
    init(file bytes: [UInt8]) { file = bytes }

    /// The longest text member; a field's own limit (the schema's) is checked when it is written.
    static let textBytesMax = 4_000

    /// Parses `bytes` (empty means `{}`), accepting only `allowed` members.
    init(_ bytes: [UInt8], allowed: Set<String>) throws {
        guard !bytes.isEmpty else { return }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw SyncStore.OfficeError(.invalid, "the body is not JSON: \(error.message)")
        }
        guard case .object(let list) = value else { throw SyncStore.OfficeError(.invalid, "the body must be a JSON object") }
        for member in list {
            guard allowed.contains(member.key) else {
                throw SyncStore.OfficeError(.invalid, "unknown member \"\(member.key)\"; this request takes \(allowed.sorted().joined(separator: ", "))")
            }
            members[member.key] = member.value
        }
    }

    func has(_ key: String) -> Bool {
        if let value = members[key], value != .null { return true }
        return false
    }

    func text(_ key: String) throws -> String {
        guard let value = try optionalText(key) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" is required") }
        return value
    }

    func optionalText(_ key: String) throws -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            // PostgreSQL text cannot hold U+0000: refused here, not answered 503 later.
            guard !text.utf8.contains(0) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" may not hold U+0000") }
            guard text.utf8.count <= Self.textBytesMax else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" is longer than \(Self.textBytesMax) bytes") }
            return text
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be a string")
        }
    }

    func id(_ key: String) throws -> RecordID {
        guard let id = try optionalID(key) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" is required") }
        return id
    }

    func optionalID(_ key: String) throws -> RecordID? {
        guard let text = try optionalText(key) else { return nil }
        guard let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be a UUID") }
        return id
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        switch members[key] {
        case nil, .null?: return value
        case .bool(let flag)?: return flag
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be true or false")
        }
    }

    /// A time: an ISO 8601 string (`2026-11-30T09:00:00Z`) or milliseconds since the epoch.
    func time(_ key: String) throws -> Int64 {
        guard let time = try optionalTime(key) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" is required") }
        return time
    }

    func optionalTime(_ key: String) throws -> Int64? {
        switch members[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let milliseconds = Int64(text) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be whole milliseconds") }
            return milliseconds
        case .string(let text)?: return try OfficeJSON.parseTime(text, key)
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be an ISO 8601 time or milliseconds since the epoch")
        }
    }

    /// A whole number, or `nil` when absent or null.
    func optionalInteger(_ key: String) throws -> Int64? {
        switch members[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let value = Int64(text) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be a whole number") }
            return value
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be a whole number")
        }
    }

    /// A required whole number within `range`.
    func integer(_ key: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let value = try optionalInteger(key) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" is required") }
        guard range.contains(value) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    /// An object of names to whole numbers within `range` (`{"boiler": 2}`); empty when absent.
    func levels(_ key: String, in range: ClosedRange<Int64>) throws -> [String: Int] {
        switch members[key] {
        case nil, .null?: return [:]
        case .object(let list)?:
            var levels: [String: Int] = [:]
            for member in list {
                guard case .number(let text) = member.value, let value = Int64(text), range.contains(value) else {
                    throw SyncStore.OfficeError(.invalid, "\"\(key)\".\(member.key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                guard !member.key.isEmpty, member.key.utf8.count <= 64, !member.key.utf8.contains(0) else {
                    throw SyncStore.OfficeError(.invalid, "a name in \"\(key)\" must be 1 to 64 bytes without U+0000")
                }
                levels[member.key] = Int(value)
            }
            return levels
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be an object of names to levels")
        }
    }

    func array(_ key: String) throws -> [JSONValue] {
        switch members[key] {
        case nil, .null?: return []
        case .array(let values)?: return values
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be an array")
        }
    }
}

/// Building the office API's JSON answers.
enum OfficeJSON {
    static func id(_ id: RecordID?) -> JSONValue { .text(id?.uuidString) }
    static func integer(_ value: Int64?) -> JSONValue { value.map { .integer($0) } ?? .null }

    /// A report as JSON: what it is, its period, its columns and its rows as objects.
    static func json(_ report: SyncStore.Report, kind: SyncStore.ReportKind, from: Int64, to: Int64) -> JSONValue {
        JSONValue.fields([
            ("report", .string(kind.rawValue)), ("from", time(from)), ("to", time(to)),
            ("columns", .array(report.columns.map { .string($0.name) })),
            ("rows", .array(report.rows.map { row in
                .object(zip(report.columns, row).map { column, cell in
                    let value: JSONValue = switch cell {
                    case .text(let text): .string(text)
                    case .integer(let value): .integer(value)
                    case .null: .null
                    }
                    return JSONValue.Member(column.name, value)
                })
            })),
        ])
    }

    /// A report as CSV (RFC 4180, a header row first). A text that a spreadsheet would read as a
    /// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.
    static func csv(_ report: SyncStore.Report) -> String {
        func field(_ text: String) -> String {
            var text = text
            if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var lines = [report.columns.map { field($0.name) }.joined(separator: ",")]
        for row in report.rows {
            lines.append(row.map { cell in
                switch cell {
                case .text(let text): field(text)
                case .integer(let value): String(value)
                case .null: ""
                }
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
    static func time(_ milliseconds: Int64?) -> JSONValue {
        milliseconds.map { .string(Date(timeIntervalSince1970: Double($0) / 1000).formatted(.iso8601)) } ?? .null
    }

    static func parseTime(_ text: String, _ key: String) throws -> Int64 {
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be an ISO 8601 time such as 2026-11-30T09:00:00Z")
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func outcomes(_ applied: SyncStore.Applied) -> JSONValue {
        .array(applied.outcomes.map { outcome in
            JSONValue.fields([("change", id(outcome.change.uuid)), ("result", .string(outcome.result.name)),
                    ("findings", .array(outcome.findings.map { JSONValue.fields([("rule", .string($0.rule)), ("message", .string($0.message))]) }))])
        })
    }
}

/// The query of a list route (`?status=…&limit=…&after=…`), read with the office API's errors.
struct ListQuery {
    let parameters: [String: String]

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
    }

    /// A text parameter, if given.
    func text(_ key: String) -> String? { parameters[key] }

    /// A UUID parameter, if given.
    func id(_ key: String) throws -> RecordID? {
        try parameters[key].map { text in
            guard let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be a UUID") }
            return id
        }
    }

    /// A time parameter (ISO 8601), if given, in ms since the epoch.
    func time(_ key: String) throws -> Int64? { try parameters[key].map { try OfficeJSON.parseTime($0, key) } }

    /// A `true`/`false` parameter; absent is false.
    func flag(_ key: String) throws -> Bool {
        switch parameters[key] {
        case nil, "false": return false
        case "true": return true
        default: throw SyncStore.OfficeError(.invalid, "\"\(key)\" is true or false")
        }
    }

    /// The page size: `limit`, 100 when absent.
    func limit() throws -> Int {
        try parameters["limit"].map { text in
            guard let limit = Int(text) else { throw SyncStore.OfficeError(.invalid, "\"limit\" must be a number") }
            return limit
        } ?? 100
    }
}
