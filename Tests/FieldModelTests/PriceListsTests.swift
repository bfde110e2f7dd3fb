import Foundation
import PropertyBased
import SyncCore
import Testing

@testable import FieldModel

/// The price list in force on an order's date (§4.7), as a pure function: worked examples, then
/// its promises over seeded random catalogues — it picks a list in force whenever the customer's
/// own list, its group or a default list has one, prefers the customer's own, and gives the
/// same answer whatever order the lists come in.
@Suite("Price lists in force")
struct PriceListsTests {
    typealias P = PriceLists
    static let day: Int64 = 86_400_000
    static let newYear: Int64 = 1_798_761_600_000  // 2027-01-01 00:00 UTC
    static var cases: Int { ProcessInfo.processInfo.environment["FIELDSYNC_PROPERTY_CASES"].flatMap(Int.init) ?? 500 }
    static func id(_ n: UInt64) -> RecordID { RecordID(high: 7, low: n) }

    @Test("a group's 2027 list takes over on New Year's Day; the customer's own list wins while in force; the tenant's default is the last resort")
    func worked() {
        let lists = [
            P.List(id: Self.id(1), customerGroup: "horeca", validFrom: nil, validTo: Self.newYear),
            P.List(id: Self.id(2), customerGroup: "horeca", validFrom: Self.newYear, validTo: nil),
            P.List(id: Self.id(3), customerGroup: "retail", validFrom: nil, validTo: nil, isDefault: true),
            P.List(id: Self.id(4), customerGroup: "special", validFrom: Self.newYear - 10 * Self.day, validTo: Self.newYear + 10 * Self.day),
        ]
        // An order of 31 December keeps the 2026 list, though it arrives in January; one of 2 January gets the 2027 list.
        #expect(P.inForce(on: Self.newYear - 1, customerList: Self.id(1), customerGroup: "horeca", lists: lists) == Self.id(1))
        #expect(P.inForce(on: Self.newYear + Self.day, customerList: Self.id(1), customerGroup: "horeca", lists: lists) == Self.id(2))
        // A customer's own special list while in force; after it, its group's ("special" has no other): the tenant's default.
        #expect(P.inForce(on: Self.newYear, customerList: Self.id(4), customerGroup: "horeca", lists: lists) == Self.id(4))
        #expect(P.inForce(on: Self.newYear + 20 * Self.day, customerList: Self.id(4), customerGroup: "horeca", lists: lists) == Self.id(3))
        // A customer a rep just created: no list, no group: the tenant's default.
        #expect(P.inForce(on: Self.newYear, customerList: nil, customerGroup: nil, lists: lists) == Self.id(3))
        // Nothing in force anywhere: the customer's own list all the same; nothing at all: none.
        let lapsed = [P.List(id: Self.id(4), customerGroup: "special", validFrom: nil, validTo: Self.newYear)]
        #expect(P.inForce(on: Self.newYear + 20 * Self.day, customerList: Self.id(4), customerGroup: nil, lists: lapsed) == Self.id(4))
        #expect(P.inForce(on: Self.newYear, customerList: nil, customerGroup: nil, lists: []) == nil)
    }

    @Test("always a list in force when one applies; the customer's own first; the same whatever the order of the lists")
    func properties() async {
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { seed in
            var random = SplitMix64(seed: seed)
            func int(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(random.next() % UInt64(range.count)) }
            let groups = ["a", "b", "c"]
            var lists: [P.List] = []
            for n in 0..<int(0...8) {
                let from: Int64? = int(0...3) == 0 ? nil : Self.newYear + int(-30...30) * Self.day
                let to: Int64? = int(0...2) == 0 ? nil : (from ?? Self.newYear - 40 * Self.day) + int(1...40) * Self.day
                lists.append(P.List(id: Self.id(UInt64(n)), customerGroup: int(0...5) == 0 ? nil : groups[Int(int(0...2))], validFrom: from, validTo: to,
                                    isDefault: int(0...3) == 0))
            }
            let date = Self.newYear + int(-40...40) * Self.day
            let own = lists.isEmpty || int(0...3) == 0 ? nil : lists[Int(int(0...Int64(lists.count - 1)))].id
            let group: String? = int(0...3) == 0 ? nil : groups[Int(int(0...2))]
            let chosen = P.inForce(on: date, customerList: own, customerGroup: group, lists: lists)
            let byID = Dictionary(lists.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let effectiveGroup = own.flatMap { byID[$0]?.customerGroup } ?? group
            let anyInForce = own.flatMap { byID[$0] }?.inForce(at: date) == true
                || lists.contains { $0.customerGroup == effectiveGroup && effectiveGroup != nil && $0.inForce(at: date) }
                || lists.contains { $0.isDefault && $0.inForce(at: date) }
            if anyInForce { #expect(chosen.flatMap { byID[$0] }?.inForce(at: date) == true, "in force, seed \(seed)") }
            if let own, byID[own]?.inForce(at: date) == true { #expect(chosen == own, "own first, seed \(seed)") }
            if own == nil && !lists.contains(where: \.isDefault) && !anyInForce { #expect(chosen == nil, "none, seed \(seed)") }
            let shuffled = lists.sorted { _, _ in random.next() % 2 == 0 }
            #expect(P.inForce(on: date, customerList: own, customerGroup: group, lists: shuffled) == chosen, "order-free, seed \(seed)")
        }
    }
}
