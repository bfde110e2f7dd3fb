public import SyncCore
import Synchronization

/// The server's hybrid logical clock, shared by every write the server makes in one process: the
/// stamps of its answers, of the dispatchers' and managers' writes, and of the writes its rules
/// derive (a check-in's verification, an order's totals).
///
/// Every server instance writes as replica ``ReplicaID/server``. Two instances cannot mint the
/// same version for one field: a write first locks the record and then ``stamp(after:)`` moves
/// past every version the record holds.
public final class ServerClock: Sendable {
    /// The wall clock it follows (a simulated one in `fieldsim`).
    public let wallClock: any WallClock
    private let clock = Mutex(HybridClock())
    private let random: Mutex<SplitMix64?>

    /// Creates a clock following `wallClock`.
    ///
    /// - Parameter seed: Makes the ids the server mints (of its change sets and derived rows) a
    ///   function of the seed, for deterministic simulations; `nil` draws them from the system.
    public init(wallClock: any WallClock = SystemWallClock(), seed: UInt64? = nil) {
        self.wallClock = wallClock
        self.random = Mutex(seed.map { SplitMix64(seed: $0) })
    }

    /// A new time-ordered id (UUIDv7) at the wall clock's time.
    public func newID() -> RecordID {
        let milliseconds = wallClock.now()
        return random.withLock { seeded in
            if seeded != nil { return RecordID.make(milliseconds: milliseconds, using: &seeded!) }
            var system = SystemRandomNumberGenerator()
            return RecordID.make(milliseconds: milliseconds, using: &system)
        }
    }

    /// A new stamp.
    public func now() -> HLC {
        let wall = wallClock.now()
        return clock.withLock { $0.tick(wallMilliseconds: wall) }
    }

    /// Takes a received stamp into account, so the server's next stamp is later.
    public func receive(_ remote: HLC) {
        let wall = wallClock.now()
        clock.withLock { $0.receive(remote, wallMilliseconds: wall) }
    }

    /// A new stamp later than every version in `states`.
    package func stamp(after states: [RecordState]) -> HLC {
        let wall = wallClock.now()
        return clock.withLock { clock in
            for state in states {
                for field in state.fields.values { clock.receive(field.version.clock, wallMilliseconds: wall) }
                if let tombstone = state.tombstone { clock.receive(tombstone.clock, wallMilliseconds: wall) }
            }
            return clock.tick(wallMilliseconds: wall)
        }
    }

    /// The wall clock's reading in milliseconds since the epoch.
    public var milliseconds: UInt64 { wallClock.now() }
}
