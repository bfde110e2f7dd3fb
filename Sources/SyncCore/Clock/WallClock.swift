#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a replica reads the time: injected, so that tests and simulations control it exactly.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func now() -> UInt64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}
    public func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(max(0, spec.tv_sec)) * 1000 + UInt64(max(0, spec.tv_nsec)) / 1_000_000
    }
}

/// A wall clock that only moves when told: for tests and seeded simulations.
public final class ManualWallClock: WallClock {
    private let state: Mutex<UInt64>

    /// Creates a clock reading `milliseconds`.
    public init(_ milliseconds: UInt64) { state = Mutex(milliseconds) }

    public func now() -> UInt64 { state.withLock { $0 } }

    /// Moves the clock by `milliseconds` (negative to jump back, as real phones do).
    public func advance(by milliseconds: Int64) {
        state.withLock { $0 = UInt64(max(0, Int64($0) + milliseconds)) }
    }

    /// Sets the clock.
    public func set(_ milliseconds: UInt64) { state.withLock { $0 = milliseconds } }
}
