/// A field's merged value and the version of the write that set it.
public struct FieldState: Hashable, Sendable {
    /// The value.
    public var value: FieldValue
    /// The version of the winning write (for a counter: the newest contribution's).
    public var version: Version

    /// Creates a field state.
    public init(value: FieldValue, version: Version) {
        self.value = value
        self.version = version
    }
}

/// Everything a replica knows about one record: every field's merged state and the newest
/// delete, if any.
///
/// Record states form a join-semilattice: ``merged(with:schema:)`` is commutative, associative and
/// idempotent (property tests check it for every policy), so replicas that have seen the same
/// writes, in whatever order and however often, hold the same state.
public struct RecordState: Hashable, Sendable {
    /// The merged fields by name.
    public var fields: [String: FieldState]
    /// The newest delete's version.
    public var tombstone: Version?

    /// Creates a record state.
    public init(fields: [String: FieldState] = [:], tombstone: Version? = nil) {
        self.fields = fields
        self.tombstone = tombstone
    }

    /// Whether the record reads as deleted under `policy`.
    public func isDeleted(under policy: TombstonePolicy) -> Bool {
        guard let tombstone else { return false }
        switch policy {
        case .deleteWins: return true
        case .updateWins: return fields.values.allSatisfy { $0.version < tombstone }
        case .none: return false
        }
    }

    /// The join of two states of the same record: each field's join by its policy, and the newer
    /// tombstone.
    public func merged(with other: RecordState, table: TableSchema) -> RecordState {
        var result = self
        for (name, theirs) in other.fields {
            if let mine = result.fields[name] {
                result.fields[name] = Merge.join(mine, theirs, policy: table.field(name)?.policy ?? .lastWriterWins)
            } else {
                result.fields[name] = theirs
            }
        }
        result.tombstone = [tombstone, other.tombstone].compactMap { $0 }.max()
        return result
    }
}
