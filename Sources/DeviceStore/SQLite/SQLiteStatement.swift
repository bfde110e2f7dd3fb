internal import CSQLite
public import SyncCore

/// A prepared SQLite statement.
///
/// A statement belongs to the ``SQLiteDatabase`` that prepared it and is used only inside that
/// actor (it is deliberately not `Sendable`). The database caches statements by SQL text, so
/// preparing the same SQL twice is cheap. Parameters are numbered from 1 as in SQL (`?1`, `?2`);
/// the `[any SQLiteBindable]` forms bind them in order.
public final class SQLiteStatement {
    let handle: OpaquePointer
    private let database: OpaquePointer
    /// The tables the statement reads, as SQLite's authorizer reported them when it was prepared.
    var tablesRead: Set<String> = []

    init(database: OpaquePointer, sql: String) throws(SQLiteError) {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            // sqlite3_interrupt also fails statements prepared while another is still running.
            let code: SQLiteError.Code = status & 0xFF == SQLITE_INTERRUPT ? .cancelled : .prepareFailed
            throw SQLiteError(code, resultCode: sqlite3_extended_errcode(database), message: String(cString: sqlite3_errmsg(database)))
        }
        self.handle = statement
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// How many columns each result row has.
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The result's column names, read once per statement (every row of ``rows(_:)`` shares them).
    private lazy var columns = SQLiteRow.Columns((0..<columnCount).map(columnName))

    /// The name of result column `index` (from 0).
    public func columnName(_ index: Int) -> String {
        String(cString: sqlite3_column_name(handle, Int32(index)))
    }

    /// Binds `values` to parameters 1, 2, … in order, after clearing earlier bindings.
    public func bind(_ values: [any SQLiteBindable]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard values.count <= Int(sqlite3_bind_parameter_count(handle)) else {
            throw SQLiteError(.misuse, message: "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters")
        }
        for (offset, value) in values.enumerated() {
            try bind(value.sqliteValue, at: Int32(offset + 1))
        }
    }

    /// Rewinds the statement and clears its bindings, before binding parameters one by one with
    /// ``bind(_:at:)``.
    public func clearBindings() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds one value to parameter `index` (from 1).
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        let status: Int32
        switch value {
        case .null:
            status = sqlite3_bind_null(handle, index)
        case .integer(let integer):
            status = sqlite3_bind_int64(handle, index, integer)
        case .real(let real):
            status = sqlite3_bind_double(handle, index, real)
        case .text(var text):
            // withUTF8 gives the bytes without a copy; an empty string has no base address, and
            // a nil pointer would bind NULL, so empty text goes through a C string literal.
            status = text.isEmpty
                ? fieldsync_sqlite3_bind_text_transient(handle, index, "", 0)
                : text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        fieldsync_sqlite3_bind_text_transient(handle, index, $0.baseAddress, Int32($0.count))
                    }
                }
        case .blob(let bytes):
            status = bytes.isEmpty
                ? sqlite3_bind_zeroblob(handle, index, 0)
                : bytes.withUnsafeBytes { fieldsync_sqlite3_bind_blob_transient(handle, index, $0.baseAddress, Int32($0.count)) }
        }
        guard status == SQLITE_OK else { throw error(status) }
    }

    /// Binds a record id to parameter `index` (from 1) as its 16 bytes, big-endian, without
    /// allocating them.
    public func bind(_ id: RecordID, at index: Int32) throws(SQLiteError) {
        let bytes = (id.high.bigEndian, id.low.bigEndian)
        let status = withUnsafeBytes(of: bytes) { fieldsync_sqlite3_bind_blob_transient(handle, index, $0.baseAddress, 16) }
        guard status == SQLITE_OK else { throw error(status) }
    }

    /// Advances to the next result row.
    /// - Returns: `true` when a row is ready to read, `false` when the statement is done.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw error(status)
        }
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    public func reset() { sqlite3_reset(handle) }

    /// The value of column `index` (from 0) of the current row.
    public func value(at index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let blob = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    /// Whether column `index` (from 0) of the current row is NULL.
    public func isNull(at index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    /// Column `index` (from 0) of the current row as an integer, or `nil` when it is NULL; read
    /// without building a ``SQLiteValue``.
    public func integer(at index: Int) -> Int64? {
        isNull(at: index) ? nil : sqlite3_column_int64(handle, Int32(index))
    }

    /// Reads column `index` (from 0) of the current row as `T`.
    public func read<T: SQLiteReadable>(_ index: Int, as type: T.Type = T.self) throws(SQLiteError) -> T {
        try T(sqliteValue: value(at: index))
    }

    /// Binds `values`, runs the statement to completion and resets it.
    /// - Returns: How many rows the statement inserted, updated or deleted.
    @discardableResult
    public func run(_ values: [any SQLiteBindable] = []) throws(SQLiteError) -> Int {
        try bind(values)
        defer { sqlite3_reset(handle) }
        while try step() {}
        return Int(sqlite3_changes(database))
    }

    /// Runs the statement, with the parameters bound by ``bind(_:at:)``, to completion and resets it.
    /// - Returns: How many rows the statement inserted, updated or deleted.
    @discardableResult
    public func execute() throws(SQLiteError) -> Int {
        defer { sqlite3_reset(handle) }
        while try step() {}
        return Int(sqlite3_changes(database))
    }

    /// Binds `values` and returns every result row.
    ///
    /// Stops with ``SQLiteError/Code/cancelled`` if the calling task is cancelled between rows.
    public func rows(_ values: [any SQLiteBindable] = []) throws(SQLiteError) -> [SQLiteRow] {
        try bind(values)
        defer { sqlite3_reset(handle) }
        let columns = self.columns
        var rows: [SQLiteRow] = []
        while try step() {
            if rows.count % 1024 == 1023, Task.isCancelled {
                throw SQLiteError(.cancelled, message: "the task was cancelled while reading rows")
            }
            rows.append(SQLiteRow(columns: columns, values: (0..<columns.names.count).map(value(at:))))
        }
        return rows
    }

    private func error(_ status: Int32) -> SQLiteError {
        SQLiteError.from(status: status, database: database)
    }
}

extension SQLiteError {
    /// Classifies a failed SQLite call, with SQLite's message for the connection.
    static func from(status: Int32, database: OpaquePointer) -> SQLiteError {
        let extended = sqlite3_extended_errcode(database)
        let message = String(cString: sqlite3_errmsg(database))
        let code: Code
        switch status & 0xFF {
        case SQLITE_CONSTRAINT: code = .constraint
        case SQLITE_BUSY, SQLITE_LOCKED: code = .busy
        case SQLITE_INTERRUPT: code = .cancelled
        case SQLITE_CORRUPT, SQLITE_NOTADB: code = .corrupt
        case SQLITE_MISUSE, SQLITE_RANGE: code = .misuse
        case SQLITE_CANTOPEN: code = .cannotOpen
        default: code = .sqlError
        }
        return SQLiteError(code, resultCode: extended == 0 ? status : extended, message: message)
    }
}
