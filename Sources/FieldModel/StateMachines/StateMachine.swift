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
    /// The states a record may be created in, and who may create it so: a dispatcher plans a
    /// visit, a rep starts an ad hoc one in progress.
    public let creations: [String: Set<Role>]

    /// The field schema's merge policy for this machine's status field.
    public var policy: MergePolicy { .forwardOnly(order) }

    /// Every state, weakest first.
    public var states: [String] { order.ranking }

    init(name: String, ranking: [String], initial: String, creations: [String: Set<Role>], transitions: [(String, String, Set<Role>)],
         reopens: [(String, String, Set<Role>)] = []) {
        order = StateOrder(name: name, ranking: ranking)
        self.initial = initial
        self.creations = creations
        let order = self.order
        precondition(creations.keys.allSatisfy { order.rank(of: $0) != nil }, "\(name): unknown state in the creations")
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
        // A stored epoch may be any 32-bit value (it came from a device): the last one has no next.
        if transition.reopens, current.epoch == .max {
            throw ModelError(.forbiddenTransition, "\(order.name): the record cannot be reopened again")
        }
        return StateValue(target, epoch: transition.reopens ? current.epoch + 1 : current.epoch)
    }

    /// Whether `role` may write `target` over `current` (`nil` when the write creates the record).
    ///
    /// This judges what an author pushed, who may not have seen every move made since: the office
    /// may have held a work order, or the server confirmed an order, while the author was offline.
    /// So a write is allowed when it is one of the author's own moves from a state the record has
    /// since moved on from (a late fact), and harmless when the merge keeps the current state
    /// anyway (a state that ranks lower, or an older epoch). What it refuses is a state the role
    /// never moves to (a rep confirming an order), a step skipped (a technician completing a work
    /// order never on site), a record created in a state its role may not create, and an epoch
    /// that is not an allowed reopen of the current one.
    public func permits(_ target: StateValue, over current: StateValue?, by role: Role) -> Bool {
        guard let current else { return target.epoch == 0 && creations[target.name]?.contains(role) == true }
        guard let to = order.rank(of: target.name), let from = order.rank(of: current.name) else { return false }
        if target.epoch < current.epoch || (target.epoch == current.epoch && to <= from) { return true }
        let reopening = current.epoch < .max && target.epoch == current.epoch + 1
        guard reopening || target.epoch == current.epoch else { return false }
        return transitions.contains { move in
            move.reopens == reopening && move.to == target.name && move.roles.contains(role) && reaches(from: move.from, to: current.name)
        }
    }

    /// Whether forward moves (by anyone) lead from `start` to `end`; a state reaches itself.
    func reaches(from start: String, to end: String) -> Bool {
        var seen: Set<String> = [start]
        var frontier = [start]
        while let state = frontier.popLast() {
            if state == end { return true }
            for move in transitions where !move.reopens && move.from == state && seen.insert(move.to).inserted { frontier.append(move.to) }
        }
        return false
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
