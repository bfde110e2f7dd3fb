public import SyncCore

/// The bytes of photos and signatures on the phone: kept with their record, handed to the upload
/// once the record's change set is answered, evicted under a storage budget once the server has
/// them, and kept again when fetched on demand.
///
/// The table `attachment_bytes` is the phone's own (never synced): one row per SHA-256, its bytes
/// (`NULL` once evicted), its upload state (`waiting`, `uploaded`, `refused`), the attempts and
/// last error, the earliest time to try again, and when it was last used.
extension DeviceStore {
    /// One blob whose upload is due.
    public struct DueUpload: Sendable, Hashable {
        /// The bytes' SHA-256, their name on the server.
        public var sha256: String
        /// The media type.
        public var mediaType: String
        /// How many bytes.
        public var sizeBytes: Int64
        /// Attempts so far.
        public var attempts: Int
    }

    /// Blobs to upload now: waiting, not told to wait longer, and named by an attachment whose
    /// change set the server has answered (so the upload completes a record the server holds).
    public func dueUploads(limit: Int = 100) async throws -> [DueUpload] {
        let now = Int64(wallClock.now())
        return try await database.transaction { db in
            try db.query("""
                SELECT b.sha256, b.media_type, b.size_bytes, b.attempts FROM attachment_bytes b
                WHERE b.upload = 'waiting' AND b.not_before <= ? AND b.bytes IS NOT NULL
                  AND EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256 AND a._deleted = 0
                              AND NOT EXISTS (SELECT 1 FROM outbox_rows o WHERE o.tbl = 'attachments' AND o.id = a.id))
                ORDER BY b.rowid LIMIT ?
                """, [now, Int64(limit)]).map {
                DueUpload(sha256: try $0.read(0), mediaType: try $0.read(1), sizeBytes: try $0.read(2), attempts: try $0.read(3))
            }
        }
    }

    /// The bytes named `sha256`, if the phone holds them (marking them used, for eviction).
    public func attachmentBytes(sha256: String) async throws -> [UInt8]? {
        let now = Int64(wallClock.now())
        return try await database.transaction { db in
            guard let row = try db.query("SELECT bytes FROM attachment_bytes WHERE sha256 = ? AND bytes IS NOT NULL", [sha256]).first else { return nil }
            try db.run("UPDATE attachment_bytes SET used_at = ? WHERE sha256 = ?", [now, sha256])
            return try row.read(0, as: [UInt8].self)
        }
    }

    /// Records that the server holds the bytes (uploaded now, or already known), then evicts
    /// under the budget.
    public func uploadSucceeded(sha256: String) async throws {
        let budget = attachmentBudgetBytes
        try await database.transaction { db in
            try db.run("UPDATE attachment_bytes SET upload = 'uploaded', last_error = NULL WHERE sha256 = ?", [sha256])
            try Self.evict(toBudget: budget, in: db)
        }
    }

    /// Records a failed attempt: counted, with its error, and not tried again for
    /// `retryAfterMilliseconds` (`nil`: at the next upload).
    public func uploadFailed(sha256: String, error: String, retryAfterMilliseconds: Int64? = nil) async throws {
        var notBefore: Int64 = 0
        if let wait = retryAfterMilliseconds {
            let (at, overflow) = Int64(wallClock.now()).addingReportingOverflow(wait)
            notBefore = overflow ? Int64.max : at
        }
        try await database.transaction { [notBefore] db in
            try db.run("UPDATE attachment_bytes SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE sha256 = ?",
                       [error, notBefore, sha256])
        }
    }

    /// Records that the server refused the bytes for good (too large, not hashing to their name):
    /// they stay on the phone, listed with the error, and are not sent again.
    public func uploadRefused(sha256: String, error: String) async throws {
        try await database.transaction { db in
            try db.run("UPDATE attachment_bytes SET upload = 'refused', attempts = attempts + 1, last_error = ? WHERE sha256 = ?", [error, sha256])
        }
    }

