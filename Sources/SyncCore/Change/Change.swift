/// One replica's write to one record: some fields, or a delete.
///
/// Every field write carries the version of the value its author saw (its *base*). When the
/// value it meets has another version, the author had not seen that value: the two writes were
/// concurrent, the merge picks a winner by the field's policy, and — when the values differ — a
/// ``Conflict`` records both, so nothing is lost silently.
public struct Change: Hashable, Sendable {
    /// What the change does.
    public enum Operation: Hashable, Sendable {
        /// Writes these fields (inserting the record if it is new).
        case write([FieldWrite])
        /// Deletes the record (a tombstone; see ``TombstonePolicy``).
        case delete
    }

    /// The change's id, unique across all replicas: a push replayed after a lost response is
    /// recognised by it and applied only once.
    public var id: ChangeID
    /// The table of the record.
    public var table: String
    /// The record.
    public var record: RecordID
    /// What the change does.
    public var operation: Operation
    /// The author's stamp: the clock of the write and the author's replica.
    public var version: Version

    /// Creates a change.
    public init(id: ChangeID, table: String, record: RecordID, operation: Operation, version: Version) {
        self.id = id
        self.table = table
        self.record = record
        self.operation = operation
        self.version = version
    }
}

/// One field's new value within a ``Change``.
public struct FieldWrite: Hashable, Sendable {
    /// The field's name.
    public var field: String
    /// The new value.
    public var value: FieldValue
    /// The version of the value the author saw when writing, `nil` if the field had none.
    public var base: Version?

    /// Creates a field write.
    public init(_ field: String, _ value: FieldValue, base: Version? = nil) {
        self.field = field
        self.value = value
        self.base = base
    }
}

/// The id of a change: a UUIDv7 made by its author.
public struct ChangeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The UUID.
    public let uuid: RecordID
    /// Wraps a UUID.
    public init(_ uuid: RecordID) { self.uuid = uuid }
    public static func < (lhs: ChangeID, rhs: ChangeID) -> Bool { lhs.uuid < rhs.uuid }
    public var description: String { uuid.uuidString }
}

/// The changes of one local transaction ("complete visit": check-out, task results, status and
/// order submission), applied all or nothing on every replica.
public struct ChangeSet: Hashable, Sendable {
    /// The change set's id.
    public var id: ChangeID
    /// The changes, in the order the author made them.
    public var changes: [Change]

    /// Creates a change set.
    public init(id: ChangeID, changes: [Change]) {
        self.id = id
        self.changes = changes
    }
}
