import CSQLite
import Foundation
import SyncCore

/// SQLite through its C API and nothing else: the device-side baseline. Opened as the device store
/// opens its file (WAL, `synchronous = NORMAL`), so the two differ only in what FieldSync adds.
final class RawSQLite {
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws {
        var pointer: OpaquePointer?
        guard sqlite3_open_v2(path, &pointer, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let pointer else {
            throw BenchError("cannot open \(path)")
        }
        handle = pointer
        try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(handle)))") }
    }

    /// Runs `sql` (prepared once, then reused) with `values`.
    func run(_ sql: String, _ values: [RawValue]) throws {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var pointer: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil) == SQLITE_OK, let pointer else {
                throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(handle)))")
            }
            statements[sql] = pointer
            statement = pointer
        }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .text(let text):
                var text = text
                text.withUTF8 { _ = fieldsync_sqlite3_bind_text_transient(statement, position, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), Int32($0.count)) }
            case .blob(let bytes): bytes.withUnsafeBytes { _ = fieldsync_sqlite3_bind_blob_transient(statement, position, $0.baseAddress, Int32($0.count)) }
            }
        }
        let status = sqlite3_step(statement)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard status == SQLITE_DONE || status == SQLITE_ROW else { throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(handle)))") }
    }
}

/// A value bound to a raw statement.
enum RawValue {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    /// A field value as the raw baselines store it (references as 16 bytes, states by name).
    init(_ value: FieldValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .integer(flag ? 1 : 0)
        case .integer(let number), .timestamp(let number): self = .integer(number)
        case .text(let text): self = .text(text)
        case .id(let id): self = .blob(id.bytes)
        case .state(let state): self = .text(state.name)
        case .counter(let counter): self = .integer(counter.sum)
        }
    }

    /// The value as PostgreSQL text (`nil` for NULL).
    var postgresText: String? {
        switch self {
        case .null: nil
        case .integer(let number): String(number)
        case .text(let text): text
        case .blob(let bytes): RecordID(bytes: bytes)?.uuidString ?? "\\x" + bytes.map { String(format: "%02x", $0) }.joined()
        }
    }
}

/// A benchmark that cannot go on.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
