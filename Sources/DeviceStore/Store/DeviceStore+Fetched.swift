import SyncCore
public import SyncWire

/// Records fetched on demand: an old visit or order the rep opens, which the phone's window no
/// longer keeps (the server retired it; see `PhoneWindow` in SyncCore). They are kept in
/// `fetched_rows` though no bucket holds them, merged like any row, and released after a while
/// (``releaseFetched(olderThan:)``), never while one of their changes waits for its answer.
extension DeviceStore {
    /// Keeps records the server sent in a `fetch_response`: each is merged into the phone's row
    /// (or written) and marked fetched, in one transaction.
    public func keepFetched(_ snapshots: [RecordSnapshot]) async throws {
        let wall = Int64(wallClock.now())
        let schema = self.schema
        try await database.transaction { db in
            var clock = try Self.clock(in: db)
            for snapshot in snapshots {
                try schema.merge(snapshot, clock: &clock, wall: wall, in: db)
                try db.run("INSERT OR REPLACE INTO fetched_rows (tbl, id, fetched_at) VALUES (?, ?, ?)", [snapshot.ref.table, snapshot.ref.record.bytes, wall])
                db.noteWritten("fetched_rows")
            }
            try Self.save(clock, in: db)
        }
    }

    /// The records fetched on demand that the phone still keeps, as (table, id), sorted.
    public func fetchedRows() async throws -> [RecordRef] {
        try await database.query("SELECT tbl, id FROM fetched_rows ORDER BY tbl, id").map {
            RecordRef(table: try $0.read(0, as: String.self), record: RecordID(bytes: try $0.read(1, as: [UInt8].self))!)
        }
    }

    /// Lets go of records fetched more than `age` milliseconds ago (by the store's clock): each is
    /// deleted unless a bucket holds it again or one of its changes waits for an answer (it is
    /// released by a later call). Returns how many were deleted.
    @discardableResult
    public func releaseFetched(olderThan age: Int64) async throws -> Int {
        let schema = self.schema
        let cutoff = Int64(wallClock.now()) - age
        return try await database.transaction { db in
            let due = try db.query("SELECT tbl, id FROM fetched_rows WHERE fetched_at < ?", [cutoff])
            var released = 0
            for row in due {
                let table = try row.read(0, as: String.self)
                let id = RecordID(bytes: try row.read(1, as: [UInt8].self))!
                guard try db.query("SELECT 1 FROM outbox_rows WHERE tbl = ? AND id = ? LIMIT 1", [table, id.bytes]).isEmpty else { continue }
                try db.run("DELETE FROM fetched_rows WHERE tbl = ? AND id = ?", [table, id.bytes])
                db.noteWritten("fetched_rows")
                let held = try db.query("SELECT 1 FROM row_buckets r JOIN bucket_cursors c ON c.bucket = r.bucket WHERE r.tbl = ? AND r.id = ? LIMIT 1",
                                        [table, id.bytes])
                guard held.isEmpty else { continue }
                try schema.collectIfOrphaned(table, id, in: db)
                released += 1
            }
            return released
        }
    }
}
