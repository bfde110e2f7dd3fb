import PostgresDriver
import SyncCore
public import SyncWire
import Synchronization

/// Generations: restores that phones survive (issue 21, item 4; `guarantees.md`, "Restores").
///
/// The feed's cursors are PostgreSQL transaction ids and the record of answered changes only
/// grows, as long as the database lives. A restore (a dump loaded into a new database, a base
/// backup recovered to a point in time, a failover to a replica that missed transactions) can take
/// both back: devices then hold cursors past the feed, or from another cluster's transaction ids,
/// and changes the server acknowledged are gone. So the server names each life of its database —
/// a ``Generation``, the digest of the cluster's system identifier, its timeline, the database's
/// oid and an epoch — and says it in every register and pull answer. Any of the three changes on
/// a restore; the epoch is for the operator to renew when none does (a file-system snapshot put
/// back in place: ``renewGeneration()``).
///
/// The first server to meet a new generation on data carried over from an earlier one
/// (``refreshGeneration()``) begins it, once, under an advisory lock:
/// - the feed is emptied (`change_log`, the devices' acknowledged cursors, the compaction
///   horizons): its transaction ids may be another cluster's, and every device re-primes anyway;
/// - the ERP's export feed is renumbered before every later entry (the ERP reads it again from
///   the start, `erp.md`);
/// - the replica numbers are moved ``replicaGap`` on, so that a device registered after the
///   backup can take its number back (``register(installation:user:tenant:platform:appVersion:previousReplica:)``):
///   the changes it uploads again keep their versions, and its counters their contributions.
extension SyncStore {
    /// How many replica numbers a new generation skips: more than the devices that could have
    /// registered between a backup and its restore.
    public static let replicaGap: Int64 = 100_000

    /// How long a server answers with the generation it read before it reads it again: a
    /// database restored under running servers is noticed within this.
    public static let generationFresh: Duration = .seconds(10)

    /// The server's current generation, as read within ``generationFresh`` (read again otherwise).
    public func generation() async throws -> Generation {
        if let known = generationCell.current(within: Self.generationFresh) { return known }
        return try await refreshGeneration().generation
    }

    /// What ``refreshGeneration()`` found.
    public struct GenerationStart: Sendable, Hashable {
        /// The generation.
        public var generation: Generation
        /// Whether this call began it (the first server to meet it).
        public var began: Bool
        /// Whether it began on data of an earlier generation: a restore.
        public var carriedOver: Bool
    }

    /// Reads the generation of the database as it stands and begins it when it is new; every
    /// server does it when it starts, and again when its last reading is older than
    /// ``generationFresh``.
    @discardableResult
    public func refreshGeneration() async throws -> GenerationStart {
        let start = try await pool.transaction { db in try await Self.beginGeneration(renewing: false, on: db) }
        generationCell.keep(start.generation)
        return start
    }

    /// Begins a new generation now, with a new epoch: for a restore that keeps the cluster, its
    /// timeline and the database's oid (a file-system snapshot put back). Every device then
    /// uploads what it has not seen answered in the new generation and re-primes.
    public func renewGeneration() async throws -> Generation {
        let start = try await pool.transaction { db in try await Self.beginGeneration(renewing: true, on: db) }
        generationCell.keep(start.generation)
        return start.generation
    }

    /// The digest of the database's life under `epoch` (the newest generation's when `nil`).
    static func digest(epoch: String?, on db: isolated PostgresConnection) async throws -> (generation: Generation, epoch: String) {
        let row = try await db.query("""
            SELECT encode(sha256(convert_to(concat_ws('/',
                       (SELECT system_identifier::text FROM pg_control_system()),
                       CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id::text FROM pg_control_checkpoint())
                            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint::text END,
                       (SELECT oid::text FROM pg_database WHERE datname = current_database()),
                       e.epoch), 'UTF8')), 'hex'), e.epoch
            FROM (SELECT coalesce($1::uuid, (SELECT epoch FROM sync_generations ORDER BY ordinal DESC LIMIT 1),
                                  '00000000-0000-0000-0000-000000000000'::uuid)::text AS epoch) e
            """, [epoch])[0]
        let hex = try row.read(0, as: String.self)
        return (Generation(rawValue: String(hex.prefix(32)))!, try row.read(1, as: String.self))
    }

