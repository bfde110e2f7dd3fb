import FieldModel
import PostgresDriver
public import SyncCore

extension SyncStore {
    /// Registers a device install for `user` (again: the same replica number) and returns its
    /// replica number, or `nil` when the installation is registered to another user: an install
    /// stays bound to the user who registered it first, so nobody can take over another user's
    /// replica (a shared phone signs in with a new installation id).
    public func register(installation: RecordID, user: RecordID, tenant: RecordID, platform: String, appVersion: String) async throws -> ReplicaID? {
        // Look first, insert only when new: an insert that meets a conflict would still use up a
        // replica number, and replica numbers are meant to stay compact.
        for _ in 0..<2 {
            let mine = try await pool.query("""
                UPDATE devices SET app_version = $4, platform = $5 WHERE tenant_id = $1 AND installation = $2 AND user_id = $3 RETURNING replica
                """, [tenant.uuidString, installation.uuidString, user.uuidString, appVersion, platform])
            if let row = mine.first { return ReplicaID(UInt32(try row.read(0, as: Int64.self))) }
            let taken = try await pool.query("SELECT 1 FROM devices WHERE tenant_id = $1 AND installation = $2", [tenant.uuidString, installation.uuidString])
            if !taken.isEmpty { return nil }
            let inserted = try await pool.query("""
                INSERT INTO devices (tenant_id, installation, user_id, platform, app_version, registered_clock) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (tenant_id, installation) DO NOTHING
                RETURNING replica
                """, [tenant.uuidString, installation.uuidString, user.uuidString, platform, appVersion, Int64(clock.milliseconds)])
            if let row = inserted.first { return ReplicaID(UInt32(try row.read(0, as: Int64.self))) }
            // Registered by a concurrent request meanwhile: read it again.
        }
        return nil
    }

    /// Whether `replica` is a device registered to `user`.
    public func replica(_ replica: ReplicaID, belongsTo user: RecordID, tenant: RecordID) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM devices WHERE replica = $1 AND tenant_id = $2 AND user_id = $3",
                              [Int64(replica.rawValue), tenant.uuidString, user.uuidString]).isEmpty
    }

    /// The buckets `user` may sync at `milliseconds` (since the epoch): `catalog`, `user:<id>`, and
    /// the territories the user owns then (reps, technicians) or all of them (the office).
    public func buckets(user: RecordID, role: Role, tenant: RecordID, at milliseconds: Int64) async throws -> [String] {
        var buckets = ["catalog", "user:\(user.uuidString)"]
        let territories: PostgresRows
        if role == .rep || role == .technician {
            territories = try await pool.query("""
                SELECT DISTINCT territory_id::text FROM territory_owners
                WHERE tenant_id = $1 AND user_id = $2 AND NOT _deleted AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)
                ORDER BY 1
                """, [tenant.uuidString, user.uuidString, milliseconds])
        } else {
            territories = try await pool.query("SELECT id::text FROM territories WHERE tenant_id = $1 AND NOT _deleted ORDER BY 1", [tenant.uuidString])
            buckets.append("team:\(user.uuidString)")
        }
        buckets += try territories.map { "territory:\(try $0.read(0, as: String.self))" }
        return buckets
    }
}

/// The buckets a confined author (a rep or technician) could see over time, read once per push:
/// `catalog`, the author's `user:` bucket, and each territory over the times the author owned
/// it. ``buckets(at:)`` gives what ``SyncStore/buckets(user:role:tenant:at:)`` gives, without a
/// query per change set.
struct AuthorScope {
    /// The buckets the author always sees.
    let always: Set<String>
    /// Each territory bucket with the time the author's ownership began and ended (`nil`: it has not).
    let owned: [(bucket: String, from: Int64, to: Int64?)]

    /// Reads `user`'s ownership of territories.
    static func read(user: RecordID, tenant: RecordID, on db: isolated PostgresConnection) async throws -> AuthorScope {
        let rows = try await db.query("SELECT territory_id::text, valid_from, valid_to FROM territory_owners WHERE tenant_id = $1 AND user_id = $2 AND NOT _deleted",
                                      [tenant.uuidString, user.uuidString])
        return AuthorScope(always: ["catalog", "user:\(user.uuidString)"],
                           owned: try rows.compactMap { row in
                               guard let territory = try row.read(0, as: String?.self) else { return nil }
                               return ("territory:\(territory)", try row.read(1, as: Int64?.self) ?? .max, try row.read(2, as: Int64?.self))
                           })
    }

    /// The buckets the author could see at `milliseconds` since the epoch.
    func buckets(at milliseconds: Int64) -> Set<String> {
        always.union(owned.filter { $0.from <= milliseconds && ($0.to.map { $0 > milliseconds } ?? true) }.map(\.bucket))
    }
}
