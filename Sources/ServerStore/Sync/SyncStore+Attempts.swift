import FieldModel
import Foundation
import Logging
import SyncCore

/// Defense in depth against the next unknown trap: no single change set, and no retry of it, can
/// stop the server for good.
///
/// Every change set is applied under a session-level advisory lock of its own, with a row of
/// `push_attempts` counting the attempts in flight. A change set that finishes, either way,
/// removes its row and its lock. Should the process die under it, PostgreSQL ends the session
/// and frees the lock, but the row stays: the next arrival finds it and knows the previous
/// attempt never finished. Each change set is already its own transaction, so its next attempt
/// is judged alone; if that one dies too, the third arrival refuses the change set
/// (`server_fault`, open for review) instead of running it again, and the device's outbox moves on.
///
/// The lock also makes two arrivals of one change set (a retry racing its original) wait for
/// each other, so a slow attempt is never mistaken for a dead one.
extension SyncStore {
    /// How many attempts of a change set may die before it is refused.
    public static let deadAttemptsMax = 2

    /// Runs `body` on a connection holding `changeSet`'s attempt lock; `body` learns whether the
    /// change set is to be refused (its previous attempts died).
    func attempting<T: Sendable>(_ changeSet: ChangeID, tenant: RecordID,
                                 _ body: @Sendable (_ refuse: Bool, PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection { db in
            let key = Self.attemptLockKey(changeSet, tenant: tenant)
            try await db.query("SELECT pg_advisory_lock($1, $2)", [Int64(Self.attemptLockClass), Int64(key)])
            do {
                let attempts = try await db.query("""
                    INSERT INTO push_attempts (tenant_id, change_set_id, attempts) VALUES ($1, $2, 1)
                    ON CONFLICT (tenant_id, change_set_id) DO UPDATE SET attempts = push_attempts.attempts + 1
                    RETURNING attempts
                    """, [tenant.uuidString, changeSet.uuid.uuidString])[0].read(0, as: Int64.self)
                if attempts > 1 {
                    logger.warning("a change set is back after its attempt died with the process", metadata: [
                        "change_set": "\(changeSet.uuid.uuidString)", "dead_attempts": "\(attempts - 1)"])
                }
                let result = try await body(attempts > Int64(Self.deadAttemptsMax), db)
                try await db.query("DELETE FROM push_attempts WHERE tenant_id = $1 AND change_set_id = $2", [tenant.uuidString, changeSet.uuid.uuidString])
                try await db.query("SELECT pg_advisory_unlock($1, $2)", [Int64(Self.attemptLockClass), Int64(key)])
                return result
            } catch {
                // The process lives: this attempt did not die, whatever it met.
                _ = try? await db.query("DELETE FROM push_attempts WHERE tenant_id = $1 AND change_set_id = $2", [tenant.uuidString, changeSet.uuid.uuidString])
                _ = try? await db.query("SELECT pg_advisory_unlock($1, $2)", [Int64(Self.attemptLockClass), Int64(key)])
                throw error
            }
        }
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
