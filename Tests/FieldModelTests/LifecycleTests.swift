import SyncCore
import Testing

@testable import FieldModel

@Suite("Lifecycles")
struct LifecycleTests {
    @Test("every declared move succeeds for its roles and no other; every undeclared move is refused", arguments: Lifecycles.all.map(\.order.name))
    func exhaustive(machineName: String) throws {
        let machine = try #require(Lifecycles.all.first { $0.order.name == machineName })
        for from in machine.states {
            for to in machine.states {
                let declared = machine.transitions.first { $0.from == from && $0.to == to }
                for role in Role.all {
                    let current = StateValue(from, epoch: 3)
                    if let declared, declared.roles.contains(role) {
                        let moved = try machine.move(from: current, to: to, by: role)
                        #expect(moved.name == to)
                        #expect(moved.epoch == (declared.reopens ? 4 : 3), "\(from) → \(to)")
                    } else {
                        let error = #expect(throws: ModelError.self, "\(machineName): \(role) \(from) → \(to)") {
                            try machine.move(from: current, to: to, by: role)
                        }
                        #expect(error?.code == .forbiddenTransition)
                    }
                }
                // The server may make any declared move, and only those.
                #expect((try? machine.move(from: StateValue(from), to: to, by: nil)) != nil ? declared != nil : declared == nil)
            }
        }
    }

    @Test("the merge keeps every forward move: after a move, the new state outranks the old")
    func forwardMovesSurviveMerge() throws {
        for machine in Lifecycles.all {
            for transition in machine.transitions {
                let before = FieldState(value: .state(StateValue(transition.from, epoch: 1)), version: Version(clock: HLC(milliseconds: 9), replica: .server))
                let moved = try machine.move(from: StateValue(transition.from, epoch: 1), to: transition.to, by: nil)
                // Even with an older version, the moved state wins.
                let after = FieldState(value: .state(moved), version: Version(clock: HLC(milliseconds: 1), replica: ReplicaID(2)))
                #expect(Merge.join(before, after, policy: machine.policy).value == .state(moved), "\(machine.order.name): \(transition.from) → \(transition.to)")
            }
        }
    }

    @Test("late facts beat office decisions: completion beats cancel, a late check-in revives a missed visit, arrival beats hold")
    func lateFacts() {
        func winner(_ machine: StateMachine, _ a: String, _ b: String) -> FieldValue {
            let x = FieldState(value: .state(StateValue(a)), version: Version(clock: HLC(milliseconds: 1), replica: ReplicaID(1)))
            let y = FieldState(value: .state(StateValue(b)), version: Version(clock: HLC(milliseconds: 2), replica: .server))
            return Merge.join(x, y, policy: machine.policy).value
        }
        #expect(winner(Lifecycles.visit, "completed", "cancelled") == .state(StateValue("completed")))
        #expect(winner(Lifecycles.visit, "in_progress", "missed") == .state(StateValue("in_progress")))
        #expect(winner(Lifecycles.workOrder, "en_route", "on_hold") == .state(StateValue("en_route")))
        #expect(winner(Lifecycles.workOrder, "completed", "cancelled") == .state(StateValue("completed")))
        #expect(winner(Lifecycles.salesOrder, "released_to_erp", "cancelled") == .state(StateValue("released_to_erp")))
    }

    /// A record stored with the last epoch (a hostile client could write any epoch before pushed
    /// states were checked) must neither trap a reopen nor be reopened past it.
    @Test("the last epoch neither traps nor reopens")
    func lastEpoch() {
        let stuck = StateValue("rejected", epoch: .max)
        #expect(Lifecycles.salesOrder.permits(StateValue("draft", epoch: 0), over: stuck, by: .rep))  // an older epoch: the merge keeps the current
        #expect(Lifecycles.salesOrder.permits(StateValue("cancelled", epoch: .max), over: stuck, by: .rep))  // a forward move in that epoch
        #expect(throws: ModelError.self) { try Lifecycles.salesOrder.move(from: stuck, to: "draft", by: .rep) }
    }
}
