public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// Photo and signature bytes, named by their SHA-256: stored within quotas, read only by who may
/// see them.
extension SyncStore {
    /// The most bytes one photo or signature may have (the schema's limit).
    public static let blobBytesMax = Schema.blobBytesMax
    /// The most blob bytes one user may upload in 24 hours (a rep's day of photos is about 100 MB).
    public static let blobBytesPerUserPerDayMax: Int64 = 512 << 20
    /// The most blob bytes one tenant may hold.
    public static let blobBytesPerTenantMax: Int64 = 100 << 30
    /// The media types served as they were uploaded; any other is served as
    /// `application/octet-stream`, so stored bytes never become a page a browser runs.
    public static let blobMediaTypes: Set<String> = ["image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"]

    /// Stores a photo's or signature's bytes under their SHA-256 (checked by PostgreSQL) and
    /// completes every attachment that references them. Storing the same bytes again is harmless.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` when the bytes do not hash to `sha256` or are too
    ///   large; ``OfficeError/Code/quotaExceeded`` past the user's daily or the tenant's quota.
    public func storeBlob(sha256: String, mediaType: String, bytes: [UInt8], by user: RecordID, tenant: RecordID) async throws {
        let sha = sha256.lowercased()
        guard sha.count == Schema.blobReferenceLength, sha.allSatisfy(\.isHexDigit) else { throw OfficeError(.invalid, "a blob is named by its SHA-256 in hex") }
        guard bytes.count <= Self.blobBytesMax else { throw OfficeError(.invalid, "a blob has at most \(Self.blobBytesMax) bytes") }
        let used = try await pool.query("""
            SELECT coalesce(sum(size_bytes) FILTER (WHERE uploaded_by = $2 AND uploaded_at > now() - interval '1 day'), 0)::bigint,
                   coalesce(sum(size_bytes), 0)::bigint, bool_or(sha256 = $3)
            FROM blobs WHERE tenant_id = $1
            """, [tenant.uuidString, user.uuidString, sha])[0]
        if try used.read(2, as: Bool?.self) != true {
            if try used.read(0, as: Int64.self) + Int64(bytes.count) > Self.blobBytesPerUserPerDayMax {
                throw OfficeError(.quotaExceeded, "a user may upload \(Self.blobBytesPerUserPerDayMax >> 20) MiB of photos and signatures a day")
            }
            if try used.read(1, as: Int64.self) + Int64(bytes.count) > Self.blobBytesPerTenantMax {
                throw OfficeError(.quotaExceeded, "the tenant's storage of \(Self.blobBytesPerTenantMax >> 30) GiB is full")
            }
        }
        let stored = try await pool.query("""
            INSERT INTO blobs (tenant_id, sha256, size_bytes, media_type, bytes, uploaded_by)
            SELECT $1, $2, $3, $4, $5, $6 WHERE encode(sha256($5::bytea), 'hex') = $2
            ON CONFLICT (tenant_id, sha256) DO UPDATE SET size_bytes = EXCLUDED.size_bytes
            RETURNING 1
            """, [tenant.uuidString, sha, Int64(bytes.count), Self.servedMediaType(mediaType), bytes, user.uuidString])
        guard !stored.isEmpty else { throw OfficeError(.invalid, "the bytes do not hash to \(sha)") }
        let pending = try await pool.query("""
            SELECT id::text FROM attachments WHERE tenant_id = $1 AND sha256 = $2 AND upload_state IS DISTINCT FROM 'complete'
            """, [tenant.uuidString, sha]).map { RecordID(try $0.read(0, as: String.self))! }
        guard !pending.isEmpty else { return }
        try await edit(pending.map { OfficeEdit("attachments", $0, [("upload_state", .text("complete"))]) }, by: nil, tenant: tenant)
    }

    /// A blob's media type and bytes, if stored and `user` may see it: the office sees its
    /// tenant's; a rep or technician the bytes they uploaded, and those of attachments in their
    /// buckets. Any other blob is as absent as one never uploaded.
    public func blob(sha256: String, for user: RecordID, role: Role, tenant: RecordID) async throws -> (mediaType: String, bytes: [UInt8])? {
        try await visibleBlob("media_type, bytes", sha256: sha256, for: user, role: role, tenant: tenant)
            .map { (Self.servedMediaType(try $0.read(0, as: String.self)), try $0.read(1, as: [UInt8].self)) }
    }

    /// A blob's size, if stored and `user` may see it (as ``blob(sha256:for:role:tenant:)``),
    /// without reading its bytes: how a phone learns that it need not upload them.
    public func blobSize(sha256: String, for user: RecordID, role: Role, tenant: RecordID) async throws -> Int64? {
        try await visibleBlob("size_bytes", sha256: sha256, for: user, role: role, tenant: tenant).map { try $0.read(0, as: Int64.self) }
    }

    /// The `columns` of the blob named `sha256`, if `user` may see it.
    private func visibleBlob(_ columns: String, sha256: String, for user: RecordID, role: Role, tenant: RecordID) async throws -> PostgresRow? {
        let sha = sha256.lowercased()
        guard sha.utf8.count == Schema.blobReferenceLength, sha.allSatisfy(\.isHexDigit) else { return nil }
        let everyone = ![Role.rep, .technician].contains(role)
        let buckets = everyone ? [] : try await self.buckets(user: user, role: role, tenant: tenant, at: Int64(clock.milliseconds))
        return try await pool.query("""
            SELECT \(columns) FROM blobs b WHERE tenant_id = $1 AND sha256 = $2 AND ($3 OR uploaded_by = $4 OR EXISTS (
                SELECT 1 FROM attachments a JOIN row_buckets r ON r.tenant_id = a.tenant_id AND r.tbl = 'attachments' AND r.id = a.id
                WHERE a.tenant_id = b.tenant_id AND a.sha256 = b.sha256 AND r.bucket = ANY($5::text[])))
            """, [tenant.uuidString, sha, everyone, user.uuidString, PostgresArray.literal(buckets)]).first
    }

    /// `mediaType` if it is one of ``blobMediaTypes``, else `application/octet-stream`.
    static func servedMediaType(_ mediaType: String) -> String {
        let bare = String(mediaType.prefix { $0 != ";" }.filter { $0 != " " }).lowercased()
        return blobMediaTypes.contains(bare) ? bare : "application/octet-stream"
    }
}
