public import SyncCore

/// A record's status lifecycle: its states, the moves each role may make, and the ranking the
/// merge uses when two replicas moved the same record concurrently.
public struct StateMachine: Sendable {
    /// One allowed move.
    public struct Transition: Hashable, Sendable {
        /// The state moved from.
        public let from: String
        /// The state moved to.
        public let to: String
        /// Who may make the move (the server may make any).
        public let roles: Set<Role>
        /// Whether the move goes back to an earlier state and so starts a new epoch.
        public let reopens: Bool
    }

    /// The merge ranking (weakest state first).
    public let order: StateOrder
    /// The state a new record starts in (for planned records).
    public let initial: String
    /// Every allowed move.
    public let transitions: [Transition]

    /// The field schema's merge policy for this machine's status field.
    public var policy: MergePolicy { .forwardOnly(order) }

    /// Every state, weakest first.
    public var states: [String] { order.ranking }

    init(name: String, ranking: [String], initial: String, transitions: [(String, String, Set<Role>)], reopens: [(String, String, Set<Role>)] = []) {
        order = StateOrder(name: name, ranking: ranking)
        self.initial = initial
        self.transitions = transitions.map { Transition(from: $0.0, to: $0.1, roles: $0.2, reopens: false) }
            + reopens.map { Transition(from: $0.0, to: $0.1, roles: $0.2, reopens: true) }
        for transition in self.transitions {
            precondition(order.rank(of: transition.from) != nil && order.rank(of: transition.to) != nil, "\(name): unknown state in a transition")
            // A forward move must rank higher, or the merge would undo it; a backward move must reopen.
            precondition(transition.reopens == (order.rank(of: transition.to)! < order.rank(of: transition.from)!),
                         "\(name): \(transition.from) → \(transition.to) must \(transition.reopens ? "go back" : "go forward") in the ranking")
        }
    }

    /// The value after `role` moves a record from `current` to `target`.
    ///
    /// - Parameter role: The role making the move; `nil` for the server, which may make any
    ///   declared move.
    /// - Throws: ``ModelError/Code/forbiddenTransition`` for a move the machine does not declare
    ///   or that `role` may not make.
    public func move(from current: StateValue, to target: String, by role: Role?) throws(ModelError) -> StateValue {
        guard let transition = transitions.first(where: { $0.from == current.name && $0.to == target }) else {
            throw ModelError(.forbiddenTransition, "\(order.name): no move from \(current.name) to \(target)")
        }
        if let role, !transition.roles.contains(role) {
            throw ModelError(.forbiddenTransition, "\(order.name): a \(role) may not move \(current.name) to \(target)")
        }
        return StateValue(target, epoch: transition.reopens ? current.epoch + 1 : current.epoch)
    }

    /// Whether the machine declares a move from `from` to `to` for `role` (any role when `nil`).
    public func allows(from: String, to: String, by role: Role?) -> Bool {
        transitions.contains { $0.from == from && $0.to == to && (role.map($0.roles.contains) ?? true) }
    }
}

/// A model-level error: an argument or a move the field model forbids.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        /// The state machine does not allow the move (for this role).
        public static let forbiddenTransition = Code("forbidden_transition")
        /// An argument is out of its allowed range (a negative quantity, a discount over 100 %).
        public static let invalidArgument = Code("invalid_argument")
        public var description: String { name }
    }

    /// What kind of error.
    public var code: Code
    /// What was wrong, without customer data.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
