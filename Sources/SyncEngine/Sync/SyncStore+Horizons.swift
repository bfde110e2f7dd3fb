import PostgresDriver
public import SyncCore
public import SyncWire

/// Acknowledgements, compaction and re-priming of the change feed.
///
/// A device's cursors, sent with its replica number on every pull, acknowledge everything before
/// them. ``compact(retention:)`` deletes feed entries (deletes' tombstone entries among them) that
/// every device seen within the retention window has acknowledged, and every entry older than the
/// window, and moves the bucket's horizon past them. A device whose cursor is behind the horizon
/// is told to re-prime the bucket; it uploads its own pending changes first.
extension SyncStore {
    /// Records `cursors` as `replica`'s acknowledgement of each bucket's feed up to them.
    public func acknowledge(_ cursors: [BucketCursor], replica: ReplicaID, tenant: RecordID) async throws {
        let read = cursors.filter { $0.sequence > 0 && $0.resume == nil }
        guard !read.isEmpty else { return }
        try await pool.query("""
            INSERT INTO device_cursors (tenant_id, replica, bucket, sequence)
            SELECT $1, $2, c.bucket, c.sequence::xid8 FROM unnest($3::text[], $4::text[]) AS c(bucket, sequence)
            ON CONFLICT (tenant_id, replica, bucket) DO UPDATE SET sequence = EXCLUDED.sequence, seen_at = now()
            """, [tenant.uuidString, Int64(replica.rawValue), PostgresArray.literal(read.map(\.bucket)), PostgresArray.literal(read.map { String($0.sequence) })])
    }

    /// The buckets among `cursors` whose cursor is behind the bucket's horizon: the feed no longer
    /// holds what they missed, so they must be primed again from a snapshot.
    public func behindHorizon(_ cursors: [BucketCursor], tenant: RecordID) async throws -> Set<Bucket> {
        let read = cursors.filter { $0.sequence > 0 }
        guard !read.isEmpty else { return [] }
        let rows = try await pool.query("""
            SELECT c.bucket FROM unnest($2::text[], $3::text[]) AS c(bucket, sequence)
            JOIN bucket_horizons h ON h.tenant_id = $1 AND h.bucket = c.bucket WHERE c.sequence::xid8 < h.horizon
            """, [tenant.uuidString, PostgresArray.literal(read.map(\.bucket)), PostgresArray.literal(read.map { String($0.sequence) })])
        return Set(try rows.map { try $0.read(0, as: Bucket.self) })
    }

    /// The buckets among `cursors` with something to pull: new feed entries after the cursor that
    /// may be served now, or a snapshot to start or finish.
    public func bucketsWithNews(_ cursors: [BucketCursor], tenant: RecordID) async throws -> Set<Bucket> {
        var news = Set(cursors.filter { $0.sequence == 0 || $0.resume != nil }.map(\.bucket))
        let read = cursors.filter { $0.sequence > 0 && $0.resume == nil }
        guard !read.isEmpty else { return news }
        let rows = try await pool.query("""
            SELECT c.bucket FROM unnest($2::text[], $3::text[]) AS c(bucket, sequence)
            WHERE EXISTS (SELECT 1 FROM change_log l WHERE l.tenant_id = $1 AND l.bucket = c.bucket
                          AND l.xid > c.sequence::xid8 AND l.xid < pg_snapshot_xmin(pg_current_snapshot()))
            """, [tenant.uuidString, PostgresArray.literal(read.map(\.bucket)), PostgresArray.literal(read.map { String($0.sequence) })])
        news.formUnion(try rows.map { try $0.read(0, as: Bucket.self) })
        return news
    }

    /// Compacts the feed of every bucket: deletes the entries that every device seen within
    /// `retention` has acknowledged, and those older than `retention`, and raises the buckets'
    /// horizons past them. Returns how many entries went.
    @discardableResult
    public func compact(retention: Duration) async throws -> Int {
        let milliseconds = retention.components.seconds * 1_000 + retention.components.attoseconds / 1_000_000_000_000_000
        return try await pool.transaction { db in
            let cut = try await db.query("""
                SELECT l.tenant_id::text, l.bucket, max(l.xid::text::numeric)::text FROM change_log l
                LEFT JOIN (SELECT tenant_id, bucket, min(sequence::text::numeric) AS acked FROM device_cursors
                           WHERE seen_at > now() - $1::double precision * interval '1 millisecond' GROUP BY tenant_id, bucket) a
                  ON a.tenant_id = l.tenant_id AND a.bucket = l.bucket
                WHERE (l.created_at < now() - $1::double precision * interval '1 millisecond' OR l.xid::text::numeric <= a.acked)
                  AND l.xid < pg_snapshot_xmin(pg_current_snapshot())
                GROUP BY l.tenant_id, l.bucket
                """, [milliseconds])
            var deleted = 0
            for row in cut {
                let (tenant, bucket, horizon) = (try row.read(0, as: String.self), try row.read(1, as: String.self), try row.read(2, as: String.self))
                deleted += try await db.query("DELETE FROM change_log WHERE tenant_id = $1 AND bucket = $2 AND xid <= $3::xid8 RETURNING 1",
                                              [tenant, bucket, horizon]).count
                try await db.query("""
                    INSERT INTO bucket_horizons (tenant_id, bucket, horizon) VALUES ($1, $2, $3::xid8)
                    ON CONFLICT (tenant_id, bucket) DO UPDATE SET horizon = EXCLUDED.horizon WHERE bucket_horizons.horizon < EXCLUDED.horizon
                    """, [tenant, bucket, horizon])
            }
            return deleted
        }
    }
}
