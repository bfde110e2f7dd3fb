public import SyncCore

/// DOMAIN.md §6, service levels (issue 19, item 5): a work order's response and arrival are due
/// within times its priority sets, counted from its creation; a due time that passes before the
/// work order got there is a breach, flagged for the dispatcher.
///
/// *Response* is a technician assigned (the work order `dispatched` or further along); *arrival*
/// is the technician on site (`on_site` or further, or an arrival time recorded). Both are judged
/// by what the phone recorded: an arrival made on time that reaches the server after the breach
/// was flagged clears it.
public enum ServiceLevels {
    /// How long a priority allows, in milliseconds.
    public struct Target: Hashable, Sendable {
        /// Until a technician is assigned.
        public var response: Int64
        /// Until the technician is on site.
        public var arrival: Int64
    }

    /// What was missed.
    public enum Breach: String, Hashable, Sendable, CaseIterable {
        /// No technician was assigned in time.
        case response
        /// The technician was not on site in time.
        case arrival
    }

    static let hour: Int64 = 3_600_000

    /// The targets: urgent 1 h to respond and 4 h to arrive; high 4 h and 24 h; normal 24 h and
    /// 72 h; low 72 h and 7 days. A priority the server does not know counts as normal.
    public static func target(priority: String) -> Target {
        switch priority {
        case "urgent": Target(response: 1 * hour, arrival: 4 * hour)
        case "high": Target(response: 4 * hour, arrival: 24 * hour)
        case "low": Target(response: 72 * hour, arrival: 168 * hour)
        default: Target(response: 24 * hour, arrival: 72 * hour)
        }
    }

    /// The states in which a technician has been assigned (the response is made).
    public static let respondedStates: Set<String> = ["dispatched", "en_route", "on_site", "cannot_complete", "completed", "closed"]
    /// The states in which the technician has arrived.
    public static let arrivedStates: Set<String> = ["on_site", "cannot_complete", "completed", "closed"]
    /// The states in which nothing is due any more.
    public static let endedStates: Set<String> = ["cancelled", "closed"]

    /// The breaches of a work order at `now`: a due time passed before the work order got there.
    /// A cancelled or closed work order owes nothing; an arrival is judged by the phone's time.
    public static func breaches(status: String, assigned: Bool, arrivedAt: Int64?, responseDue: Int64?, arrivalDue: Int64?, now: Int64) -> [Breach] {
        guard !endedStates.contains(status) || arrivedAt != nil else { return [] }
        var breaches: [Breach] = []
        let responded = assigned || respondedStates.contains(status)
        if let responseDue, now > responseDue, !responded { breaches.append(.response) }
        if let arrivalDue {
            if let arrivedAt {
                if arrivedAt > arrivalDue { breaches.append(.arrival) }
            } else if now > arrivalDue, !arrivedStates.contains(status) {
                breaches.append(.arrival)
            }
        }
        return breaches
    }

    /// The breach the work order shows: arrival, the graver, over response; `nil` for none.
    public static func shown(_ breaches: [Breach]) -> Breach? {
        breaches.contains(.arrival) ? .arrival : breaches.first
    }

    /// The finding a new breach raises for the dispatcher.
    public static func finding(_ breach: Breach, priority: String) -> RuleFinding {
        switch breach {
        case .response: RuleFinding(.serviceLevelBreach, "no technician assigned within the \(priority) work order's response time")
        case .arrival: RuleFinding(.serviceLevelBreach, "the technician was not on site within the \(priority) work order's arrival time")
        }
    }
}
