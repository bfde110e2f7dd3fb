import SyncCore

/// The sync status an app shows: what the sync loop is doing, what waits to go up, when the
/// phone last pushed and pulled, what the rep must look at, and when the loop tries again.
///
/// The sync loop reports itself (``DeviceStore/reportSync(_:)``, which `SyncClient` calls); the
/// queues and outcomes are read from the store. The status is a ``DeviceQuery``, so an app
/// observes it like any other read; the loop's reports live in `store_meta` (keys `sync_*`), so
/// another process sees them too.
extension DeviceStore {
    /// What the sync loop is doing.
    public enum SyncActivity: String, Sendable, Hashable, CaseIterable {
        /// Not syncing.
        case idle
        /// Uploading the outbox.
        case pushing
        /// Pulling the buckets.
        case pulling
        /// Uploading the bytes of photos and signatures.
        case uploading
        /// Waiting before it tries again (see ``SyncStatus/nextRetryAt``).
        case waiting
    }

    /// What the sync loop tells the store about itself.
    public enum SyncEvent: Sendable, Hashable {
        /// It started a step.
        case started(SyncActivity)
        /// The outbox was pushed and answered, up to what was in it.
        case pushed
        /// Every bucket was pulled up to date.
        case pulled
        /// It waits this many milliseconds before trying again, for this reason.
        case waiting(milliseconds: Int64, reason: String)
        /// The sync ended well.
        case finished
        /// The sync stopped with this error; `reachable` is whether the server answered at all.
        case failed(String, reachable: Bool)
    }

    /// The status, as an app shows it.
    public struct SyncStatus: Sendable, Hashable {
        /// What the sync loop is doing.
        public var activity: SyncActivity
        /// Whether the server answered the last request: `nil` before any sync, `false` when the
        /// phone is offline (no answer after every retry).
        public var reachable: Bool?
        /// Change sets waiting in the outbox, and photos and signatures waiting to upload.
        public var pendingChangeSets: Int
        /// See ``pendingChangeSets``.
        public var pendingAttachments: Int
        /// When the outbox was last pushed and answered, and the buckets last pulled up to date
        /// (device milliseconds since the epoch).
        public var lastPushAt: Int64?
        /// See ``lastPushAt``.
        public var lastPullAt: Int64?
        /// Why the last sync stopped, if it did not end well.
        public var lastError: String?
        /// When the loop tries again, while ``activity`` is ``SyncActivity/waiting``.
        public var nextRetryAt: Int64?
        /// The newest change the server refused or flagged: what the rep must see.
        public var attention: StoredOutcome?
    }

    /// Records what the sync loop is doing (in `store_meta`, so that another process watching
    /// the store sees it).
    public func reportSync(_ event: SyncEvent) async throws {
        let now = Int64(wallClock.now())
        var set: [(String, any SQLiteBindable & Sendable)] = []
        var clear: [String] = []
        switch event {
        case .started(let activity):
            set = [("sync_activity", activity.rawValue)]
            clear = ["sync_retry_at"]
        case .pushed:
            set = [("sync_last_push", now), ("sync_reachable", Int64(1))]
        case .pulled:
            set = [("sync_last_pull", now), ("sync_reachable", Int64(1))]
        case .waiting(let milliseconds, let reason):
            // The wait may come from the server: no value of it may trap the phone.
            let (retryAt, overflow) = now.addingReportingOverflow(milliseconds)
            set = [("sync_activity", SyncActivity.waiting.rawValue), ("sync_retry_at", overflow ? Int64.max : retryAt), ("sync_error", reason)]
        case .finished:
            set = [("sync_activity", SyncActivity.idle.rawValue), ("sync_reachable", Int64(1))]
            clear = ["sync_retry_at", "sync_error"]
        case .failed(let error, let reachable):
            set = [("sync_activity", SyncActivity.idle.rawValue), ("sync_reachable", Int64(reachable ? 1 : 0)), ("sync_error", error)]
            clear = ["sync_retry_at"]
        }
        try await database.transaction { [set, clear] db in
            for (key, value) in set { try db.run("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", [key, value]) }
            for key in clear { try db.run("DELETE FROM store_meta WHERE key = ?", [key]) }
            db.noteWritten("store_meta")  // a WITHOUT ROWID table: SQLite's update hook does not see it
        }
    }

    /// The sync status now.
    public func syncStatus() async throws -> SyncStatus {
        try await read(.syncStatus)
    }
}

extension DeviceQuery where Value == DeviceStore.SyncStatus {
    /// The sync status: the loop's last reports, the outbox and upload queues, and the newest
    /// refused or flagged change.
    public static var syncStatus: Self {
        Self { db, _ in
            var meta: [String: SQLiteValue] = [:]
            for row in try db.query("SELECT key, value FROM store_meta WHERE key >= 'sync_' AND key < 'sync`'") {
                meta[try row.read(0, as: String.self)] = row.values[1]
            }
            func integer(_ key: String) -> Int64? { if case .integer(let value)? = meta[key] { value } else { nil } }
            func text(_ key: String) -> String? { if case .text(let value)? = meta[key] { value } else { nil } }
            let counts = try db.query("""
                SELECT (SELECT count(*) FROM outbox),
                       (SELECT count(*) FROM attachment_bytes WHERE upload = 'waiting' AND bytes IS NOT NULL)
                """)[0]
            let attention = try db.query("""
                SELECT \(DeviceStore.StoredOutcome.columns) FROM outcomes WHERE result IN ('rejected', 'applied_with_exception')
                ORDER BY received_at DESC, change_id LIMIT 1
                """).first.map(DeviceStore.StoredOutcome.init(row:))
            return DeviceStore.SyncStatus(
                activity: text("sync_activity").flatMap(DeviceStore.SyncActivity.init(rawValue:)) ?? .idle,
                reachable: integer("sync_reachable").map { $0 != 0 },
                pendingChangeSets: try counts.read(0, as: Int.self), pendingAttachments: try counts.read(1, as: Int.self),
                lastPushAt: integer("sync_last_push"), lastPullAt: integer("sync_last_pull"), lastError: text("sync_error"),
                nextRetryAt: integer("sync_retry_at"), attention: attention)
        }
    }
}
