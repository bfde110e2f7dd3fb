import Foundation
import PropertyBased
import SyncCore
import Testing

@testable import FieldModel

/// Maintenance by meter as a pure function (issue 19, item 3): worked examples, then its promises
/// as properties over seeded random meters — thresholds on the plan's grid, after the last one
/// generated, at most one already passed (a meter that jumped gets one work order), dates in order
/// and within the horizon, and the same answer whatever order the readings come in.
@Suite("Meter schedule")
struct MeterScheduleTests {
    typealias M = MeterSchedule
    static let day: Int64 = 86_400_000
    /// Monday 2027-03-01 00:00 UTC.
    static let monday: Int64 = 1_803_859_200_000
    static var cases: Int { ProcessInfo.processInfo.environment["FIELDSYNC_PROPERTY_CASES"].flatMap(Int.init) ?? 500 }

    static func reading(_ value: Int64, day: Int64) -> M.Reading { M.Reading(value: value, at: monday + day * Self.day) }

    @Test("a passed threshold is due when it was passed; the next is forecast from the rate; the horizon stops the rest")
    func worked() {
        // 24 hours a day: 1,000 on day 0, 1,240 on day 10.
        let readings = [Self.reading(1_000, day: 0), Self.reading(1_240, day: 10)]
        let due = M.due(readings: readings, interval: 250, start: 0, lastGenerated: nil, horizon: Self.monday + 20 * Self.day)
        #expect(due == [M.Due(threshold: 1_000, dueAt: Self.monday), M.Due(threshold: 1_250, dueAt: Self.monday + 10 * Self.day + 10 * 3_600_000)], "\(due)")
        // 1,250 generated: 1,500 comes at day 20 h 20, inside a horizon of day 30; 1,750 (day 31 h 6) does not.
        let next = M.due(readings: readings, interval: 250, start: 0, lastGenerated: 1_250, horizon: Self.monday + 30 * Self.day)
        #expect(next == [M.Due(threshold: 1_500, dueAt: Self.monday + 20 * Self.day + 20 * 3_600_000)], "\(next)")
        #expect(M.nextThreshold(readings: readings, interval: 250, start: 0, lastGenerated: 1_250) == 1_500)
    }

    @Test("a meter that does not rise forecasts nothing; one that jumped past several thresholds gets one; counting starts at the plan's start")
    func edges() {
        let flat = [Self.reading(500, day: 0), Self.reading(500, day: 5)]
        #expect(M.due(readings: flat, interval: 100, start: 0, lastGenerated: 500, horizon: .max).isEmpty)
        #expect(M.date(of: 600, readings: flat) == nil)
        // A single reading has no rate: only the passed threshold.
        #expect(M.due(readings: [Self.reading(730, day: 1)], interval: 100, start: 0, lastGenerated: 200, horizon: .max) == [M.Due(threshold: 700, dueAt: Self.monday + Self.day)])
        // From 10,000 (a meter installed part-used), every 1,000: 11,000 is the first.
        #expect(M.due(readings: [Self.reading(10_400, day: 0)], interval: 1_000, start: 10_000, lastGenerated: nil, horizon: .max).isEmpty)
        #expect(M.nextThreshold(readings: [Self.reading(10_400, day: 0)], interval: 1_000, start: 10_000, lastGenerated: nil) == 11_000)
        // No readings, no schedule; an interval of zero, none either.
        #expect(M.due(readings: [], interval: 100, start: 0, lastGenerated: nil, horizon: .max).isEmpty)
        #expect(M.due(readings: flat, interval: 0, start: 0, lastGenerated: nil, horizon: .max).isEmpty)
        // Near the top of the range: no overflow, no threshold past it.
        let top = FieldSalesSchema.meterRange.upperBound
        #expect(M.due(readings: [Self.reading(top - 10, day: 0), Self.reading(top, day: 1)], interval: top / 2, start: 0, lastGenerated: nil, horizon: .max)
            == [M.Due(threshold: top, dueAt: Self.monday + Self.day)])
    }

    /// A random meter: readings rising (now and then falling back, or repeated), a grid, a horizon.
    struct Meter {
        var readings: [M.Reading] = []
        let interval: Int64, start: Int64, lastGenerated: Int64?, horizon: Int64

        init(seed: UInt64) {
            var random = SplitMix64(seed: seed)
            func int(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(random.next() % UInt64(range.count)) }
            interval = int(1...500)
            start = int(0...3) == 0 ? int(0...2_000) : 0
            var value = int(0...5_000), at = MeterScheduleTests.monday
            for _ in 0..<int(0...12) {
                value = max(0, value + (int(0...9) == 0 ? -int(0...100) : int(0...400)))
                at += int(0...(3 * MeterScheduleTests.day))
                readings.append(M.Reading(value: value, at: at))
            }
            let grid = start + int(1...30) * interval
            lastGenerated = int(0...2) == 0 ? nil : grid
            horizon = at + int(0...(60 * MeterScheduleTests.day))
        }
    }

    @Test("thresholds on the grid, after the last generated, at most one already passed, dates in order within the horizon; order-free")
    func properties() async {
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { seed in
            let meter = Meter(seed: seed)
            let due = M.due(readings: meter.readings, interval: meter.interval, start: meter.start, lastGenerated: meter.lastGenerated, horizon: meter.horizon)
            let current = meter.readings.max { ($0.at, $0.value) < ($1.at, $1.value) }?.value
            #expect(due.allSatisfy { $0.threshold > meter.start && ($0.threshold - meter.start) % meter.interval == 0 }, "grid, seed \(seed)")
            #expect(due.allSatisfy { $0.threshold > (meter.lastGenerated ?? .min) && $0.dueAt <= meter.horizon }, "after the last, within the horizon, seed \(seed)")
            #expect(zip(due, due.dropFirst()).allSatisfy { $0.threshold < $1.threshold && $0.dueAt <= $1.dueAt }, "in order, seed \(seed)")
            #expect(due.filter { $0.threshold <= (current ?? .min) }.count <= 1, "one passed threshold at most, seed \(seed)")
            if let first = due.first, let next = M.nextThreshold(readings: meter.readings, interval: meter.interval, start: meter.start, lastGenerated: meter.lastGenerated) {
                #expect(first.threshold == next, "the next threshold is the first due, seed \(seed)")
            }
            var random = SplitMix64(seed: seed ^ 0x5eed)
            let shuffled = meter.readings.sorted { _, _ in random.next() % 2 == 0 }
            #expect(M.due(readings: shuffled, interval: meter.interval, start: meter.start, lastGenerated: meter.lastGenerated, horizon: meter.horizon) == due,
                    "order-free, seed \(seed)")
            // Generating the first and asking again continues after it, never repeats it.
            if let first = due.first {
                let again = M.due(readings: meter.readings, interval: meter.interval, start: meter.start, lastGenerated: first.threshold, horizon: meter.horizon)
                #expect(again.allSatisfy { $0.threshold > first.threshold }, "continues, seed \(seed)")
            }
        }
    }
}
