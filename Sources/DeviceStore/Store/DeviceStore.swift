public import SyncCore
import SyncWire
import FieldModel
import Synchronization

/// The phone's replica: a SQLite file holding the user's working set, the outbox of change sets
/// not yet answered by the server, bucket cursors, the outcome of every pushed change, the
/// conflicts that touched this device, and the device's clock.
///
/// Every action a rep or technician takes (``checkIn(visit:fix:photos:)`` and the rest) is one
/// SQLite transaction that merges the edit locally — with the same merge the server uses — and
/// appends exactly one change set to the outbox. Applying what the server sends is likewise one
/// transaction per page, so a crash leaves the store as before or after, never between.
public final class DeviceStore: Sendable {
    /// How a store reads time and makes randomness; injected so that simulations replay exactly.
    public struct Options: Sendable {
        /// Where "now" comes from.
        public var wallClock: any WallClock
        /// The seed for record and change ids; `nil` for system randomness.
        public var seed: UInt64?
        /// How many bytes of photos and signatures the phone keeps once the server holds them;
        /// past it, the least recently used are dropped (and fetched again on demand). Bytes not
        /// yet uploaded are kept whatever the budget.
        public var attachmentBudgetBytes: Int64
        /// How long a change set the server answered is kept, to be uploaded again should the
        /// server's database be restored from a backup older than its answer (OPERATIONS.md keeps
        /// backups younger than this); 14 days by default.
        public var answeredKeepMilliseconds: Int64

        /// Creates options.
        public init(wallClock: any WallClock = SystemWallClock(), seed: UInt64? = nil, attachmentBudgetBytes: Int64 = 256 << 20,
                    answeredKeepMilliseconds: Int64 = 14 * 86_400_000) {
            self.wallClock = wallClock
            self.seed = seed
            self.attachmentBudgetBytes = attachmentBudgetBytes
            self.answeredKeepMilliseconds = answeredKeepMilliseconds
        }
    }

    /// The SQLite connection.
    let database: SQLiteDatabase
    let schema: DeviceSchema
    let wallClock: any WallClock
    let random: Mutex<SplitMix64>
    /// See ``Options/attachmentBudgetBytes``.
    let attachmentBudgetBytes: Int64
    /// See ``Options/answeredKeepMilliseconds``.
    let answeredKeepMilliseconds: Int64

    private init(database: SQLiteDatabase, options: Options) {
        self.database = database
        self.schema = DeviceSchema(FieldSalesSchema.schema)
        self.wallClock = options.wallClock
        self.attachmentBudgetBytes = options.attachmentBudgetBytes
        self.answeredKeepMilliseconds = options.answeredKeepMilliseconds
        var system = SystemRandomNumberGenerator()
        self.random = Mutex(SplitMix64(seed: options.seed ?? system.next()))
    }

