public import SyncWire
import SyncCore

/// Restores the phone survives (issue 21, item 4; `SyncProtocol/guarantees.md`, "Restores").
///
/// The server names each life of its database with a ``Generation`` and says it in every register
/// and pull answer. The store keeps the one its cursors and answers belong to, and every change
/// set the server answered for ``Options/answeredKeepMilliseconds``. When an answer carries
/// another generation, the server may have lost what it answered since its backup, and the
/// cursors point into a feed that no longer exists: ``meet(_:)`` puts every kept change set back
/// in the outbox, before those still waiting and in the order they were written, starts every
/// bucket over from a snapshot, and offers again every photo's and signature's bytes it still holds. The client then registers again (taking its replica number back),
/// uploads the outbox — the server answers what it still holds from its record, and applies the
/// rest once — and re-primes.
extension DeviceStore {
    /// The generation of the server the store last synced with, `nil` before its first answer.
    public func generation() async throws -> Generation? {
        try await database.query("SELECT value FROM store_meta WHERE key = 'generation'").first
            .flatMap { Generation(rawValue: try $0.read(0, as: String.self)) }
    }

    /// What ``meet(_:)`` found.
    public enum GenerationMeeting: Sendable, Hashable {
        /// The generation the store holds (or its first: now held).
        case same
        /// Another one: `requeued` answered change sets went back in the outbox and every bucket
        /// starts over. Register again, push, then pull.
        case changed(requeued: Int)
    }

    /// Takes note of the generation a server answered in (see the extension's overview).
    ///
    /// All in one transaction: a crash leaves either the old generation with nothing changed, or
    /// the new one with the outbox refilled and every cursor at 0.
    @discardableResult
    public func meet(_ generation: Generation) async throws -> GenerationMeeting {
        let schema = self.schema
        return try await database.transaction { db in
            let held = try db.query("SELECT value FROM store_meta WHERE key = 'generation'").first.map { try $0.read(0, as: String.self) }
            try db.run("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('generation', ?)", [generation.rawValue])
            guard let held, held != generation.rawValue else { return .same }
            // What the server answered goes back in the outbox, under its first sequence: before
            // what still waits, in the order it was written.
            let requeued = try db.query("""
                SELECT seq, body FROM answered_change_sets WHERE change_set_id NOT IN (SELECT change_set_id FROM outbox) ORDER BY seq
                """)
            for row in requeued {
                let seq = try row.read(0, as: Int64.self)
                try db.run("INSERT INTO outbox (seq, change_set_id, body, created_at) SELECT seq, change_set_id, body, created_at FROM answered_change_sets WHERE seq = ?", [seq])
                let changeSet = try BinaryDecoder.decode(ChangeSet.self, from: try row.read(1, as: [UInt8].self))
                for change in changeSet.changes {
                    try db.run("INSERT OR IGNORE INTO outbox_rows (seq, tbl, id) VALUES (?, ?, ?)", [seq, change.table, change.record.bytes])
                }
            }
            try db.run("DELETE FROM answered_change_sets")
            // Every bucket starts over: its rows are forgotten and its cursor goes back to 0. Rows
            // with changes in the outbox stay where they are until the snapshot brings the
            // server's word on them: were they collected once their changes are answered, before
            // the snapshot, the bytes of a photo among them would go too.
            let unsent = "NOT EXISTS (SELECT 1 FROM outbox_rows o WHERE o.tbl = row_buckets.tbl AND o.id = row_buckets.id)"
            try schema.collectOrphans(among: "SELECT tbl, id FROM row_buckets WHERE \(unsent)", in: db) {
                try db.run("DELETE FROM row_buckets WHERE \(unsent)")
            }
            try db.run("UPDATE bucket_cursors SET sequence = 0, resume_tbl = NULL, resume_id = NULL")
            // Bytes the server held may be gone with the rest: every photo and signature whose record
            // the phone holds goes up again, each asked about first, so the server's copies are not
            // sent twice. (Bytes without their record stay as they are: nothing here says whose they are.)
            try db.run("""
                UPDATE attachment_bytes SET upload = 'waiting', attempts = 0, not_before = 0, last_error = NULL
                WHERE upload = 'uploaded' AND bytes IS NOT NULL AND EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_bytes.sha256 AND a._deleted = 0)
                """)
            return .changed(requeued: requeued.count)
        }
    }
}
