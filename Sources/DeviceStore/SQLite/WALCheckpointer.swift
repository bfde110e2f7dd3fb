internal import CSQLite
import Dispatch
import Synchronization

/// Copies a database's write-ahead log into the database file on a connection and a thread of
/// its own, so that no commit waits for it.
///
/// SQLite's automatic checkpoint runs inside the commit that fills the log past its threshold:
/// that commit writes about 4 MB into the database file and syncs it before it returns, and a
/// phone's sync, or a rep's tap, waits 10–20 ms for it now and then. Here the writer's
/// connection only reports the log's size after each commit (SQLite's WAL hook, which replaces
/// the automatic checkpoint); past ``SQLiteDatabase/Options/checkpointPages`` this connection
/// runs a passive checkpoint in the background, which copies what it can without waiting for
/// readers or the writer. Should the log still grow to ``SQLiteDatabase/checkpointLagMax`` times
/// the threshold (a checkpoint that cannot keep up), the writer checkpoints itself, as SQLite
/// would, so the log stays bounded.
final class WALCheckpointer: Sendable {
    private struct Connection: @unchecked Sendable {
        // Safe: used only on `queue`, one call at a time.
        let pointer: OpaquePointer
    }

    private let connection: Connection
    private let queue = DispatchQueue(label: "fieldsync.sqlite.checkpoint", qos: .utility)
    private let scheduled = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// The log's size, in pages, past which a checkpoint starts.
    let pages: Int
    /// How many checkpoints this connection has run.
    let runs = Atomic<Int>(0)

    /// Opens a second connection to the database at `path` (already in WAL mode).
    init(path: String, pages: Int) throws(SQLiteError) {
        var pointer: OpaquePointer?
        let status = sqlite3_open_v2(path, &pointer, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(pointer)
            throw SQLiteError(.cannotOpen, resultCode: status, message: message)
        }
        // As durable as the writer's connection: the log is synced before a checkpoint, the
        // database file after one.
        sqlite3_exec(pointer, "PRAGMA synchronous = NORMAL", nil, nil, nil)
        connection = Connection(pointer: pointer)
        self.pages = max(1, pages)
    }

    /// Installs the WAL hook on the writer's connection `writer`, replacing its automatic
    /// checkpoint. The writer's connection must close after ``close()``.
    func watch(_ writer: OpaquePointer) {
        // A log that grew while the checkpoint lagged is cut back when it starts over (a frame
        // is a page and a 24-byte header).
        sqlite3_exec(writer, "PRAGMA journal_size_limit = \(pages * (Self.pageSize(writer) + 24))", nil, nil, nil)
        sqlite3_wal_hook(writer, { context, writer, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(pages: Int(pages), writer: writer)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The database's page size on `connection`, in bytes (SQLite's default, 4,096, should the
    /// pragma not answer).
    private static func pageSize(_ connection: OpaquePointer) -> Int {
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        guard sqlite3_prepare_v2(connection, "PRAGMA page_size", -1, &statement, nil) == SQLITE_OK,
              sqlite3_step(statement) == SQLITE_ROW else { return 4_096 }
        return Int(sqlite3_column_int64(statement, 0))
    }

    /// After a commit on `writer` left `pages` pages in the log.
    private func committed(pages: Int, writer: OpaquePointer?) {
        if pages >= self.pages * SQLiteDatabase.checkpointLagMax, let writer {
            // The background cannot keep up: the writer copies what it can itself.
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        guard pages >= self.pages, !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            defer { scheduled.store(false, ordering: .releasing) }
            guard !closed.load(ordering: .acquiring) else { return }
            // Passive: copies the frames no reader still needs, waiting for nobody. The next
            // commit after a complete copy starts the log over from its beginning.
            sqlite3_wal_checkpoint_v2(connection.pointer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            runs.add(1, ordering: .relaxed)
        }
    }

    /// Waits for a checkpoint under way and closes the connection; nothing runs after.
    func close() {
        queue.sync {
            closed.store(true, ordering: .releasing)
            sqlite3_close_v2(connection.pointer)
        }
    }
}
