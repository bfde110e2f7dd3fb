internal import CLibPQ
import Foundation
import Synchronization
import SyncCore

/// One libpq connection to PostgreSQL.
///
/// The actor owns the `PGconn*` and runs libpq's blocking calls on its own
/// ``DedicatedExecutor``. Statements use the extended protocol with text-format parameters
/// (`$1`, `$2`, …), so values never become part of the SQL text. Cancelling the task that awaits
/// a statement sends PostgreSQL a cancel request (`PQcancel`), and the statement fails with
/// ``PostgresError/Code/cancelled``.
///
/// Use a ``PostgresPool`` rather than connections directly: the pool replaces connections that
/// broke and bounds how many the server sees.
public actor PostgresConnection {
    struct Handle: @unchecked Sendable {
        // Safe: the PGconn* is used only on the actor's executor (or, before the actor exists,
        // on that same executor's queue through DedicatedExecutor.run).
        let pointer: OpaquePointer
    }

    struct Canceller: @unchecked Sendable {
        // Safe: libpq documents PQcancel on a PGcancel object as callable from any thread,
        // even a signal handler; the object is freed only in the actor's deinit.
        let pointer: OpaquePointer
    }

    private let executor: DedicatedExecutor
    private let handle: Handle
    private let canceller: Canceller?
    private var transactionDepth = 0
    /// Statements prepared on this connection, by their SQL text, and how often each statement
    /// not prepared yet has run (see ``preparing(_:count:)``).
    private var prepared: [String: String] = [:]
    private var runs: [String: Int] = [:]
    private var preparedCount = 0
    private static let sent = Atomic<Int>(0)
    private static let trips = Atomic<Int>(0)

    /// How many statements every connection of this process has sent, for measurement:
    /// `fieldsync-bench` reports statements per push from it.
    public static var statementsSent: Int { sent.load(ordering: .relaxed) }

    /// How many times every connection of this process has waited for the server's answer: one
    /// per statement, or one per pipelined batch (``run(_:)``).
    public static var roundTrips: Int { trips.load(ordering: .relaxed) }

    /// How many times this connection has waited for the server's answer.
    public private(set) var roundTripsMade = 0

    /// The process id of the server backend serving this connection.
    public nonisolated let backendPID: Int32

    /// The executor every call of this connection runs on.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(executor: DedicatedExecutor, handle: Handle) {
        self.executor = executor
        self.handle = handle
        self.canceller = PQgetCancel(handle.pointer).map(Canceller.init)
        self.backendPID = PQbackendPID(handle.pointer)
    }

    isolated deinit {
        if let canceller { PQfreeCancel(canceller.pointer) }
        PQfinish(handle.pointer)
    }

    /// Opens a connection.
    ///
    /// - Parameter connectionString: A `postgresql://` URL or a libpq `key=value` string, for
    ///   example `host=/tmp/cluster user=fieldsync dbname=fieldsync`. Unless it says otherwise,
    ///   connecting gives up after 10 seconds.
    /// - Throws: ``PostgresError`` with ``PostgresError/Code/badConnectionString``,
    ///   ``PostgresError/Code/connectionRefused``, ``PostgresError/Code/authenticationFailed``
    ///   or ``PostgresError/Code/connectionFailed``.
    public static func connect(_ connectionString: String) async throws -> PostgresConnection {
        try validate(connectionString)
        let executor = DedicatedExecutor(label: "fieldsync.postgres")
        let handle = try await executor.run { () throws(PostgresError) -> Handle in
            // Later keywords override earlier ones, and the expanded connection string sits in
            // the middle: so its own connect_timeout wins over our default.
            let keywords = ["connect_timeout", "application_name", "dbname"]
            let values = ["10", "fieldsync", connectionString]
            let pointer = withCStrings(keywords) { keywords in
                withCStrings(values) { values in PQconnectdbParams(keywords, values, 1) }
            }
            guard let pointer else { throw PostgresError(.client, message: "libpq could not allocate a connection") }
            guard PQstatus(pointer) == CONNECTION_OK else {
                let error = PostgresError.connecting(message: String(cString: PQerrorMessage(pointer)))
                PQfinish(pointer)
                throw error
            }
            return Handle(pointer: pointer)
        }
        return PostgresConnection(executor: executor, handle: handle)
    }

    /// Checks that `connectionString` parses, without connecting.
    public static func validate(_ connectionString: String) throws(PostgresError) {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &message) else {
            let reason = message.map { String(cString: $0).trimmingTrailingNewlines } ?? "out of memory"
            PQfreemem(message)
            throw PostgresError(.badConnectionString, message: "the database URL or connection string does not parse: \(reason)")
        }
        PQconninfoFree(options)
    }

    /// Runs one statement with parameters `$1`, `$2`, … and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [any PostgresBindable] = []) async throws -> PostgresRows {
        let parameters = values.map(\.postgresValue)
        return try await cancellable { connection throws(PostgresError) in try connection.execute(sql, parameters) }
    }

    /// Runs one or more statements separated by semicolons, without parameters (schema
    /// changes, migrations), and returns the last one's rows.
    @discardableResult
    public func execute(_ script: String) async throws -> PostgresRows {
        try await cancellable { connection throws(PostgresError) in try connection.executeScript(script) }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// Nested calls from inside `body` become savepoints.
    @discardableResult
    public func transaction<T: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) async throws -> T
    ) async throws -> T {
        let depth = transactionDepth
        try await execute(depth == 0 ? "BEGIN" : "SAVEPOINT fieldsync_\(depth)")
        transactionDepth += 1
        do {
            let result = try await body(self)
            transactionDepth = depth
            try await execute(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT fieldsync_\(depth)")
            return result
        } catch {
            transactionDepth = depth
            // A broken connection cannot roll back, and the server has already rolled back for us.
            if isOpen {
                _ = try? executeScript(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT fieldsync_\(depth); RELEASE SAVEPOINT fieldsync_\(depth)")
            }
            throw error
        }
    }

    /// Whether the connection still works and is outside any transaction, checked without a
    /// round trip: it reads whatever the server sent meanwhile (such as the notice that the
    /// backend was terminated) and looks at the connection's state.
    public var isReusable: Bool {
        // Twice: a terminated backend sends an error message and then closes the socket; the
        // first call reads the message, the second meets the end of the stream. On a healthy
        // connection each call finds nothing to read and returns at once.
        PQconsumeInput(handle.pointer) == 1 && PQconsumeInput(handle.pointer) == 1
            && isOpen && PQtransactionStatus(handle.pointer) == PQTRANS_IDLE
    }

    private var isOpen: Bool { PQstatus(handle.pointer) == CONNECTION_OK }

    /// Runs `work` on the actor with cancellation wired to `PQcancel`.
    private func cancellable<T: Sendable>(
        _ work: (isolated PostgresConnection) throws(PostgresError) -> T
    ) async throws -> T {
        if Task.isCancelled {
            throw PostgresError(.cancelled, message: "the task was cancelled before the statement was sent")
        }
        let canceller = self.canceller
        return try await withTaskCancellationHandler {
            try work(self)
        } onCancel: {
            guard let canceller else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(canceller.pointer, &buffer, Int32(buffer.count))
        }
    }

    func execute(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresRows {
        Self.sent.add(1, ordering: .relaxed)
        Self.trips.add(1, ordering: .relaxed)
        roundTripsMade += 1
        let bound = try Bound(parameters)
        defer { bound.deallocate() }
        let name = try preparing(sql, count: parameters.count)
        let (lengths, formats) = (bound.lengths, bound.formats)
        let result = bound.pointers.withUnsafeBufferPointer { values in
            if let name {
                PQexecPrepared(handle.pointer, name, Int32(parameters.count), values.baseAddress, lengths, formats, 0)
            } else {
                PQexecParams(handle.pointer, sql, Int32(parameters.count), nil, values.baseAddress, lengths, formats, 0)
            }
        }
        defer { PQclear(result) }
        do {
            return try rows(of: result)
        } catch {
            // A table changed under a prepared plan (a migration): prepare it again next time.
            if let name, error.sqlState == "0A000" {
                prepared[sql] = nil
                _ = try? executeScript("DEALLOCATE \(name)")
            }
            throw error
        }
    }

    /// The name of `sql`'s prepared statement, preparing it on its second run; `nil` to run it
    /// unprepared. A statement that runs again and again (every push's lookups and upserts) is
    /// then parsed and planned once per connection instead of once per run. Long texts (a
    /// multi-row insert) and statements past ``preparedMax`` stay unprepared.
    private func preparing(_ sql: String, count: Int) throws(PostgresError) -> String? {
        if let name = prepared[sql] { return name }
        guard let name = nameToPrepare(sql) else { return nil }
        Self.sent.add(1, ordering: .relaxed)
        Self.trips.add(1, ordering: .relaxed)
        roundTripsMade += 1
        let result = PQprepare(handle.pointer, name, sql, Int32(count), nil)
        defer { PQclear(result) }
        _ = try rows(of: result)
        prepared[sql] = name
        return name
    }

    /// The name to prepare `sql` under now — on its second run, when it is short enough and the
    /// connection has room — or `nil` to run it unprepared.
    private func nameToPrepare(_ sql: String) -> String? {
        guard prepared[sql] == nil, sql.utf8.count <= 16_384, prepared.count < Self.preparedMax else { return nil }
        if runs.count >= 4 * Self.preparedMax { runs.removeAll() }
        runs[sql, default: 0] += 1
        guard runs[sql]! >= 2 else { return nil }
        runs[sql] = nil
        preparedCount += 1
        return "fieldsync_\(preparedCount)"
    }

    /// The most statements one connection keeps prepared.
    static let preparedMax = 256

    /// Runs `batch`'s statements in order in one round trip: libpq's pipeline mode sends them
    /// all, then reads every answer. The first statement that fails throws, and the ones after
    /// it do not run (inside a transaction, the transaction is failed as by any error).
    ///
    /// Either the statements or their answers must be small: the connection blocks while it
    /// sends, and reads only when everything is sent, so large statements (a push's writes) are
    /// fine when their answers are small, and large answers (a push's reads) when the statements
    /// are small; both large at once could stall both ends. Statements already prepared on this
    /// connection run prepared. Outside a transaction the batch is one implicit transaction.
    @discardableResult
    public func run(_ batch: PostgresBatch) async throws -> [PostgresRows] {
        switch batch.statements.count {
        case 0: return []
        case 1: return [try await cancellable { connection throws(PostgresError) in
                try connection.execute(batch.statements[0].sql, batch.statements[0].values)
            }]
        default: return try await cancellable { connection throws(PostgresError) in try connection.pipeline(batch.statements) }
        }
    }

    private func pipeline(_ statements: [PostgresBatch.Statement]) throws(PostgresError) -> [PostgresRows] {
        Self.sent.add(statements.count, ordering: .relaxed)
        Self.trips.add(1, ordering: .relaxed)
        roundTripsMade += 1
        // Every parameter is bound before anything is sent: a value libpq cannot carry (a NUL
        // in text) refuses the whole batch, not the statements after it.
        var bound: [Bound] = []
        defer { for parameters in bound { parameters.deallocate() } }
        for statement in statements { bound.append(try Bound(statement.values)) }
        guard PQenterPipelineMode(handle.pointer) == 1 else { throw lostOrFailed() }
        // What each result of the pipeline answers, in order: a statement prepared on its second
        // run (as outside a pipeline), or a statement's rows.
        var expected: [(sql: String, name: String)?] = []
        var sendFailure: PostgresError?
        for (statement, parameters) in zip(statements, bound) {
            let count = Int32(statement.values.count)
            var name = prepared[statement.sql]
            if name == nil, let fresh = nameToPrepare(statement.sql) {
                Self.sent.add(1, ordering: .relaxed)
                guard PQsendPrepare(handle.pointer, fresh, statement.sql, count, nil) == 1 else { sendFailure = lostOrFailed(); break }
                expected.append((statement.sql, fresh))
                name = fresh
            }
            let (lengths, formats, sql) = (parameters.lengths, parameters.formats, statement.sql)
            let sent = parameters.pointers.withUnsafeBufferPointer { values in
                if let name {
                    PQsendQueryPrepared(handle.pointer, name, count, values.baseAddress, lengths, formats, 0)
                } else {
                    PQsendQueryParams(handle.pointer, sql, count, nil, values.baseAddress, lengths, formats, 0)
                }
            }
            if sent != 1 { sendFailure = lostOrFailed(); break }
            expected.append(nil)
        }
        // The sync ends the pipeline even when a send failed, so that the connection leaves
        // pipeline mode in a known state.
        guard PQpipelineSync(handle.pointer) == 1 else { throw lostOrFailed() }
        var answers: [PostgresRows] = []
        var failure: PostgresError?
        var next = 0
        var ended = false
        while true {
            guard let result = PQgetResult(handle.pointer) else {
                // The end of one statement's results; two in a row, or a closed connection,
                // means no sync will come.
                if ended || !isOpen { failure = failure ?? lostOrFailed(); break }
                ended = true
                continue
            }
            ended = false
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC { break }
            let answering = next < expected.count ? expected[next] : nil
            next += 1
            if status == PGRES_PIPELINE_ABORTED { continue }
            do throws(PostgresError) {
                let rows = try rows(of: result)
                if let (sql, name) = answering { prepared[sql] = name } else { answers.append(rows) }
            } catch {
                failure = failure ?? error
            }
            if !isOpen { failure = failure ?? lostOrFailed(); break }
        }
        _ = PQexitPipelineMode(handle.pointer)
        if let failure = sendFailure ?? failure { throw failure }
        return answers
    }

    /// Parameters bound for libpq: one C buffer each (text NUL-terminated), with lengths and
    /// formats; ``deallocate()`` frees the buffers.
    private struct Bound {
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        private var buffers: [UnsafeMutablePointer<CChar>?] = []

        init(_ parameters: [PostgresValue]) throws(PostgresError) {
            for parameter in parameters {
                switch parameter {
                case .null:
                    buffers.append(nil)
                    lengths.append(0)
                    formats.append(0)
                case .text(let text):
                    let utf8 = Array(text.utf8)
                    guard !utf8.contains(0) else {
                        deallocate()
                        throw PostgresError(.client, message: "a text parameter contains a NUL character, which PostgreSQL text cannot hold")
                    }
                    appendText(utf8)
                case .integer(let value):
                    appendText(Array(String(value).utf8))
                case .uuid(let id):
                    appendText(Array(id.uuidString.utf8))
                case .bytes(let bytes):
                    buffers.append(PostgresConnection.copy(bytes, terminated: false))
                    lengths.append(Int32(bytes.count))
                    formats.append(1)
                }
            }
            pointers = buffers.map { $0.map { UnsafePointer($0) } }
        }

        /// Binds text (without NUL) NUL-terminated, in text format.
        private mutating func appendText(_ utf8: [UInt8]) {
            buffers.append(PostgresConnection.copy(utf8, terminated: true))
            lengths.append(Int32(utf8.count))
            formats.append(0)
        }

        func deallocate() { for buffer in buffers { buffer?.deallocate() } }
    }

    func executeScript(_ script: String) throws(PostgresError) -> PostgresRows {
        Self.sent.add(1, ordering: .relaxed)
        Self.trips.add(1, ordering: .relaxed)
        roundTripsMade += 1
        let result = PQexec(handle.pointer, script)
        defer { PQclear(result) }
        return try rows(of: result)
    }

    /// Runs `COPY … FROM STDIN` for many rows at once: the batch path, several times faster
    /// than one INSERT per row.
    ///
    /// - Parameters:
    ///   - table: The table's name (quoted as an identifier).
    ///   - columns: The columns each row fills, in order.
    ///   - rows: The rows; each has one value per column.
    /// - Returns: How many rows were copied.
    @discardableResult
    public func copy(into table: String, columns: [String], rows: [[PostgresValue]]) async throws -> Int {
        try await cancellable { connection throws(PostgresError) in try connection.copyRows(table, columns, rows) }
    }

    private func copyRows(_ table: String, _ columns: [String], _ rows: [[PostgresValue]]) throws(PostgresError) -> Int {
        let statement = "COPY \(quoteIdentifier(table)) (\(columns.map(quoteIdentifier).joined(separator: ", "))) FROM STDIN"
        let start = PQexec(handle.pointer, statement)
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_IN else { _ = try self.rows(of: start); return 0 }

        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 18)
        var failure: PostgresError?
        func flush() {
            guard !buffer.isEmpty, failure == nil else { return }
            let sent = buffer.withUnsafeBytes { PQputCopyData(handle.pointer, $0.baseAddress, Int32($0.count)) }
            if sent != 1 { failure = lostOrFailed() }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows where failure == nil {
            guard row.count == columns.count else {
                failure = PostgresError(.client, message: "a COPY row has \(row.count) values for \(columns.count) columns")
                break
            }
            CopyText.append(row, to: &buffer)
            if buffer.count >= 1 << 18 { flush() }
        }
        flush()
        let reason = failure.map { _ in "fieldsync aborted the copy" }
        guard PQputCopyEnd(handle.pointer, reason) == 1 else { throw lostOrFailed() }
        var copied = 0
        var serverError: PostgresError?
        while let result = PQgetResult(handle.pointer) {
            defer { PQclear(result) }
            do throws(PostgresError) {
                copied = try self.rows(of: result).affectedRows
            } catch {
                serverError = serverError ?? error
            }
        }
        if let failure { throw failure }
        if let serverError { throw serverError }
        return copied
    }

    private func rows(of result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else { throw lostOrFailed() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let fields = Int(PQnfields(result))
            let tuples = Int(PQntuples(result))
            let columns = (0..<fields).map { String(cString: PQfname(result, Int32($0))) }
            var length = 0
            for row in 0..<Int32(tuples) {
                for column in 0..<Int32(fields) { length += Int(PQgetlength(result, row, column)) }
            }
            var text: [UInt8] = []
            text.reserveCapacity(length)
            var cells: [PostgresRows.Cell] = []
            cells.reserveCapacity(tuples * fields)
            for row in 0..<Int32(tuples) {
                for column in 0..<Int32(fields) {
                    guard PQgetisnull(result, row, column) == 0 else {
                        cells.append(PostgresRows.Cell(start: text.count, length: -1))
                        continue
                    }
                    let count = PQgetlength(result, row, column)
                    cells.append(PostgresRows.Cell(start: text.count, length: count))
                    PQgetvalue(result, row, column).withMemoryRebound(to: UInt8.self, capacity: Int(count)) { value in
                        text.append(contentsOf: UnsafeBufferPointer(start: value, count: Int(count)))
                    }
                }
            }
            return PostgresRows(columns: columns, text: text, cells: cells, rowCount: tuples, affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
        default:
            throw PostgresError.from(result: result, connectionOpen: isOpen)
        }
    }

    /// The error for a call that returned no result: the connection broke, or libpq failed.
    private func lostOrFailed() -> PostgresError {
        let message = String(cString: PQerrorMessage(handle.pointer)).trimmingTrailingNewlines
        return PostgresError(isOpen ? .client : .connectionLost, message: message.isEmpty ? "libpq returned no result" : message)
    }

    fileprivate static func copy(_ bytes: [UInt8], terminated: Bool) -> UnsafeMutablePointer<CChar> {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        bytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(buffer), byteCount: bytes.count)
        }
        if terminated { buffer[bytes.count] = 0 }
        return buffer
    }
}

/// Quotes `name` as a PostgreSQL identifier.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

extension PostgresError {
    /// Classifies a failed connection attempt from libpq's message.
    static func connecting(message raw: String) -> PostgresError {
        let message = raw.trimmingTrailingNewlines
        let code: Code
        if message.contains("Connection refused") || message.contains("No such file or directory") {
            code = .connectionRefused
        } else if message.contains("authentication failed") || message.contains("no pg_hba.conf entry") {
            code = .authenticationFailed
        } else {
            code = .connectionFailed
        }
        return PostgresError(code, message: message)
    }

    /// The error a failed statement's result describes.
    static func from(result: OpaquePointer, connectionOpen: Bool) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let sqlState = field("C")
        let primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines
        let code: Code
        switch sqlState {
        case "57014": code = .cancelled
        case _ where !connectionOpen: code = .connectionLost
        case let state? where state.hasPrefix("08") || state.hasPrefix("57P"): code = .connectionLost
        default: code = .sql
        }
        // Data exceptions (class 22) quote the offending input in their message.
        let safe = sqlState?.hasPrefix("22") == true ? "the server rejected a value as invalid for its type" : primary
        var error = PostgresError(code, message: code == .cancelled ? "the statement was cancelled" : safe, sqlState: sqlState)
        error.serverMessage = primary
        error.table = field("t")
        error.column = field("c")
        error.constraint = field("n")
        return error
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = Substring(self)
        while text.last?.isNewline == true { text = text.dropLast() }
        return String(text)
    }
}

/// Calls `body` with a NULL-terminated C array of C strings.
func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
