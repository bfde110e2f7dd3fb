/// A hybrid logical clock value: 48 bits of milliseconds since the Unix epoch and a 16-bit
/// counter, in one `UInt64` that orders the way the pair does.
///
/// In FieldSync's words this is a *clock*; the clock stored with a field's value is that field's
/// *version* (see ``Version``, which adds the replica for tie-breaks).
public struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The packed value: `milliseconds << 16 | counter`.
    public let rawValue: UInt64

    /// Creates a clock value from its packed form.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Creates a clock value from milliseconds and a counter.
    public init(milliseconds: UInt64, counter: UInt16 = 0) {
        precondition(milliseconds < 1 << 48, "an HLC holds 48 bits of milliseconds")
        rawValue = milliseconds << 16 | UInt64(counter)
    }

    /// The smallest clock value, older than every real one.
    public static let zero = HLC(rawValue: 0)

    /// The wall-clock part, in milliseconds since the Unix epoch.
    public var milliseconds: UInt64 { rawValue >> 16 }
    /// The logical part, which orders events within one millisecond.
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static func < (lhs: HLC, rhs: HLC) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "\(milliseconds).\(counter)" }
}

/// A compact replica number, handed to each device by the server at registration; the server
/// itself is replica 0. It breaks ties between equal clocks.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number.
    public let rawValue: UInt32
    /// Creates a replica id.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    /// The server's replica id.
    public static let server = ReplicaID(0)
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "r\(rawValue)" }
}

/// The version of a value: the clock of the write that set it and the replica that wrote it.
///
/// Versions are totally ordered — by clock, then by replica — so "the greater version wins" is a
/// deterministic rule every replica applies alike.
public struct Version: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// When the write happened, in hybrid logical time.
    public let clock: HLC
    /// Who wrote it.
    public let replica: ReplicaID

    /// Creates a version.
    public init(clock: HLC, replica: ReplicaID) {
        self.clock = clock
        self.replica = replica
    }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        (lhs.clock, lhs.replica) < (rhs.clock, rhs.replica)
    }

    public var description: String { "\(clock)@\(replica)" }
}
