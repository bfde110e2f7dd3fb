internal import CSQLite
import Synchronization
import SyncCore

/// One connection to a SQLite database file, in WAL mode.
///
/// The actor owns the `sqlite3*` handle and runs every call on its own ``DedicatedExecutor``, so
/// blocking SQLite calls never occupy Swift's cooperative threads and the handle is never used
/// by two threads at once. Code that needs several statements in a row runs inside
/// ``transaction(_:)``, whose closure is isolated to the actor and so calls the synchronous API
/// without `await`.
///
/// Cancelling the task that awaits ``transaction(_:)`` calls `sqlite3_interrupt` and raises a flag
/// SQLite's progress handler checks: the running (or next) statement stops with ``SQLiteError/Code/cancelled`` and the transaction rolls back.
public actor SQLiteDatabase {
    /// How a connection is opened.
    public struct Options: Sendable {
        /// How long a statement waits for another connection's lock before failing with
        /// ``SQLiteError/Code/busy``.
        public var busyTimeout: Duration = .seconds(5)
        /// Open read-only; the file must exist.
        public var readOnly = false
        /// The most prepared statements kept for reuse; past it the cache starts empty again.
        /// A phone's store runs close to 200 distinct statements over a day (a swarm phone's
        /// peak was 191); at 64 the cache emptied itself every few tables and a swarm seed spent
        /// 5 % of its CPU compiling the same statements again. A compiled statement takes a few
        /// kilobytes, so a full cache stays around a megabyte.
        public var statementCacheMax = 256
        /// How many pages the write-ahead log holds before a background connection copies it into
        /// the database file (SQLite's own threshold: about 4 MB); see ``checkpointsInBackground``.
        public var checkpointPages = 1_000

        /// The defaults: read-write, 5 s busy timeout.
        public init() {}
    }

    /// The C handle, shared with the nonisolated cancellation path.
    /// Set when the task awaiting a transaction is cancelled. SQLite's progress handler reads it
    /// and aborts whatever statement runs, so a cancel that lands between two statements — when
    /// `sqlite3_interrupt` alone would find nothing to interrupt — still stops the next one.
    final class Cancellation: Sendable {
        let requested = Atomic<Bool>(false)
    }

    struct Handle: @unchecked Sendable {
        // Safe: outside the actor only sqlite3_interrupt touches the pointer, which SQLite
        // documents as callable from any thread while another thread runs a statement.
        let pointer: OpaquePointer
    }

    /// What SQLite's hooks report: the tables rows were written to since the last commit, and
    /// the tables the statement being prepared reads. Touched only on the connection's executor,
    /// where SQLite calls its hooks (on the thread running the statement).
    final class Hooks: @unchecked Sendable {
        // Safe: only the actor touches these, and SQLite calls its hooks from inside the statement
        // the actor is running, on the actor's one executor thread; the nonisolated deinit never
        // touches them. The class is shared only as the hooks' context pointer.
        var written: Set<String> = []
        /// The name SQLite passed last: a table's name keeps its address, so a run of rows
        /// written to one table makes one string.
        var lastWritten: UnsafePointer<CChar>?
        var preparing: Set<String>?
    }

    private let executor: DedicatedExecutor
    private let handle: Handle
    /// Checkpoints the log off the writer's path (a file opened read-write only).
    private let checkpointer: WALCheckpointer?
    private let cancellation = Cancellation()
    private let hooks = Hooks()
    private var commitObservers: [UInt64: @Sendable (Set<String>) -> Void] = [:]
    private var generations: [String: UInt64] = [:]
    private var built: [String: UInt64] = [:]
    private var nextObserver: UInt64 = 0
    /// The tables read by the statements run while ``readingTables(_:)`` tracks them.
    private var tracked: Set<String>?
    /// The SQL of every statement prepared while ``recordingSQL(_:)`` runs (for query-plan tests).
    private var recordedSQL: [String]?

    /// Runs `body` and returns the SQL of every statement it ran.
    func recordingSQL(_ body: (isolated SQLiteDatabase) throws -> Void) throws -> [String] {
        recordedSQL = []
        defer { recordedSQL = nil }
        try body(self)
        return recordedSQL ?? []
    }
    private var statements: [SQLiteSQL: SQLiteStatement] = [:]
    private var transactionDepth = 0

    /// The path the database was opened at.
    public nonisolated let path: String

    /// The executor every call of this connection runs on.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens (creating if needed) the database at `path` in WAL mode, with foreign keys on.
    ///
    /// - Parameter path: A file path, or `":memory:"` for a private in-memory database.
    /// - Throws: ``SQLiteError/Code/cannotOpen`` when the file cannot be opened or created,
    ///   ``SQLiteError/Code/corrupt`` when it is not a SQLite database.
    public init(path: String, options: Options = Options()) throws(SQLiteError) {
        var pointer: OpaquePointer?
        let flags = (options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite3_open_v2(path, &pointer, flags, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(pointer)
            throw SQLiteError(.cannotOpen, resultCode: status, message: message)
        }
        let checkpointer: WALCheckpointer?
        do {
            try Self.configure(pointer, path: path, options: options)
            checkpointer = options.readOnly || path == ":memory:" ? nil : try WALCheckpointer(path: path, pages: options.checkpointPages)
        } catch {
            sqlite3_close_v2(pointer)
            throw error
        }
        // Only now, with nothing left to fail, does the actor take ownership: a throw after
        // this point would run the deinit and close the handle a second time.
        self.handle = Handle(pointer: pointer)
        self.checkpointer = checkpointer
        checkpointer?.watch(pointer)
        self.path = path
        self.executor = DedicatedExecutor(label: "fieldsync.sqlite")
        self.statementCacheMax = options.statementCacheMax
        // Every 1,000 virtual-machine steps SQLite asks whether to abort; the context is the flag,
        // which the actor keeps alive for as long as the connection.
        sqlite3_progress_handler(pointer, 1_000, { context in
            guard let context else { return 0 }
            return Unmanaged<Cancellation>.fromOpaque(context).takeUnretainedValue().requested.load(ordering: .relaxed) ? 1 : 0
        }, Unmanaged.passUnretained(cancellation).toOpaque())
        // Every row written to a rowid table names its table (WITHOUT ROWID tables are not
        // reported: see ``noteWritten(_:)``).
        sqlite3_update_hook(pointer, { context, _, _, table, _ in
            guard let context, let table else { return }
            let hooks = Unmanaged<Hooks>.fromOpaque(context).takeUnretainedValue()
            guard hooks.lastWritten != table else { return }
            hooks.lastWritten = table
            hooks.written.insert(String(cString: table))
        }, Unmanaged.passUnretained(hooks).toOpaque())
        // While a statement is prepared, each table it reads is reported once per column it reads
        // (once with an empty column when it reads none, as in `count(*)`).
        sqlite3_set_authorizer(pointer, { context, action, table, _, _, _ in
            guard action == SQLITE_READ, let context, let table else { return SQLITE_OK }
            let hooks = Unmanaged<Hooks>.fromOpaque(context).takeUnretainedValue()
            hooks.preparing?.insert(String(cString: table))
            return SQLITE_OK
        }, Unmanaged.passUnretained(hooks).toOpaque())
    }

    private static func configure(_ pointer: OpaquePointer, path: String, options: Options) throws(SQLiteError) {
        let timeout = options.busyTimeout.components
        sqlite3_busy_timeout(pointer, Int32(clamping: timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000))
        // WAL: readers never block the writer; NORMAL is durable against process crashes in
        // WAL mode (only an OS crash can lose the last commits).
        if !options.readOnly && path != ":memory:" {
            try exec(pointer, "PRAGMA journal_mode = WAL")
        }
        try exec(pointer, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        // Reading the schema fails on a file that is not a database.
        try exec(pointer, "SELECT count(*) FROM sqlite_schema")
    }

    private let statementCacheMax: Int

    // Not an isolated deinit: with one, a module that makes an SQLiteDatabase failed to compile
    // in release builds (Swift 6.3: "circular reference"). sqlite3_close_v2 makes the connection
    // a zombie that closes once the cached statements, released right after, are finalized.
    deinit {
        checkpointer?.close()
        sqlite3_close_v2(handle.pointer)
    }

    /// How many times past ``Options/checkpointPages`` the log may grow while the background
    /// checkpoint lags before a commit checkpoints on the writer's connection after all.
    public static let checkpointLagMax = 4

    /// How many checkpoints the background connection has run (``Options/checkpointPages``).
    public nonisolated var checkpointsInBackground: Int { checkpointer?.runs.load(ordering: .relaxed) ?? 0 }

    /// Runs one or more SQL statements separated by semicolons, without parameters or results
    /// (schema changes, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        try Self.exec(handle.pointer, sql)
    }

    /// A prepared statement for `sql`, from the cache when it was prepared before.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try prepare(SQLiteSQL(sql))
    }

    /// How many statements this connection has compiled: the statement cache's misses. In a loop
    /// that runs the same statements it stops growing, unless the cache is smaller than the loop.
    public private(set) var statementsCompiled = 0

    /// A prepared statement for `sql`, from the cache when it was prepared before; the form for
    /// SQL run many times, whose text is hashed once, when the ``SQLiteSQL`` is made.
    public func prepare(_ sql: SQLiteSQL) throws(SQLiteError) -> SQLiteStatement {
        recordedSQL?.append(sql.text)
        if let cached = statements[sql] {
            tracked?.formUnion(cached.tablesRead)
            return cached
        }
        hooks.preparing = []
        defer { hooks.preparing = nil }
        let statement = try SQLiteStatement(database: handle.pointer, sql: sql.text)
        statementsCompiled += 1
        statement.tablesRead = hooks.preparing ?? []
        tracked?.formUnion(statement.tablesRead)
        if statements.count >= statementCacheMax { statements.removeAll(keepingCapacity: true) }
        statements[sql] = statement
        return statement
    }

    // MARK: Observation

    /// Runs `body` and returns, with its result, the tables its statements read: what a change
    /// must touch for the result to change.
    public func readingTables<T>(_ body: (isolated SQLiteDatabase) throws -> T) throws -> (value: T, tables: Set<String>) {
        let outer = tracked
        tracked = []
        defer { tracked = outer.map { $0.union(tracked ?? []) } }
        let value = try body(self)
        return (value, tracked ?? [])
    }

    /// Calls `observer` after every commit with the tables it wrote, on the connection's
    /// executor: the observer must return at once (hand the news to a task). Returns the token
    /// that ``removeCommitObserver(_:)`` takes.
    public func addCommitObserver(_ observer: @escaping @Sendable (Set<String>) -> Void) -> UInt64 {
        nextObserver += 1
        commitObservers[nextObserver] = observer
        return nextObserver
    }

    /// Stops calling an observer.
    public func removeCommitObserver(_ token: UInt64) {
        commitObservers[token] = nil
    }

    /// How many commit observers are registered.
    public var commitObserverCount: Int { commitObservers.count }

    /// Reports `table` as written in the open transaction: for `WITHOUT ROWID` tables, whose
    /// writes SQLite's update hook does not report.
    public func noteWritten(_ table: String) {
        hooks.written.insert(table)
    }

    /// Hands the tables written since the last commit to the observers.
    private func committed() {
        let written = hooks.written
        hooks.written = []
        hooks.lastWritten = nil
        guard !written.isEmpty else { return }
        for table in written { generations[table, default: 0] += 1 }
        for observer in commitObservers.values { observer(written) }
    }

    /// How many commits have written `table` since the connection opened: what derived data (a
    /// search index) compares with the generation it was built from.
    public func generation(of table: String) -> UInt64 { generations[table] ?? 0 }

    /// The generation of `table` that `derived` was last built from on this connection, if any.
    public func builtGeneration(of derived: String) -> UInt64? { built[derived] }

    /// Records that `derived` was built from `generation`.
    public func setBuiltGeneration(of derived: String, _ generation: UInt64) { built[derived] = generation }

    /// Runs a statement that returns no rows.
    /// - Returns: How many rows it inserted, updated or deleted.
    @discardableResult
    public func run(_ sql: String, _ values: [any SQLiteBindable] = []) throws(SQLiteError) -> Int {
        try prepare(sql).run(values)
    }

    /// Runs a query and returns all its rows.
    public func query(_ sql: String, _ values: [any SQLiteBindable] = []) throws(SQLiteError) -> [SQLiteRow] {
        try prepare(sql).rows(values)
    }

    /// The rowid of the last row inserted through this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle.pointer) }

    /// Whether a transaction (of any depth) is open.
    public var isInTransaction: Bool { transactionDepth > 0 }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// Nested calls (from inside `body`) become savepoints, so an inner failure rolls back only
    /// the inner work when the outer body catches it. The outermost level takes the write lock
    /// at once (`BEGIN IMMEDIATE`), which avoids the deadlock of two readers both upgrading.
    /// Cancelling the awaiting task interrupts the running statement and rolls back.
    @discardableResult
    public func transaction<T: Sendable>(
        _ body: @Sendable (isolated SQLiteDatabase) throws -> T
    ) async throws -> T {
        let handle = self.handle
        let cancellation = self.cancellation
        return try await withTaskCancellationHandler {
            // A cancel that already happened is seen by inTransaction's check; one that happens
            // from here on sets the flag again.
            cancellation.requested.store(false, ordering: .relaxed)
            return try self.inTransaction(body)
        } onCancel: {
            cancellation.requested.store(true, ordering: .relaxed)
            sqlite3_interrupt(handle.pointer)
        }
    }

    /// The synchronous form of ``transaction(_:)``, for code already running on the actor.
    @discardableResult
    public func inTransaction<T>(_ body: (isolated SQLiteDatabase) throws -> T) throws -> T {
        if Task.isCancelled {
            throw SQLiteError(.cancelled, message: "the task was cancelled before the transaction began")
        }
        let depth = transactionDepth
        try execute(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT fieldsync_\(depth)")
        transactionDepth += 1
        do {
            let result = try body(self)
            transactionDepth -= 1
            try execute(depth == 0 ? "COMMIT" : "RELEASE fieldsync_\(depth)")
            if depth == 0 { committed() }
            return result
        } catch {
            transactionDepth = depth
            // The rollback itself must run to the end, cancelled or not.
            cancellation.requested.store(false, ordering: .relaxed)
            if depth == 0 {
                try? execute("ROLLBACK")
                hooks.written = []
                hooks.lastWritten = nil
            } else {
                try? execute("ROLLBACK TO fieldsync_\(depth); RELEASE fieldsync_\(depth)")
            }
            throw error
        }
    }

    private static func exec(_ pointer: OpaquePointer, _ sql: String) throws(SQLiteError) {
        let status = sqlite3_exec(pointer, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw SQLiteError.from(status: status, database: pointer) }
    }
}

/// SQL text with its hash computed once: the key of the statement cache. Code that runs the same
/// long statement for every row (the store's per-table upserts and reads) keeps one and so never
/// hashes the text again.
public struct SQLiteSQL: Hashable, Sendable {
    /// The statement's text.
    public let text: String
    private let hash: Int

    /// The statement `text`.
    public init(_ text: String) {
        self.text = text
        hash = text.hashValue
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    public static func == (lhs: SQLiteSQL, rhs: SQLiteSQL) -> Bool { lhs.hash == rhs.hash && lhs.text == rhs.text }
}
