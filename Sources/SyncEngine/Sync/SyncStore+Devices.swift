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
        for _ in 0..<3 {
            let mine = try await pool.query("""
                UPDATE devices SET app_version = $4, platform = $5 WHERE tenant_id = $1 AND installation = $2 AND user_id = $3 RETURNING replica
                """, [tenant.uuidString, installation.uuidString, user.uuidString, appVersion, platform])
            if let row = mine.first { return ReplicaID(UInt32(try row.read(0, as: Int64.self))) }
            // Taken by another user: refused. Taken by this user between the two statements (the
            // same phone's registration, retried while the first was still running): read it again.
            let holder = try await pool.query("SELECT user_id::text FROM devices WHERE tenant_id = $1 AND installation = $2",
                                              [tenant.uuidString, installation.uuidString]).first.map { try $0.read(0, as: String.self) }
            if let holder { if holder == user.uuidString { continue } else { return nil } }
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

    /// The buckets `user` may sync at `milliseconds` (since the epoch), as the domain's
    /// ``SyncDomain/audience(of:role:tenant:on:)`` says.
    public func buckets(user: RecordID, role: Role, tenant: RecordID, at milliseconds: Int64) async throws -> [Bucket] {
        let audience = try await pool.withConnection { db in try await self.domain.audience(of: user, role: role, tenant: tenant, on: db) }
        return audience.buckets(at: milliseconds).sorted()
    }

    /// Where a user stands: their role, and whether they are still active (a user who left is
    /// kept for the history that names them).
    public struct Standing: Sendable, Hashable {
        /// The user's role.
        public var role: Role
        /// `false` once an admin deactivated them.
        public var active: Bool
    }

    /// Where `user` stands in `tenant`, or `nil` when the tenant has no such user (or deleted it):
    /// what a token's claims are checked against. The people's table (``SyncDomain/people``)
    /// holds a `role` and an `active` flag (`NULL` is active).
    public func standing(of user: RecordID, tenant: RecordID) async throws -> Standing? {
        try await pool.query("SELECT role, coalesce(active, true) FROM \(domain.people) WHERE tenant_id = $1 AND id = $2 AND NOT _deleted",
                             [tenant.uuidString, user.uuidString])
            .first.map { Standing(role: Role(try $0.read(0, as: String?.self) ?? ""), active: try $0.read(1, as: Bool.self)) }
    }
}
