import Foundation
import Logging
import PostgresDriver
import SyncCore

/// Defense in depth against the next unknown trap: no single change set, and no retry of it, can
/// stop the server for good.
///
/// Every change set of a push is applied under a session-level advisory lock of its own (taken
/// for the whole sub-batch in one sorted statement), with a row of `push_attempts` counting its
/// attempts in flight. A change set that finishes, either way, removes its row in the transaction
/// that applied it; the locks go when the sub-batch ends. Should the process die under it,
/// PostgreSQL ends the session and frees the locks, but the rows stay: the next arrival finds
/// them and knows those change sets never finished. Such a suspect is applied alone, in a transaction of its own, after the
/// change sets before it; if that attempt dies too, the third arrival refuses it
/// (`server_fault`, open for review) instead of running it again, and the device's outbox moves on.
///
/// The locks also make two arrivals of one change set (a retry racing its original) wait for
/// each other, so a slow attempt is never mistaken for a dead one.
extension SyncStore {
    /// How many attempts of a change set may die before it is refused.
    public static let deadAttemptsMax = 2

    /// Runs `body` on a connection holding the attempt locks of `changeSets`; `body` learns which
    /// of them are suspects (an earlier attempt never finished). Each change set that is not a
    /// suspect has a first attempt counted; `body` counts a suspect's with
    /// ``reattempt(_:tenant:on:)``. The transaction that applies a change set forgets its attempts
    /// as it commits (`WorkingSet.finished(_:)`), so no commit is spent on them alone.
    func attempting<T: Sendable>(_ changeSets: [ChangeID], tenant: RecordID,
                                 _ body: @Sendable (isolated PostgresConnection, _ suspects: Set<ChangeID>) async throws -> T) async throws -> T {
        try await pool.withConnection { db in
            let ids = Array(Set(changeSets.map(\.uuid))).sorted()
            let keys = ids.map { Self.attemptLockKey(ChangeID($0), tenant: tenant) }.sorted()
            // The locks, then a first attempt for each change set: one round trip, one implicit
            // transaction. Its commit does not wait for the WAL to reach the disk: the rows only
            // outlive a death of this process, which they do either way; a crash of PostgreSQL
            // may lose them, and with them only the count of attempts that crashed nothing. So a
            // push waits for one flush of the WAL, its own transaction's, not two.
            var start = PostgresBatch()
            start.add("SELECT set_config('synchronous_commit', 'off', true)")
            start.add("SELECT count(pg_advisory_lock($1, k)) FROM unnest($2::integer[]) WITH ORDINALITY AS t(k, n)",
                      [Int64(Self.attemptLockClass), PostgresArray.literal(keys.map(String.init))])
            start.add("""
                INSERT INTO push_attempts (tenant_id, change_set_id, attempts) SELECT $1, unnest($2::uuid[]), 1
                ON CONFLICT (tenant_id, change_set_id) DO NOTHING RETURNING change_set_id::text
                """, [tenant.uuidString, PostgresArray.uuids(ids)])
            let first: PostgresRows
            do {
                first = try await db.run(start)[2]
            } catch {
                // Whatever was taken is let go; the rows are another arrival's, if any.
                _ = try? await db.query("SELECT count(pg_advisory_unlock($1, k)) FROM unnest($2::integer[]) AS t(k)",
                                        [Int64(Self.attemptLockClass), PostgresArray.literal(keys.map(String.init))])
                throw error
            }
            do {
                let fresh = Set(try first.map { RecordID(try $0.read(0, as: String.self))! })
                let suspects = Set(ids.filter { !fresh.contains($0) }.map(ChangeID.init))
                let result = try await body(db, suspects)
                try await db.query("SELECT count(pg_advisory_unlock($1, k)) FROM unnest($2::integer[]) AS t(k)",
                                   [Int64(Self.attemptLockClass), PostgresArray.literal(keys.map(String.init))])
                return result
            } catch {
                // The process lives: these attempts did not die, whatever they met.
                _ = try? await db.query("DELETE FROM push_attempts WHERE tenant_id = $1 AND change_set_id = ANY($2::uuid[])",
                                        [tenant.uuidString, PostgresArray.uuids(ids)])
                _ = try? await db.query("SELECT count(pg_advisory_unlock($1, k)) FROM unnest($2::integer[]) AS t(k)",
                                        [Int64(Self.attemptLockClass), PostgresArray.literal(keys.map(String.init))])
                throw error
            }
        }
    }

    /// Counts another attempt of a suspect `changeSet`; whether it is to be refused (its earlier
    /// attempts died ``deadAttemptsMax`` times).
    func reattempt(_ changeSet: ChangeID, tenant: RecordID, on db: isolated PostgresConnection) async throws -> Bool {
        let attempts = try await db.query("""
            INSERT INTO push_attempts (tenant_id, change_set_id, attempts) VALUES ($1, $2, 1)
            ON CONFLICT (tenant_id, change_set_id) DO UPDATE SET attempts = push_attempts.attempts + 1
            RETURNING attempts
            """, [tenant.uuidString, changeSet.uuid.uuidString])[0].read(0, as: Int64.self)
        logger.warning("a change set is back after its attempt died with the process", metadata: [
            "change_set": "\(changeSet.uuid.uuidString)", "dead_attempts": "\(attempts - 1)"])
        return attempts > Int64(Self.deadAttemptsMax)
    }

    /// The first key of every attempt lock ("FSP1"); the two-key lock space is apart from the
    /// one-key space of the records' transaction locks.
    static let attemptLockClass: Int32 = 0x4653_5031

    /// A change set's attempt lock key.
    static func attemptLockKey(_ changeSet: ChangeID, tenant: RecordID) -> Int32 {
        let mixed = changeSet.uuid.low ^ changeSet.uuid.high.byteSwapped ^ tenant.low
        return Int32(truncatingIfNeeded: mixed ^ (mixed >> 32))
    }

    /// The finding of a change set refused because it stopped the server.
    static let serverFault = RuleFinding(.serverFault, "this change set was in flight when the server stopped, twice; it is quarantined for review instead of run again")
}

/// Fault injection for the crash tests, in debug builds only: with `FIELDSYNC_TEST_TRAP_TEXT` set,
/// a change writing exactly that text stops the process the way an arithmetic trap does.
enum FaultInjection {
    #if DEBUG
    static let trapText = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_TRAP_TEXT"].flatMap { $0.isEmpty ? nil : $0 }
    #endif

    /// Stops the process if a change of `changes` writes the trap text.
    static func trapIfAsked(_ changes: [Change]) {
        #if DEBUG
        guard let trapText else { return }
        for change in changes {
            if case .text(trapText)? = change.written("phone") { fatalError("FIELDSYNC_TEST_TRAP_TEXT: an injected trap") }
        }
        #endif
    }
}
