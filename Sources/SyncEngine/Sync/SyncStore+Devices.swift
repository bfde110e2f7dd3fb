import PostgresDriver
public import SyncCore

extension SyncStore {
    /// Registers a device install for `user` (again: the same replica number) and returns its
    /// replica number, or `nil` when the installation is registered to another user: an install
    /// stays bound to the user who registered it first, so nobody can take over another user's
    /// replica (a shared phone signs in with a new installation id).
    ///
    /// - Parameter previousReplica: The number the install held before the server's generation
    ///   changed: an install the database does not know (registered after the backup it was
    ///   restored from) gets it back when it is free (``reclaim(_:installation:user:tenant:platform:appVersion:)``).
    public func register(installation: RecordID, user: RecordID, tenant: RecordID, platform: String, appVersion: String,
                         previousReplica: ReplicaID? = nil) async throws -> ReplicaID? {
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
            // Replica numbers are PostgreSQL integers: a larger one was never handed out.
            if let previousReplica, previousReplica != .server, previousReplica.rawValue <= UInt32(Int32.max),
               let reclaimed = try await reclaim(previousReplica, installation: installation, user: user, tenant: tenant, platform: platform, appVersion: appVersion) {
                return reclaimed
            }
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

    /// What the server says of a registered device: whose it is, what it runs, and whether an
    /// admin revoked it (``wipe``: the app uploads what it still holds, then deletes its replica).
    public struct DeviceStanding: Sendable, Hashable {
        /// The device's replica number and its user.
        public var replica: ReplicaID, user: RecordID
        /// What it said at its last registration.
        public var platform: String, appVersion: String
        /// Whether it is revoked, and whether the revocation asks it to wipe its replica.
        public var revoked: Bool, wipe: Bool
        /// The oldest app version the operator serves its platform in its tenant (`nil`: any).
        public var minimumAppVersion: String?
    }

    /// The device with `replica` (or, without it, `installation`) in `tenant`, or `nil` when there
    /// is none; with the oldest app version the operator serves its platform. One indexed read:
    /// it runs on every push and pull.
    public func device(replica: ReplicaID? = nil, installation: RecordID? = nil, tenant: RecordID) async throws -> DeviceStanding? {
        let key = replica != nil ? "d.replica = $2::bigint" : "d.installation = $2::uuid"
        return try await pool.query("""
            SELECT d.replica::bigint, d.user_id::text, d.platform, d.app_version, d.revoked_at IS NOT NULL, d.wipe, m.minimum FROM devices d
            LEFT JOIN app_version_minimums m ON m.tenant_id = d.tenant_id AND m.platform = d.platform
            WHERE d.tenant_id = $1 AND \(key)
            """, [tenant.uuidString, replica.map { String($0.rawValue) } ?? installation?.uuidString ?? RecordID(high: 0, low: 0).uuidString]).first.flatMap { row in
            guard let user = RecordID(try row.read(1, as: String.self)) else { return nil }
            return DeviceStanding(replica: ReplicaID(UInt32(try row.read(0, as: Int64.self))), user: user, platform: try row.read(2, as: String.self),
                                  appVersion: try row.read(3, as: String.self), revoked: try row.read(4, as: Bool.self), wipe: try row.read(5, as: Bool.self),
                                  minimumAppVersion: try row.read(6, as: String?.self))
        }
    }

    /// Revokes a device (an admin's decision, checked by the caller): its next request is refused
    /// with `device_revoked`, or with `wipe` `device_wiped` after it uploaded what it holds.
    /// Returns whether the tenant has the device.
    @discardableResult
    public func revokeDevice(_ replica: ReplicaID, wipe: Bool, tenant: RecordID) async throws -> Bool {
        try await !pool.query("UPDATE devices SET revoked_at = coalesce(revoked_at, now()), wipe = wipe OR $3 WHERE tenant_id = $1 AND replica = $2 RETURNING 1",
                              [tenant.uuidString, Int64(replica.rawValue), wipe]).isEmpty
    }

    /// When an admin last revoked a phone of `user` (milliseconds since the Unix epoch), if ever:
    /// a token issued before it registers no new installation (the token may be the lost phone's).
    public func lastRevocation(of user: RecordID, tenant: RecordID) async throws -> Int64? {
        try await pool.query("SELECT (extract(epoch FROM max(revoked_at)) * 1000)::bigint FROM devices WHERE tenant_id = $1 AND user_id = $2",
                             [tenant.uuidString, user.uuidString])[0].read(0, as: Int64?.self)
    }

    /// What an operator watches of the sync as a whole (OPERATIONS.md, "What to alert on").
    public struct Vitals: Sendable, Hashable {
        /// Seconds the oldest running write transaction has been open: the feed serves nothing
        /// newer until it ends (its visibility watermark), so this is how far the feed may lag.
        public var feedLagSeconds: Double
        /// Devices not revoked whose latest pull (or, never having pulled, their registration) is
        /// more than a day old: phones falling behind.
        public var devicesBehind: Int
    }

    /// The sync's vitals now, over every tenant.
    public func vitals() async throws -> Vitals {
        let row = try await pool.query("""
            SELECT coalesce((SELECT extract(epoch FROM now() - min(xact_start)) FROM pg_stat_activity
                             WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()), 0)::float8,
                   (SELECT count(*) FROM (SELECT d.replica FROM devices d LEFT JOIN device_cursors c ON c.tenant_id = d.tenant_id AND c.replica = d.replica
                                          WHERE d.revoked_at IS NULL GROUP BY d.replica, d.registered_at
                                          HAVING coalesce(max(c.seen_at), d.registered_at) < now() - interval '1 day') behind)::bigint
            """)[0]
        return Vitals(feedLagSeconds: try row.read(0, as: Double.self), devicesBehind: Int(try row.read(1, as: Int64.self)))
    }

    /// The oldest app version the server serves `tenant` on `platform`, as the operator set it (`nil`: any).
    public func minimumAppVersion(platform: String, tenant: RecordID) async throws -> String? {
        try await pool.query("SELECT minimum FROM app_version_minimums WHERE tenant_id = $1 AND platform = $2", [tenant.uuidString, platform])
            .first.map { try $0.read(0, as: String.self) }
    }

    /// Sets (or, with `nil`, clears) the oldest app version served `tenant` on `platform`.
    public func setMinimumAppVersion(_ minimum: String?, platform: String, tenant: RecordID) async throws {
        if let minimum {
            _ = try await pool.query("""
                INSERT INTO app_version_minimums (tenant_id, platform, minimum) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id, platform) DO UPDATE SET minimum = $3, set_at = now()
                """, [tenant.uuidString, platform, minimum])
        } else {
            _ = try await pool.query("DELETE FROM app_version_minimums WHERE tenant_id = $1 AND platform = $2", [tenant.uuidString, platform])
        }
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

    /// A person found by their login: who, and where they stand.
    public struct Person: Sendable, Hashable {
        /// The user.
        public var user: RecordID
        /// Their role and whether they are active.
        public var standing: Standing
    }

    /// The person whose e-mail address is `login` in `tenant` (compared in lower case), or `nil`:
    /// how a token of the company's identity provider finds its user. The people's table holds an
    /// `email`.
    public func person(login: String, tenant: RecordID) async throws -> Person? {
        try await pool.query("""
            SELECT id::text, role, coalesce(active, true) FROM \(domain.people) WHERE tenant_id = $1 AND lower(email) = lower($2) AND NOT _deleted ORDER BY id LIMIT 1
            """, [tenant.uuidString, login]).first.flatMap { row in
            guard let user = RecordID(try row.read(0, as: String.self)) else { return nil }
            return Person(user: user, standing: Standing(role: Role(try row.read(1, as: String?.self) ?? ""), active: try row.read(2, as: Bool.self)))
        }
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
