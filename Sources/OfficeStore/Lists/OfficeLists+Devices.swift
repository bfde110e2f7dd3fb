public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

extension SyncStore {
    /// One registered phone in the office's list.
    public struct DeviceListItem: Sendable, Hashable {
        /// The replica number it stamps its writes with, its installation and its user.
        public var replica: Int64, installation: RecordID, user: RecordID, userName: String?
        /// What it said at registration.
        public var platform: String, appVersion: String
        /// When it registered and last pulled (ms since the epoch; `nil`: never pulled).
        public var registeredAt: Int64, lastPull: Int64?
        /// The clock of the newest change it pushed (ms; `nil`: none yet).
        public var newestChange: Int64?
        /// The buckets it has read, and how many of them have entries it has not (as of now).
        public var buckets: Int, bucketsBehind: Int
        /// Whether an admin revoked it, and whether the revocation wipes it.
        public var revoked = false, wipe = false
    }

    /// Registered phones, most recently pulling first (then replica), `limit` at a time after the
    /// cursor `after`; `user` keeps one user's. A manager sees their team's phones, a dispatcher
    /// with territories the phones of the people who own them.
    public func devices(user: RecordID? = nil, limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<DeviceListItem> {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        let position = try cursor.map { text -> (Int64, Int64) in
            let parts = text.split(separator: "_")
            guard parts.count == 2, let key = Int64(parts[0]), let replica = Int64(parts[1]) else {
                throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before")
            }
            return (key, replica)
        }
        let people = try await sight(of: office).people
        let rows = try await pool.query("""
            SELECT d.replica::bigint, d.installation::text, d.user_id::text, u.name, d.platform, d.app_version,
                   (extract(epoch FROM d.registered_at) * 1000)::bigint, (extract(epoch FROM max(c.seen_at)) * 1000)::bigint,
                   nullif(d.clock_max, 0), count(c.bucket),
                   count(c.bucket) FILTER (WHERE EXISTS (SELECT 1 FROM change_log l WHERE l.tenant_id = d.tenant_id AND l.bucket = c.bucket AND l.xid > c.sequence)),
                   coalesce((extract(epoch FROM max(c.seen_at)) * 1000)::bigint, 0), d.revoked_at IS NOT NULL, d.wipe
            FROM devices d
            LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
            LEFT JOIN device_cursors c ON c.tenant_id = d.tenant_id AND c.replica = d.replica
            WHERE d.tenant_id = $1 AND ($2 = '' OR d.user_id::text = $2) AND (NOT $3 OR d.user_id = ANY($4::uuid[]))
            GROUP BY d.tenant_id, d.replica, d.installation, d.user_id, u.name, d.platform, d.app_version, d.registered_at, d.clock_max, d.revoked_at, d.wipe
            HAVING NOT $5 OR (coalesce((extract(epoch FROM max(c.seen_at)) * 1000)::bigint, 0), d.replica::bigint) < ($6, $7)
            ORDER BY 12 DESC, 1 DESC
            LIMIT $8
            """, [office.tenant.uuidString, user?.uuidString ?? "", people != nil, PostgresArray.literal(people ?? []),
                  position != nil, position?.0 ?? 0, position?.1 ?? 0, Int64(limit + 1)])
        var keys: [Int64] = []
        let items = try rows.prefix(limit).map { row in
            keys.append(try row.read(11, as: Int64.self))
            return DeviceListItem(replica: try row.read(0, as: Int64.self), installation: try row.read(1, as: RecordID.self),
                                  user: try row.read(2, as: RecordID.self), userName: try row.read(3, as: String?.self),
                                  platform: try row.read(4, as: String.self), appVersion: try row.read(5, as: String.self),
                                  registeredAt: try row.read(6, as: Int64.self), lastPull: try row.read(7, as: Int64?.self),
                                  newestChange: try row.read(8, as: Int64?.self), buckets: try row.read(9, as: Int.self), bucketsBehind: try row.read(10, as: Int.self),
                                  revoked: try row.read(12, as: Bool.self), wipe: try row.read(13, as: Bool.self))
        }
        return Page(items: items, next: rows.count > limit ? items.last.map { "\(keys.last!)_\($0.replica)" } : nil)
    }

    /// An admin revokes a device (issue 21, item 3): its next request is refused with
    /// `device_revoked`, or with `wipe` with `device_wiped` once it uploaded what it holds.
    public func revokeDevice(replica: Int64, wipe: Bool, by office: OfficeUser) async throws {
        guard office.role == .admin else { throw OfficeError(.forbidden, "only admins revoke devices") }
        guard let replica = UInt32(exactly: replica), try await revokeDevice(ReplicaID(replica), wipe: wipe, tenant: office.tenant) else {
            throw OfficeError(.notFound, "no device \(replica)")
        }
    }
}
