import SyncCore
import Synchronization

extension DeviceStore {
    /// Deletes the replica, as a wiped device does (issue 21, item 3) once its outbox is empty:
    /// every record, bucket, cursor, outcome and attachment's bytes goes, and the store starts
    /// again as a new installation (a new id), registered to nobody.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` while changes wait in the outbox: what the
    ///   phone still holds goes up first.
    public func erase() async throws {
        let installation = random.withLock { RecordID.make(milliseconds: wallClock.now(), using: &$0) }
        try await database.transaction { db in
            guard try db.query("SELECT count(*) FROM outbox")[0].read(0, as: Int.self) == 0 else {
                throw StoreError(.invalidArgument, "changes wait in the outbox: push them before the replica is deleted")
            }
            let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                .map { try $0.read(0, as: String.self) }
            for table in tables { try db.run("DELETE FROM \"\(table)\"") }
            try db.run("INSERT INTO store_meta (key, value) VALUES ('installation', ?), ('clock', 0)", [installation.bytes])
        }
    }
}