    /// Whether the database has been served under `generation`.
    static func served(_ generation: Generation, on db: isolated PostgresConnection) async throws -> Bool {
        try await !db.query("SELECT 1 FROM sync_generations WHERE generation = $1", [generation.rawValue]).isEmpty
    }

    /// Reads the generation and, when the database has not been served under it, begins it.
    static func beginGeneration(renewing: Bool, on db: isolated PostgresConnection) async throws -> GenerationStart {
        // Known already (every reading but the first): two short statements, no lock.
        if !renewing {
            let known = try await digest(epoch: nil, on: db).generation
            if try await served(known, on: db) { return GenerationStart(generation: known, began: false, carriedOver: false) }
        }
        try await db.query("SELECT pg_advisory_xact_lock(hashtext('fieldsync_generation'))")
        let fresh = renewing ? try await db.query("SELECT gen_random_uuid()::text")[0].read(0, as: String.self) : nil
        let (generation, epoch) = try await digest(epoch: fresh, on: db)
        if try await served(generation, on: db) { return GenerationStart(generation: generation, began: false, carriedOver: false) }
        let carriedOver = try await !db.query("SELECT 1 FROM sync_generations LIMIT 1").isEmpty
        var floor: Int64?
        if carriedOver {
            try await db.query("TRUNCATE change_log, device_cursors, bucket_horizons")
            try await db.query("UPDATE order_exports SET xid = '3'::xid8")
            let sequence = try await db.query("SELECT pg_get_serial_sequence('devices', 'replica')")[0].read(0, as: String.self)
            floor = try await db.query("SELECT last_value FROM \(sequence)")[0].read(0, as: Int64.self)
            try await db.query("SELECT setval($1::regclass, $2)", [sequence, floor! + replicaGap])
        }
        try await db.query("""
            INSERT INTO sync_generations (generation, epoch, began_clock, replica_floor)
            SELECT $1, $2::uuid, coalesce(greatest(max(clock_max), max(registered_clock)), 0), $3::bigint FROM devices
            """, [generation.rawValue, epoch, floor])
        return GenerationStart(generation: generation, began: true, carriedOver: carriedOver)
    }

    /// Gives `installation` back the replica number it held in an earlier generation, when this
    /// generation began on a restore, the number lies in the gap it skipped (handed out after the
    /// backup, never since) and no device holds it. Its clock floor is the newest device clock
    /// the restored data held: every change stamped after the device registered is stamped after it.
    func reclaim(_ previous: ReplicaID, installation: RecordID, user: RecordID, tenant: RecordID, platform: String, appVersion: String) async throws -> ReplicaID? {
        try await pool.transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(hashtext('fieldsync_generation'))")
            let generation = try await Self.digest(epoch: nil, on: db).generation
            let replica = Int64(previous.rawValue)
            let claimed = try await db.query("""
                INSERT INTO devices (replica, tenant_id, installation, user_id, platform, app_version, registered_clock)
                OVERRIDING SYSTEM VALUE
                SELECT $1::integer, $2, $3, $4, $5, $6, g.began_clock FROM sync_generations g
                WHERE g.generation = $7 AND g.replica_floor < $1::integer AND $1::integer <= g.replica_floor + $8::bigint
                  AND NOT EXISTS (SELECT 1 FROM devices WHERE replica = $1::integer)
                ON CONFLICT DO NOTHING
                RETURNING replica
                """, [replica, tenant.uuidString, installation.uuidString, user.uuidString, platform, appVersion, generation.rawValue, Self.replicaGap])
            return claimed.isEmpty ? nil : previous
        }
    }
}

/// The generation one server read last, shared by every copy of its ``SyncStore``.
final class GenerationCell: Sendable {
    private let value = Mutex<(generation: Generation, read: ContinuousClock.Instant)?>(nil)

    /// The generation read last, when it was read within `fresh`.
    func current(within fresh: Duration) -> Generation? {
        value.withLock { kept in kept.flatMap { ContinuousClock.now - $0.read < fresh ? $0.generation : nil } }
    }

    /// Keeps `generation`, read now.
    func keep(_ generation: Generation) {
        value.withLock { $0 = (generation, ContinuousClock.now) }
    }
}
