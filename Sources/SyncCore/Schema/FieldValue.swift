/// A field's value, as the merge sees it.
///
/// Money is `.integer` in minor units (cents), never floating point; times are milliseconds since
/// the Unix epoch; a forward-only state carries its epoch; a counter carries every replica's
/// contribution so that concurrent increments add up.
public enum FieldValue: Hashable, Sendable {
    /// No value.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer: quantities, money in minor units, coordinates in micro-degrees.
    case integer(Int64)
    /// UTF-8 text.
    case text(String)
    /// A reference to a record.
    case id(RecordID)
    /// A point in time, in milliseconds since the Unix epoch.
    case timestamp(Int64)
    /// A state of a forward-only state machine.
    case state(StateValue)
    /// A counter: each replica's own running total.
    case counter(CounterValue)
}

/// A state machine's state and the epoch it belongs to.
///
/// An explicit reopen (a rejected order made editable again) starts a new epoch, and a later
/// epoch beats every state of an earlier one; within an epoch the state further along wins.
public struct StateValue: Hashable, Sendable {
    /// The state's name, one of its ``StateOrder``'s states.
    public var name: String
    /// How many times the record was reopened.
    public var epoch: UInt32

    /// Creates a state value.
    public init(_ name: String, epoch: UInt32 = 0) {
        self.name = name
        self.epoch = epoch
    }
}

/// A counter as every replica's contribution: the replica's running total and the clock at
/// which it set it. The counter's value is the sum of the totals.
///
/// Why totals rather than increments: a total is idempotent. Receiving the same contribution
/// twice, or an older one after a newer one, changes nothing, so duplicated and reordered
/// deliveries cannot count twice.
public struct CounterValue: Hashable, Sendable {
    /// One replica's contribution.
    public struct Contribution: Hashable, Sendable {
        /// The replica's running total (negative for net decrements).
        public var total: Int64
        /// When the replica set it.
        public var clock: HLC
        /// Creates a contribution.
        public init(total: Int64, clock: HLC) {
            self.total = total
            self.clock = clock
        }
    }

    /// The contributions by replica.
    public var contributions: [ReplicaID: Contribution]

    /// Creates a counter from contributions.
    public init(_ contributions: [ReplicaID: Contribution] = [:]) {
        self.contributions = contributions
    }

    /// The counter's value.
    public var sum: Int64 { contributions.values.reduce(0) { $0 &+ $1.total } }

    /// Every replica's newer contribution of the two counters.
    public func merged(with other: CounterValue) -> CounterValue {
        CounterValue(contributions.merging(other.contributions) { mine, theirs in
            (theirs.clock, theirs.total) > (mine.clock, mine.total) ? theirs : mine
        })
    }
}

extension FieldValue {
    /// A deterministic total order over values, used only to break ties between writes that carry
    /// the very same version (which real replicas never produce), so that the merge stays a
    /// function of its inputs whatever happens.
    static func ordered(_ lhs: FieldValue, _ rhs: FieldValue) -> Bool {
        func rank(_ value: FieldValue) -> Int {
            switch value {
            case .null: 0
            case .bool: 1
            case .integer: 2
            case .text: 3
            case .id: 4
            case .timestamp: 5
            case .state: 6
            case .counter: 7
            }
        }
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): return !a && b
        case (.integer(let a), .integer(let b)), (.timestamp(let a), .timestamp(let b)): return a < b
        case (.text(let a), .text(let b)): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        case (.id(let a), .id(let b)): return a < b
        case (.state(let a), .state(let b)):
            return a.epoch != b.epoch ? a.epoch < b.epoch : Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        case (.counter(let a), .counter(let b)): return a.sum < b.sum  // counters merge per replica; never tie-broken
        default: return rank(lhs) < rank(rhs)
        }
    }
}