    /// Opens the store at `path`, creating it or migrating it forward as needed.
    /// - Throws: ``StoreError/Code/newerStore`` for a file written by a newer app;
    ///   ``StoreError/Code/storage`` when SQLite cannot open it.
    public static func open(path: String, options: Options = Options()) async throws -> DeviceStore {
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path)
        } catch {
            throw StoreError(.storage, "the store could not be opened", underlying: error)
        }
        let store = DeviceStore(database: database, options: options)
        let installation = store.random.withLock { RecordID.make(milliseconds: options.wallClock.now(), using: &$0) }
        let schema = store.schema
        try await database.transaction { db in
            let version = try db.query("PRAGMA user_version")[0].read(0, as: Int.self)
            if version == 0 {
                try db.execute(schema.creationSQL)
                try db.run("INSERT INTO store_meta (key, value) VALUES ('installation', ?), ('clock', 0)", [installation.bytes])
            } else if version > DeviceSchema.version {
                throw StoreError(.newerStore, "the store is at version \(version); this app knows up to \(DeviceSchema.version)")
            } else {
                for step in DeviceSchema.migrations[(version - 1)...] { try db.execute(step) }
            }
            try db.execute("PRAGMA user_version = \(DeviceSchema.version)")
        }
        return store
    }

    /// The store's schema version (SQLite's `user_version`).
    public func version() async throws -> Int {
        try await database.query("PRAGMA user_version")[0].read(0, as: Int.self)
    }

    // MARK: Identity

    /// Who this install is and acts as, once registered.
    public struct Identity: Sendable, Hashable {
        /// The install's id, made when the store was created.
        public var installation: RecordID
        /// The replica number the server gave it.
        public var replica: ReplicaID?
        /// The user signed in.
        public var user: RecordID?
        /// The user's role.
        public var role: Role?
    }

    /// This install's identity.
    public func identity() async throws -> Identity {
        try await database.transaction { db in try Self.identity(in: db) }
    }

    static func identity(in db: isolated SQLiteDatabase) throws -> Identity {
        var meta: [String: SQLiteValue] = [:]
        for row in try db.query("SELECT key, value FROM store_meta") { meta[try row.read(0, as: String.self)] = row.values[1] }
        func id(_ key: String) -> RecordID? { if case .blob(let bytes)? = meta[key] { return RecordID(bytes: bytes) } else { return nil } }
        var identity = Identity(installation: id("installation")!)
        if case .integer(let replica)? = meta["replica"] { identity.replica = ReplicaID(UInt32(replica)) }
        identity.user = id("user")
        if case .text(let role)? = meta["role"] { identity.role = Role(role) }
        return identity
    }

    /// The user signed in on this install.
    /// - Throws: ``StoreError/Code/notRegistered`` before anyone signed in.
    static func signedInUser(in db: isolated SQLiteDatabase) throws -> RecordID {
        guard let user = try identity(in: db).user else { throw StoreError(.notRegistered, "no user is signed in") }
        return user
    }

    /// Records the registration: the replica number from the server, the user and role, and the
    /// server's clock (the device's clock moves past it).
    public func register(replica: ReplicaID, user: RecordID, role: Role, serverClock: HLC) async throws {
        let wall = wallClock.now()
        try await database.transaction { db in
            try db.run("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('replica', ?), ('user', ?), ('role', ?)",
                       [Int64(replica.rawValue), user.bytes, role.name])
            var clock = try Self.clock(in: db)
            clock.receive(serverClock, wallMilliseconds: wall)
            try Self.save(clock, in: db)
        }
    }

    static func clock(in db: isolated SQLiteDatabase) throws -> HybridClock {
        let raw = try db.query("SELECT value FROM store_meta WHERE key = 'clock'")[0].read(0, as: Int64.self)
        return HybridClock(last: HLC(rawValue: UInt64(bitPattern: raw)))
    }

    static func save(_ clock: HybridClock, in db: isolated SQLiteDatabase) throws {
        try db.run("UPDATE store_meta SET value = ? WHERE key = 'clock'", [Int64(bitPattern: clock.last.rawValue)])
    }

    /// The device's clock.
    public func clock() async throws -> HLC {
        try await database.transaction { db in try Self.clock(in: db).last }
    }

    // MARK: Local actions

    /// Runs one local action: `body` makes its writes through the session, all in one SQLite
    /// transaction, and the writes become one change set in the outbox. A throw changes nothing.
    ///
    /// - Returns: What `body` returned, and the change set (`nil` when the action wrote nothing).
    func act<T: Sendable>(_ body: @escaping @Sendable (inout LocalSession, Identity, isolated SQLiteDatabase) throws -> T) async throws -> (T, ChangeSet?) {
        let wall = wallClock.now()
        let seed = random.withLock { $0.next() }
        let schema = self.schema
        return try await database.transaction { db in
            let identity = try Self.identity(in: db)
            guard let replica = identity.replica else {
                throw StoreError(.notRegistered, "register with the server before recording actions")
            }
            var session = LocalSession(schema: schema, replica: replica, role: identity.role, wall: wall, clock: try Self.clock(in: db), random: SplitMix64(seed: seed))
            let result = try body(&session, identity, db)
            guard !session.changes.isEmpty else { return (result, nil) }
            let changeSet = ChangeSet(id: ChangeID(session.newID()), changes: session.changes)
            try db.run("INSERT INTO outbox (change_set_id, body, created_at) VALUES (?, ?, ?)",
                       [changeSet.id.uuid.bytes, BinaryEncoder.encode(changeSet), Int64(wall)])
            let seq = db.lastInsertRowID
            for change in changeSet.changes {
                try db.run("INSERT OR IGNORE INTO outbox_rows (seq, tbl, id) VALUES (?, ?, ?)", [seq, change.table, change.record.bytes])
            }
            try Self.save(session.clock, in: db)
            return (result, changeSet)
        }
    }

    /// A record's merged state, or `nil` when the device does not have it.
    public func record(_ table: String, _ id: RecordID) async throws -> RecordState? {
        let schema = self.schema
        return try await database.transaction { db in try schema.read(table, id, in: db) }
    }
}

extension DeviceStore {
    /// Folds the write-ahead log into the database file, so that the file alone is the whole
    /// store (before copying it, or when the app goes to the background).
    public func checkpoint() async throws {
        try await database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