    /// Keeps bytes fetched from the server on demand, if they hash to `sha256`; evicts under the
    /// budget (never the bytes just kept).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` when the bytes do not hash to `sha256`.
    public func keepFetched(sha256: String, mediaType: String, bytes: [UInt8]) async throws {
        guard AttachmentFile.sha256(of: bytes) == sha256 else {
            throw StoreError(.invalidArgument, "the bytes fetched for \(sha256) hash to \(AttachmentFile.sha256(of: bytes))")
        }
        let now = Int64(wallClock.now())
        let budget = attachmentBudgetBytes
        try await database.transaction { db in
            try db.run("""
                INSERT INTO attachment_bytes (sha256, media_type, size_bytes, bytes, upload, used_at) VALUES (?, ?, ?, ?, 'uploaded', ?)
                ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes, used_at = excluded.used_at
                """, [sha256, mediaType, Int64(bytes.count), bytes, now])
            try Self.evict(toBudget: budget, in: db, keeping: sha256)
        }
    }

    /// Bytes held on the phone, all blobs together.
    public func attachmentBytesHeld() async throws -> Int64 {
        try await database.query("SELECT coalesce(sum(size_bytes), 0) FROM attachment_bytes WHERE bytes IS NOT NULL")[0].read(0, as: Int64.self)
    }

    /// Drops the bytes of blobs the server holds, least recently used first, until the phone
    /// holds at most `budget` bytes. Bytes still waiting or refused are never dropped: they exist
    /// nowhere else.
    static func evict(toBudget budget: Int64, in db: isolated SQLiteDatabase, keeping kept: String? = nil) throws {
        var held = try db.query("SELECT coalesce(sum(size_bytes), 0) FROM attachment_bytes WHERE bytes IS NOT NULL")[0].read(0, as: Int64.self)
        guard held > budget else { return }
        let candidates = try db.query("""
            SELECT sha256, size_bytes FROM attachment_bytes WHERE bytes IS NOT NULL AND upload = 'uploaded' AND sha256 IS NOT ?
            ORDER BY used_at, rowid
            """, [kept])
        for candidate in candidates where held > budget {
            try db.run("UPDATE attachment_bytes SET bytes = NULL WHERE sha256 = ?", [try candidate.read(0, as: String.self)])
            held -= try candidate.read(1, as: Int64.self)
        }
    }

    /// Drops waiting bytes that no live attachment names any more: their record was rejected
    /// and reverted, so there is nothing on the server for them to complete.
    static func dropOrphanedBytes(in db: isolated SQLiteDatabase) throws {
        try db.run("""
            DELETE FROM attachment_bytes WHERE upload = 'waiting'
              AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_bytes.sha256 AND a._deleted = 0)
            """)
    }

    // MARK: Listing

    /// An attachment as the phone sees it: the record, and where its bytes are.
    public struct AttachmentSummary: Sendable, Hashable {
        /// Where an attachment's bytes are.
        public enum Status: Sendable, Hashable, CustomStringConvertible {
            /// The record's change set is not answered yet; the bytes wait for it.
            case waitingForRecord
            /// The bytes wait for their upload (after `attempts` failed ones, the last with `error`).
            case waitingForUpload(attempts: Int, error: String?)
            /// The server holds the bytes, and so does the phone.
            case uploaded
            /// The server holds the bytes; the phone let them go (fetched again on demand).
            case onServer
            /// The server refused the bytes for good.
            case refused(String)
            /// Neither here nor (yet) on the server: another device of the user holds them.
            case elsewhere

            public var description: String {
                switch self {
                case .waitingForRecord: "waiting for its record to be answered"
                case .waitingForUpload(let attempts, let error):
                    attempts == 0 ? "waiting to upload" : "waiting to upload (\(attempts) attempt(s); last: \(error ?? "?"))"
                case .uploaded: "uploaded"
                case .onServer: "on the server (not kept on this phone)"
                case .refused(let error): "refused: \(error)"
                case .elsewhere: "not on this phone; waiting for another device to upload"
                }
            }
        }

