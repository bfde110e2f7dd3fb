/// What a phone keeps of a table's rows: its working set, bounded by time.
///
/// The server holds every row for ever; a phone holds the rows of its buckets that its table's
/// window keeps. A row the window lets go of *retires*: the server sends a remove to every
/// bucket it is in, leaves it out of snapshots and of the feed, and still counts it in its
/// buckets (so a late offline edit made while it was held is judged in scope). A retired row
/// that comes back inside the window (a new date, a reopened state) arrives whole again. A phone
/// fetches a retired row on demand (`fetch_request`).
public enum PhoneWindow: Hashable, Sendable {
    /// Every row, for as long as it is in the phone's buckets (customers, the catalogue).
    case always
    /// A row is kept while its state is one of `open`, or while its date lies no more than
    /// `days` before now (or after now). The date is the first of `dates` the row has a value
    /// for; `id` names the time the row's id carries (its creation), and a row with none of
    /// `dates` set is kept.
    case window(dates: [String], days: Int, open: Set<String> = [])
    /// A row is kept while the row its reference `field` names is kept (an order's lines, a
    /// visit's check-ins).
    case withParent(String)

    /// One day, in milliseconds.
    public static let day: Int64 = 86_400_000

    /// Whether a row of a table with this window is kept at `now` (milliseconds since the
    /// epoch), given whether its parent is kept (for ``withParent(_:)``; `nil` when the parent is
    /// unknown, which keeps the row).
    public func keeps(_ id: RecordID, _ state: RecordState, at now: Int64, status: String?, parentKept: Bool?) -> Bool {
        switch self {
        case .always:
            return true
        case .withParent:
            return parentKept ?? true
        case .window(let dates, let days, let open):
            if let status, let current = state.state(status)?.name, open.contains(current) { return true }
            guard let date = Self.date(of: id, state, dates) else { return true }
            return date >= now - Int64(days) * Self.day
        }
    }

    /// The first of `dates` the row has a value for.
    static func date(of id: RecordID, _ state: RecordState, _ dates: [String]) -> Int64? {
        for name in dates {
            if name == "id" { return Int64(id.milliseconds) }
            if let value = state.timestamp(name) { return value }
        }
        return nil
    }

    /// The parent reference field of a ``withParent(_:)`` window.
    public var parentField: String? {
        if case .withParent(let field) = self { field } else { nil }
    }
}

extension TableSchema {
    /// Whether a row of this table is kept by phones at `now` (see ``PhoneWindow``).
    public func keeps(_ id: RecordID, _ state: RecordState, at now: Int64, parentKept: Bool? = nil) -> Bool {
        phoneWindow.keeps(id, state, at: now, status: stateField, parentKept: parentKept)
    }

    /// The table's state field (a `.state` type), if it has one.
    public var stateField: String? {
        fields.first { if case .state = $0.type { true } else { false } }?.name
    }

    /// The table a ``PhoneWindow/withParent(_:)`` window follows.
    public var windowParent: (field: String, table: String)? {
        guard let field = phoneWindow.parentField, case .reference(let table)? = self.field(field)?.type else { return nil }
        return (field, table)
    }

    func validatePhoneWindow(in schema: Schema) throws(SchemaError) {
        switch phoneWindow {
        case .always:
            return
        case .window(let dates, let days, let open):
            guard !dates.isEmpty, days > 0 else { throw SchemaError("\(name): a phone window needs a date and a number of days") }
            for date in dates where date != "id" && field(date)?.type != .timestamp {
                throw SchemaError("\(name): phone window date \(date) is not a timestamp field")
            }
            if !open.isEmpty {
                guard let state = stateField, case .state(let order)? = field(state)?.type, open.allSatisfy({ order.rank(of: $0) != nil }) else {
                    throw SchemaError("\(name): phone window's open states are not states of its state field")
                }
            }
        case .withParent(let field):
            guard let parent = windowParent, buckets.contains(.parent(field, table: parent.table)) else {
                throw SchemaError("\(name): a phone window follows \(field), which must be a reference its buckets follow too")
            }
        }
    }
}
