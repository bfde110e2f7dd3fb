/// How concurrent writes to one field merge. Declared per field in the schema, never hard-coded
/// per table; `SyncProtocol/merge-rules.md` states each rule and its tie-breaks.
public enum MergePolicy: Hashable, Sendable {
    /// The write with the greater ``Version`` wins (clock, then replica).
    case lastWriterWins
    /// The state further along the declared ``StateOrder`` wins; a later epoch beats an earlier
    /// one; equal states keep the greater version.
    case forwardOnly(StateOrder)
    /// Every replica's running total survives; the value is their sum.
    case counter
    /// Written once when the record is inserted (append-only records): the first write — the
    /// smallest version — stays, and a duplicate insert changes nothing.
    case insertOnce
}

/// The order in which a forward-only field's states beat each other.
///
/// `ranking` lists every state from weakest to strongest. It follows the state machine's forward
/// moves (a state reached from another ranks above it) and settles states the machine cannot
/// compare with declared precedences: for a visit, `completed` ranks above `cancelled` because a
/// rep's completion, arriving late from an offline phone, beats a dispatcher's cancellation.
/// A total ranking makes the merge a maximum, hence commutative, associative and idempotent.
public struct StateOrder: Hashable, Sendable {
    /// The state machine's name (`visit_status`).
    public let name: String
    /// Every state, weakest first.
    public let ranking: [String]
    private let ranks: [String: Int]

    /// Creates an order; the states must be distinct.
    public init(name: String, ranking: [String]) {
        precondition(Set(ranking).count == ranking.count, "\(name): a state appears twice in the ranking")
        self.name = name
        self.ranking = ranking
        self.ranks = Dictionary(uniqueKeysWithValues: ranking.enumerated().map { ($1, $0) })
    }

    /// The rank of `state`, or `nil` for a state the order does not know.
    public func rank(of state: String) -> Int? { ranks[state] }
}

/// Who may write a field. Checked by the server on arrival (a device write to a field it may not
/// write is rejected with a reason); the merge itself does not look at it.
public struct WriteAccess: Hashable, Sendable {
    /// The roles that may write the field (besides the server itself, which may write anything).
    public var roles: Set<Role>
    /// Further roles that may set the field only when they create the record: a rep creating an
    /// ad hoc visit assigns it to themselves, although reassigning visits is the dispatcher's.
    public var creators: Set<Role>

    /// Creates an access rule.
    public init(roles: Set<Role>, creators: Set<Role> = []) {
        self.roles = roles
        self.creators = creators
    }

    /// Only the server writes it: computed totals, verifications, credit state.
    public static let serverOnly = WriteAccess(roles: [])

    /// The same rule, letting `roles` also set the field when they create the record.
    public func onCreate(_ roles: Set<Role>) -> WriteAccess { WriteAccess(roles: self.roles, creators: creators.union(roles)) }

    /// Whether `role` may write the field; `creating` when the write creates the record.
    public func allows(_ role: Role, creating: Bool = false) -> Bool {
        roles.contains(role) || (creating && creators.contains(role))
    }
}

/// A user's role. The roles themselves are the field model's (`FieldModel` declares rep,
/// technician, dispatcher, manager, admin); the core only needs to name them.
public struct Role: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The role's stable name.
    public let name: String
    /// Creates a role.
    public init(_ name: String) { self.name = name }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.name < rhs.name }
    public var description: String { name }
}
