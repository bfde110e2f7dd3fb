/// A replica's hybrid logical clock: stamps its own writes and advances past every clock it
/// receives.
///
/// Why: an edit must win over every value its author had seen. Because receiving a value moves the
/// clock past that value's clock, any later local write gets a greater clock — whatever the phone's
/// wall clock says. And because the clock follows the wall clock whenever the wall clock is ahead,
/// clock values stay close to real time and "last writer wins" means what people expect.
///
/// The clock is a value with no I/O: the wall time is passed in on every call (the store reads
/// its injected wall clock), so tests and simulations control time exactly.
///
/// The update rule works on the packed 64-bit value, which makes counter overflow carry into the
/// milliseconds instead of failing: a new stamp is the greatest of the last stamp plus one and the
/// wall time (and, on receipt, the received clock plus one).
public struct HybridClock: Sendable, Hashable {
    /// The last clock value this replica issued or received.
    public private(set) var last: HLC

    /// Creates a clock that has seen nothing after `last`.
    public init(last: HLC = .zero) {
        self.last = last
    }

    /// A new clock value for a local write at wall time `wallMilliseconds`.
    public mutating func tick(wallMilliseconds: UInt64) -> HLC {
        last = HLC(rawValue: max(last.rawValue &+ 1, HLC(milliseconds: Self.clamped(wallMilliseconds)).rawValue))
        return last
    }

    /// Moves the clock past a clock received from another replica, so that every later local
    /// write is newer than it.
    public mutating func receive(_ remote: HLC, wallMilliseconds: UInt64) {
        last = HLC(rawValue: max(last.rawValue, remote.rawValue, HLC(milliseconds: Self.clamped(wallMilliseconds)).rawValue))
    }

    /// Whether `remote` is further ahead of `wallMilliseconds` than `drift` allows: the server
    /// asks this of every pushed change, so that a phone whose clock runs days ahead cannot win
    /// every future conflict.
    public static func isAhead(_ remote: HLC, of wallMilliseconds: UInt64, by drift: Duration) -> Bool {
        let allowance = UInt64(max(0, drift.components.seconds)) * 1000 + UInt64(max(0, drift.components.attoseconds)) / 1_000_000_000_000_000
        return remote.milliseconds > wallMilliseconds &+ allowance
    }

    /// Sets the clock back to `trusted` (the server's clock) after the server said this
    /// replica's clock is too far ahead. Only the replica's *unacknowledged* writes carry the bad
    /// clocks, and they are re-stamped after this with ``tick(wallMilliseconds:)``.
    public mutating func rewind(to trusted: HLC) {
        last = trusted
    }

    private static func clamped(_ milliseconds: UInt64) -> UInt64 { min(milliseconds, (1 << 48) - 1) }
}

extension HybridClock {
    /// Gives a replica's unacknowledged changes new versions from this clock, in their original
    /// order, after ``rewind(to:)``.
    ///
    /// Safe because nobody has seen those changes yet; their ids and bases stay, so each one still
    /// beats exactly the values its author had seen, and their order among themselves is kept.
    public mutating func restamp(_ changes: [Change], wallMilliseconds: UInt64) -> [Change] {
        changes.map { change in
            var change = change
            change.version = Version(clock: tick(wallMilliseconds: wallMilliseconds), replica: change.version.replica)
            return change
        }
    }
}
