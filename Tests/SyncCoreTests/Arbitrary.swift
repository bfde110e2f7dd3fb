import SyncCore

/// Random values for property tests, built from a seeded generator so that a failing seed
/// replays exactly. Ranges are small on purpose: equal clocks, equal states and repeated
/// replicas are where merge bugs live.
struct Arbitrary {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// How many cases each property runs: 1,000 by default, more with FIELDSYNC_PROPERTY_CASES.
    static var cases: Int {
        ProcessInfo.processInfo.environment["FIELDSYNC_PROPERTY_CASES"].flatMap(Int.init) ?? 1_000
    }

    static let visitOrder = StateOrder(name: "visit_status", ranking: ["planned", "missed", "cancelled", "in_progress", "abandoned", "completed"])

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }

    mutating func version() -> Version {
        Version(clock: HLC(milliseconds: UInt64(int(0...6)), counter: UInt16(int(0...2))), replica: ReplicaID(UInt32(int(0...3))))
    }

    mutating func value(for policy: MergePolicy) -> FieldValue {
        switch policy {
        case .lastWriterWins, .insertOnce:
            switch int(0...3) {
            case 0: return .null
            case 1: return .integer(Int64(int(-2...2)))
            case 2: return .text(["a", "b", "ü"][int(0...2)])
            default: return .bool(int(0...1) == 1)
            }
        case .forwardOnly(let order):
            return .state(StateValue(order.ranking[int(0...order.ranking.count - 1)], epoch: UInt32(int(0...1))))
        case .counter:
            var contributions: [ReplicaID: CounterValue.Contribution] = [:]
            for _ in 0..<int(0...3) {
                contributions[ReplicaID(UInt32(int(0...3)))] = .init(total: Int64(int(-5...5)), clock: HLC(milliseconds: UInt64(int(0...4))))
            }
            return .counter(CounterValue(contributions))
        }
    }

    mutating func fieldState(for policy: MergePolicy) -> FieldState {
        FieldState(value: value(for: policy), version: version())
    }
}

import Foundation
