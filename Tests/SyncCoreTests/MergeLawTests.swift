import PropertyBased
import Testing

@testable import SyncCore

/// The merge laws, for every policy: the join is commutative, associative and idempotent, which
/// is what makes every replica converge whatever the order and repetition of deliveries.
@Suite("Merge laws")
struct MergeLawTests {
    static let policies: [MergePolicy] = [.lastWriterWins, .insertOnce, .forwardOnly(Arbitrary.visitOrder), .counter]

    @Test("join is commutative, associative and idempotent", arguments: policies)
    func laws(policy: MergePolicy) async {
        await propertyCheck(count: Arbitrary.cases, input: Gen.uint64()) { seed in
            var arbitrary = Arbitrary(seed: seed)
            let a = arbitrary.fieldState(for: policy)
            let b = arbitrary.fieldState(for: policy)
            let c = arbitrary.fieldState(for: policy)
            let join = { (x: FieldState, y: FieldState) in Merge.join(x, y, policy: policy) }
            #expect(join(a, b) == join(b, a), "commutative, seed \(seed)")
            #expect(join(join(a, b), c) == join(a, join(b, c)), "associative, seed \(seed)")
            #expect(join(a, a) == a, "idempotent, seed \(seed)")
            // The join is an upper bound: joining a again changes nothing.
            #expect(join(join(a, b), a) == join(a, b), "absorbs, seed \(seed)")
        }
    }

    @Test("last writer wins: the greater version wins, whatever the values")
    func lastWriterWins() {
        let older = FieldState(value: .text("Main St 1"), version: Version(clock: HLC(milliseconds: 10), replica: ReplicaID(9)))
        let newer = FieldState(value: .text("Main St 2"), version: Version(clock: HLC(milliseconds: 11), replica: ReplicaID(1)))
        #expect(Merge.join(older, newer, policy: .lastWriterWins) == newer)
        let tie = FieldState(value: .text("Main St 3"), version: Version(clock: HLC(milliseconds: 11), replica: ReplicaID(2)))
        #expect(Merge.join(newer, tie, policy: .lastWriterWins) == tie, "equal clocks: the greater replica wins")
    }

    @Test("forward-only: execution beats cancellation, a later epoch beats any state of an earlier one")
    func forwardOnly() {
        let policy = MergePolicy.forwardOnly(Arbitrary.visitOrder)
        let completed = FieldState(value: .state(StateValue("completed")), version: Version(clock: HLC(milliseconds: 5), replica: ReplicaID(3)))
        let cancelled = FieldState(value: .state(StateValue("cancelled")), version: Version(clock: HLC(milliseconds: 9), replica: .server))
        #expect(Merge.join(completed, cancelled, policy: policy) == completed, "a newer cancel does not undo a completion")
        let reopened = FieldState(value: .state(StateValue("planned", epoch: 1)), version: Version(clock: HLC(milliseconds: 7), replica: .server))
        #expect(Merge.join(completed, reopened, policy: policy) == reopened)
    }

    @Test("counter: concurrent contributions add up, and a replica's older total never overrides its newer one")
    func counter() {
        let base = CounterValue([.server: .init(total: 40, clock: HLC(milliseconds: 1))])
        let vanA = CounterValue([ReplicaID(7): .init(total: -3, clock: HLC(milliseconds: 5))])
        let vanAOlder = CounterValue([ReplicaID(7): .init(total: -1, clock: HLC(milliseconds: 4))])
        let vanB = CounterValue([ReplicaID(8): .init(total: -2, clock: HLC(milliseconds: 6))])
        let merged = base.merged(with: vanA).merged(with: vanAOlder).merged(with: vanB)
        #expect(merged.sum == 35)
    }

    @Test("insert once: a duplicate insert keeps the first")
    func insertOnce() {
        let first = FieldState(value: .integer(1), version: Version(clock: HLC(milliseconds: 1), replica: ReplicaID(1)))
        let later = FieldState(value: .integer(2), version: Version(clock: HLC(milliseconds: 2), replica: ReplicaID(1)))
        #expect(Merge.join(later, first, policy: .insertOnce) == first)
    }
}
