import PropertyBased
import Testing

@testable import SyncCore

/// Replicas that receive the same changes converge, whatever the order and the duplicates.
@Suite("Convergence")
struct ConvergenceTests {
    static let table = TableSchema(
        name: "visits",
        tombstones: .deleteWins,
        fields: [
            FieldSchema("notes", .text(maxLength: 100), optional: true, access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("planned_start", .integer, access: WriteAccess(roles: [Role("dispatcher")])),
            FieldSchema("status", .state(Arbitrary.visitOrder), policy: .forwardOnly(Arbitrary.visitOrder), access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("points", .counter, policy: .counter, access: WriteAccess(roles: [Role("rep")])),
        ],
        buckets: [.constant("all")]
    )

    /// A few random changes from replica `replica` to one record.
    static func changes(from replica: ReplicaID, count: Int, using arbitrary: inout Arbitrary) -> [Change] {
        var clock = HybridClock()
        var counterTotal: Int64 = 0
        return (0..<count).map { _ in
            let version = Version(clock: clock.tick(wallMilliseconds: UInt64(arbitrary.int(0...3))), replica: replica)
            let id = ChangeID(RecordID.make(milliseconds: version.clock.milliseconds, using: &arbitrary.random))
            if arbitrary.int(0...9) == 0 {
                return Change(id: id, table: "visits", record: record, operation: .delete, version: version)
            }
            var writes: [FieldWrite] = []
            for field in table.fields where arbitrary.int(0...1) == 1 {
                let value: FieldValue
                if field.policy == .counter {
                    counterTotal += Int64(arbitrary.int(-2...2))
                    value = .counter(CounterValue([replica: .init(total: counterTotal, clock: version.clock)]))
                } else {
                    value = arbitrary.value(for: field.policy)
                }
                writes.append(FieldWrite(field.name, value, base: nil))
            }
            return Change(id: id, table: "visits", record: record, operation: .write(writes), version: version)
        }
    }

    static let record = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0001)

    static func apply(_ changes: [Change]) -> RecordState? {
        changes.reduce(nil as RecordState?) { state, change in Merge.apply(change, to: state, table: table).state }
    }

    @Test("three replicas: every delivery order, with duplicates, gives the same state")
    func exhaustiveOrders() async {
        await propertyCheck(count: max(50, Arbitrary.cases / 20), input: Gen.uint64()) { seed in
            var arbitrary = Arbitrary(seed: seed)
            let all = (1...3).flatMap { Self.changes(from: ReplicaID(UInt32($0)), count: arbitrary.int(1...2), using: &arbitrary) }
            let expected = Self.apply(all)
            var orders = 0
            for order in permutations(of: all) {
                orders += 1
                #expect(Self.apply(order) == expected, "seed \(seed)")
                // The same order with one change delivered again at the end.
                let duplicate = order[arbitrary.int(0...order.count - 1)]
                #expect(Self.apply(order + [duplicate]) == expected, "duplicate, seed \(seed)")
            }
            #expect(orders == (1...all.count).reduce(1, *))
        }
    }

    @Test("an edit always wins over every value its author had seen, even with a wall clock far behind")
    func causality() async {
        await propertyCheck(count: Arbitrary.cases, input: Gen.uint64()) { seed in
            var arbitrary = Arbitrary(seed: seed)
            let aheadWall = UInt64(1_800_000_000_000 + arbitrary.int(0...1_000_000))
            let behindWall = UInt64(1_000_000_000_000 + arbitrary.int(0...1_000_000))  // years behind
            var serverClock = HybridClock()
            var phoneClock = HybridClock()
            let seenVersion = Version(clock: serverClock.tick(wallMilliseconds: aheadWall), replica: .server)
            let seen = Change(id: ChangeID(RecordID(high: 1, low: 1)), table: "visits", record: Self.record,
                              operation: .write([FieldWrite("notes", .text("dispatcher's"))]), version: seenVersion)
            phoneClock.receive(seenVersion.clock, wallMilliseconds: behindWall)
            let edit = Change(id: ChangeID(RecordID(high: 1, low: 2)), table: "visits", record: Self.record,
                              operation: .write([FieldWrite("notes", .text("rep's"), base: seenVersion)]),
                              version: Version(clock: phoneClock.tick(wallMilliseconds: behindWall), replica: ReplicaID(5)))
            for order in [[seen, edit], [edit, seen]] {
                let outcome = order.reduce(nil as Merge.Outcome?) { Merge.apply($1, to: $0?.state, table: Self.table) }
                #expect(outcome?.state.fields["notes"]?.value == .text("rep's"), "seed \(seed)")
            }
            // The edit saw the dispatcher's value: not a conflict.
            let afterSeen = Merge.apply(seen, to: nil, table: Self.table).state
            #expect(Merge.apply(edit, to: afterSeen, table: Self.table).conflicts.isEmpty)
        }
    }

    @Test("concurrent different values give one conflict entry naming both; the same value gives none")
    func conflicts() {
        let dispatcher = Change(id: ChangeID(RecordID(high: 2, low: 1)), table: "visits", record: Self.record,
                                operation: .write([FieldWrite("status", .state(StateValue("cancelled")))]),
                                version: Version(clock: HLC(milliseconds: 20), replica: .server))
        let rep = Change(id: ChangeID(RecordID(high: 2, low: 2)), table: "visits", record: Self.record,
                         operation: .write([FieldWrite("status", .state(StateValue("completed")))]),
                         version: Version(clock: HLC(milliseconds: 10), replica: ReplicaID(4)))
        let afterCancel = Merge.apply(dispatcher, to: nil, table: Self.table)
        let outcome = Merge.apply(rep, to: afterCancel.state, table: Self.table)
        #expect(outcome.state.fields["status"]?.value == .state(StateValue("completed")))
        #expect(outcome.conflicts.count == 1)
        #expect(outcome.conflicts.first?.winner.version.replica == ReplicaID(4))
        #expect(outcome.conflicts.first?.loser.value == .state(StateValue("cancelled")))
        // Applying the same change again changes nothing and records nothing.
        let again = Merge.apply(rep, to: outcome.state, table: Self.table)
        #expect(again.state == outcome.state)
        #expect(again.conflicts.isEmpty)
        #expect(!again.changedAnything)
    }

    @Test("tombstones: delete-wins keeps a row deleted; update-wins lets a newer update revive it")
    func tombstones() {
        var state = RecordState(fields: ["notes": FieldState(value: .text("x"), version: Version(clock: HLC(milliseconds: 5), replica: ReplicaID(1)))])
        state.tombstone = Version(clock: HLC(milliseconds: 3), replica: .server)
        #expect(state.isDeleted(under: .deleteWins))
        #expect(!state.isDeleted(under: .updateWins))
        state.tombstone = Version(clock: HLC(milliseconds: 6), replica: .server)
        #expect(state.isDeleted(under: .updateWins))
    }
}

/// Every permutation of `items` (Heap's algorithm).
func permutations<T>(of items: [T]) -> [[T]] {
    var items = items
    var result: [[T]] = []
    func generate(_ count: Int) {
        if count <= 1 {
            result.append(items)
            return
        }
        for index in 0..<count {
            generate(count - 1)
            items.swapAt(count % 2 == 0 ? index : 0, count - 1)
        }
    }
    generate(items.count)
    return result
}