        /// The attachment record's id.
        public var id: RecordID
        /// What it shows (`photo`, `signature`).
        public var kind: String
        /// The media type.
        public var mediaType: String
        /// How many bytes.
        public var sizeBytes: Int64
        /// The bytes' SHA-256.
        public var sha256: String
        /// Whether the phone holds the bytes.
        public var bytesHere: Bool
        /// Where the bytes are.
        public var status: Status
    }

    /// Every attachment the phone holds a record of, oldest first.
    public func attachments() async throws -> [AttachmentSummary] {
        try await database.transaction { db in
            try db.query("""
                SELECT a.id, a.kind, a.media_type, a.size_bytes, a.sha256, a.upload_state, b.upload, b.bytes IS NOT NULL, b.attempts, b.last_error,
                       EXISTS (SELECT 1 FROM outbox_rows o WHERE o.tbl = 'attachments' AND o.id = a.id)
                FROM attachments a LEFT JOIN attachment_bytes b ON b.sha256 = a.sha256
                WHERE a._deleted = 0 ORDER BY a.id
                """).map { row in
                let here = try row.read(7, as: Int64?.self) == 1
                let serverHas = try row.read(5, as: String?.self) == "complete"
                let status: AttachmentSummary.Status = switch try row.read(6, as: String?.self) {
                case "waiting" where try row.read(10, as: Int64.self) == 1: .waitingForRecord
                case "waiting": .waitingForUpload(attempts: try row.read(8, as: Int.self), error: try row.read(9, as: String?.self))
                case "refused": .refused(try row.read(9, as: String?.self) ?? "refused")
                case "uploaded": here ? .uploaded : .onServer
                default: serverHas ? .onServer : .elsewhere
                }
                return AttachmentSummary(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, kind: try row.read(1, as: String?.self) ?? "",
                                         mediaType: try row.read(2, as: String?.self) ?? "", sizeBytes: try row.read(3, as: Int64?.self) ?? 0,
                                         sha256: try row.read(4, as: String?.self) ?? "", bytesHere: here, status: status)
            }
        }
    }
}

extension LocalSession {
    /// Records an attachment for `file` and keeps its bytes, in the action's transaction; the
    /// same bytes attached twice are kept once.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for no bytes; ``StoreError/Code/tooLarge``
    ///   past ``SyncCore/Schema/blobBytesMax``.
    mutating func attach(_ file: AttachmentFile, user: RecordID?, in db: isolated SQLiteDatabase) throws -> RecordID {
        guard let user else { throw StoreError(.notRegistered, "no user is signed in") }
        guard !file.bytes.isEmpty else { throw StoreError(.invalidArgument, "a \(file.kind) has at least one byte") }
        guard file.bytes.count <= Schema.blobBytesMax else {
            throw StoreError(.tooLarge, "a \(file.kind) has at most \(Schema.blobBytesMax >> 20) MiB; this one has \(file.bytes.count) bytes: take it again at a lower resolution")
        }
        let sha = file.sha256
        let id = newID()
        try write("attachments", id, [("sha256", .text(sha)), ("size_bytes", .integer(Int64(file.bytes.count))),
                                     ("media_type", .text(file.mediaType)), ("kind", .text(file.kind.name)), ("uploaded_by", .id(user))], in: db)
        try db.run("""
            INSERT INTO attachment_bytes (sha256, media_type, size_bytes, bytes, upload, used_at) VALUES (?, ?, ?, ?, 'waiting', ?)
            ON CONFLICT (sha256) DO UPDATE SET bytes = coalesce(attachment_bytes.bytes, excluded.bytes), used_at = excluded.used_at
            """, [sha, file.mediaType, Int64(file.bytes.count), file.bytes, Int64(wall)])
        return id
    }
}
