/// The one deterministic merge, used alike by devices and the server.
public enum Merge {
    /// The join of two states of one field under `policy`.
    ///
    /// Each policy is a maximum under a total order, which is what makes it commutative,
    /// associative and idempotent:
    /// - last writer wins: by version, then (for identical versions only) by value;
    /// - forward-only: by epoch, then by the state's rank, then by version;
    /// - counter: per replica, the contribution with the greater clock;
    /// - insert once: the smallest version (the first insert stays).
    public static func join(_ a: FieldState, _ b: FieldState, policy: MergePolicy) -> FieldState {
        switch policy {
        case .lastWriterWins:
            return precedes(a, b) ? b : a
        case .insertOnce:
            return precedes(a, b) ? a : b
        case .forwardOnly(let order):
            let rankA = stateKey(a.value, order)
            let rankB = stateKey(b.value, order)
            if rankA != rankB { return rankA < rankB ? b : a }
            return precedes(a, b) ? b : a
        case .counter:
            guard case .counter(let x) = a.value, case .counter(let y) = b.value else {
                return precedes(a, b) ? b : a  // a malformed counter: fall back to a total order
            }
            return FieldState(value: .counter(x.merged(with: y)), version: max(a.version, b.version))
        }
    }

    /// What applying a change did.
    public struct Outcome: Hashable, Sendable {
        /// The record's state after the change.
        public var state: RecordState
        /// The concurrent writes that met different values.
        public var conflicts: [Conflict]
        /// The fields whose merged state changed (empty when the change was already known or lost everywhere).
        public var changedFields: [String]
        /// Whether the change altered anything.
        public var changedAnything: Bool { !changedFields.isEmpty || tombstoneChanged }
        /// Whether the change moved the tombstone.
        public var tombstoneChanged: Bool
    }

    /// Applies `change` to a record's state (`nil` for a record not seen yet).
    ///
    /// Returns the merged state and, for every field where the change and the current value were
    /// concurrent — the author's base is not the current version — and differ, a ``Conflict``
    /// naming the winner and the loser. Applying a change twice changes nothing the second time.
    public static func apply(_ change: Change, to current: RecordState?, table: TableSchema) -> Outcome {
        var state = current ?? RecordState()
        var conflicts: [Conflict] = []
        var changed: [String] = []
        var tombstoneChanged = false
        switch change.operation {
        case .delete:
            if state.tombstone.map({ $0 < change.version }) ?? true {
                state.tombstone = change.version
                tombstoneChanged = true
            }
        case .write(let writes):
            for write in writes {
                let policy = table.field(write.field)?.policy ?? .lastWriterWins
                let incoming = FieldState(value: write.value, version: change.version)
                guard let existing = state.fields[write.field] else {
                    state.fields[write.field] = incoming
                    changed.append(write.field)
                    continue
                }
                let merged = join(existing, incoming, policy: policy)
                if merged != existing {
                    state.fields[write.field] = merged
                    changed.append(write.field)
                }
                let concurrent = existing.version != change.version && write.base != existing.version
                if concurrent, policy != .counter, existing.value != incoming.value {
                    let incomingWon = merged.value == incoming.value && merged.version == incoming.version
                    conflicts.append(Conflict(
                        table: table.name, record: change.record, field: write.field,
                        winner: incomingWon ? incoming : existing, loser: incomingWon ? existing : incoming
                    ))
                }
            }
        }
        return Outcome(state: state, conflicts: conflicts, changedFields: changed, tombstoneChanged: tombstoneChanged)
    }

    private static func precedes(_ a: FieldState, _ b: FieldState) -> Bool {
        a.version != b.version ? a.version < b.version : FieldValue.ordered(a.value, b.value)
    }

    /// The epoch and rank of a state value; unknown states and other values rank below all.
    private static func stateKey(_ value: FieldValue, _ order: StateOrder) -> Int64 {
        guard case .state(let state) = value, let rank = order.rank(of: state.name) else { return -1 }
        return Int64(state.epoch) << 32 | Int64(rank)
    }
}

/// Two concurrent writes of different values to one field: which won and which lost.
///
/// The merge settles it deterministically on every replica; the server also keeps the entry and
/// shows it to dispatchers, so that nothing is lost silently.
public struct Conflict: Hashable, Sendable {
    /// Where it happened.
    public var table: String
    /// See ``table``.
    public var record: RecordID
    /// See ``table``.
    public var field: String
    /// The value that stands, its author and time.
    public var winner: FieldState
    /// The value that lost, its author and time.
    public var loser: FieldState

    /// Creates a conflict entry.
    public init(table: String, record: RecordID, field: String, winner: FieldState, loser: FieldState) {
        self.table = table
        self.record = record
        self.field = field
        self.winner = winner
        self.loser = loser
    }
}
