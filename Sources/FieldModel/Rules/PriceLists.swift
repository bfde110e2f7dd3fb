public import SyncCore

/// §4.7: which price list prices an order — the one in force on the order date. A pure function,
/// the same on the phone (a draft's list) and on the server (which re-prices on arrival).
///
/// A list is in force from its `valid_from` (inclusive; none: always) until its `valid_to`
/// (exclusive; none: open-ended). For a customer on a date:
/// 1. its own list, when in force then;
/// 2. else the list in force then for the customer's group (its own list's group, else the
///    customer's), the one that started last (then the lowest id) — a group's 2027 list takes
///    over from its 2026 list on the day the ERP says;
/// 3. else the tenant's default list in force then (a list marked `is_default`; the one that
///    started last) — what a customer a rep just created is priced from;
/// 4. else its own list, else a default list, even out of force (an order is never left without
///    a list; its lines are priced from it and checked as usual).
public enum PriceLists {
    /// A price list as the choice reads it.
    public struct List: Sendable, Hashable {
        /// The list, its customer group, and when it is in force (ms since the epoch; `nil`: unbounded).
        public var id: RecordID, customerGroup: String?, validFrom: Int64?, validTo: Int64?
        /// Whether it is one of the tenant's default lists.
        public var isDefault: Bool

        /// A list.
        public init(id: RecordID, customerGroup: String?, validFrom: Int64?, validTo: Int64?, isDefault: Bool = false) {
            self.id = id
            self.customerGroup = customerGroup
            self.validFrom = validFrom
            self.validTo = validTo
            self.isDefault = isDefault
        }

        /// Whether the list is in force at `date`.
        public func inForce(at date: Int64) -> Bool { (validFrom ?? .min) <= date && date < (validTo ?? .max) }
    }

    /// The list in force for a customer on `date`; see the type's discussion.
    public static func inForce(on date: Int64, customerList: RecordID?, customerGroup: String?, lists: [List]) -> RecordID? {
        let byID = Dictionary(lists.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if let own = customerList.flatMap({ byID[$0] }), own.inForce(at: date) { return own.id }
        if let group = customerList.flatMap({ byID[$0]?.customerGroup }) ?? customerGroup,
           let successor = latest(lists.filter { $0.customerGroup == group && $0.inForce(at: date) }) {
            return successor.id
        }
        if let fallback = latest(lists.filter { $0.isDefault && $0.inForce(at: date) }) { return fallback.id }
        return customerList ?? latest(lists.filter(\.isDefault))?.id
    }

    /// The list that started last (no start counts as the earliest), then the lowest id.
    static func latest(_ lists: [List]) -> List? {
        lists.min { ($0.validFrom ?? .min) != ($1.validFrom ?? .min) ? ($0.validFrom ?? .min) > ($1.validFrom ?? .min) : $0.id < $1.id }
    }
}
