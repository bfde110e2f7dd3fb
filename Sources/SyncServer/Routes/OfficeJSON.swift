import Foundation
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// A JSON request body of the office API, read strictly: an unknown member, a missing required
/// one or a value of the wrong kind is a clear `invalid` error naming the member.
struct OfficeBody {
    private var members: [String: JSONValue] = [:]
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
