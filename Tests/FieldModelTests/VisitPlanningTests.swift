import Foundation
import PropertyBased
import SyncCore
import Testing

@testable import FieldModel

/// Recurring visit plans as a pure function (issue 20, item 4): worked examples (a weekday after
/// the first day, every other week, an end, a change of daylight-saving time), then its promises
/// as properties over seeded random plans and zones — every start on the plan's weekday at its
/// local time, spaced by whole multiples of its weeks, inside the window and before the end, in
/// order; and a window split in two gives the same starts as the whole.
@Suite("Visit planning")
struct VisitPlanningTests {
    typealias S = VisitPlanning.Schedule
    static let day: Int64 = 86_400_000
    /// Monday 2027-03-01 00:00 UTC.
    static let monday: Int64 = 1_803_859_200_000
    static var cases: Int { ProcessInfo.processInfo.environment["FIELDSYNC_PROPERTY_CASES"].flatMap(Int.init) ?? 500 }
    static let utc = TimeZone(identifier: "UTC")!
    static let zones = ["UTC", "Europe/Madrid", "America/New_York", "Asia/Shanghai", "Australia/Sydney", "Asia/Kolkata"].map { TimeZone(identifier: $0)! }

    @Test("the first weekday on or after the first day, every N weeks, at the local time, until the end")
    func worked() {
        // Wednesdays at 09:30, from Thursday 2027-03-04: the first is Wednesday 2027-03-10.
        let weekly = S(everyWeeks: 1, weekday: 3, startMinute: 570, durationMinutes: 45, startsOn: Self.monday + 3 * Self.day)
        let starts = weekly.starts(from: Self.monday, to: Self.monday + 22 * Self.day, zone: Self.utc)
        #expect(starts == [9, 16].map { Self.monday + $0 * Self.day + 570 * 60_000 }, "\(starts)")
        // Every other Monday at 08:00, ending before the third.
        let fortnightly = S(everyWeeks: 2, weekday: 1, startMinute: 480, durationMinutes: 60, startsOn: Self.monday, endsOn: Self.monday + 28 * Self.day)
        #expect(fortnightly.starts(from: Self.monday, to: Self.monday + 60 * Self.day, zone: Self.utc) == [0, 14].map { Self.monday + $0 * Self.day + 480 * 60_000 })
        // Madrid moves to summer time on 2027-03-28: a Monday visit at 09:00 stays at 09:00 local (08:00 UTC before, 07:00 after).
        let madrid = TimeZone(identifier: "Europe/Madrid")!
        let local = S(everyWeeks: 1, weekday: 1, startMinute: 540, durationMinutes: 60, startsOn: Self.monday)
        #expect(local.starts(from: Self.monday, to: Self.monday + 35 * Self.day, zone: madrid)
            == [Self.monday + 8 * 3_600_000, Self.monday + 7 * Self.day + 8 * 3_600_000, Self.monday + 14 * Self.day + 8 * 3_600_000,
                Self.monday + 21 * Self.day + 8 * 3_600_000, Self.monday + 28 * Self.day + 7 * 3_600_000])
        // On the day the clocks change, the visit is still at its local time, on its day: Sundays at
        // 23:40 in New York from 2028-03-05 (summer time starts on 2028-03-12, ends on 2028-11-05).
        // Counting the minutes from midnight put the 12 March visit at 00:40 on Monday (the property
        // below found it with seed 6939552565179275176) and the 5 November one at 22:40.
        let newYork = TimeZone(identifier: "America/New_York")!
        let sundays = S(everyWeeks: 1, weekday: 7, startMinute: 1_420, durationMinutes: 60, startsOn: 1_835_930_400_000)
        let spring = sundays.starts(from: 1_835_930_400_000, to: 1_836_600_000_000, zone: newYork)
        #expect(spring == [1_835_930_400_000, 1_836_531_600_000], "\(spring)")
        #expect(sundays.starts(from: 1_857_000_000_000, to: 1_857_100_000_000, zone: newYork) == [1_857_098_400_000])
        // Nothing before the first day, nothing outside the window, nothing for a nonsense rhythm.
        #expect(weekly.starts(from: Self.monday - 30 * Self.day, to: Self.monday + 8 * Self.day, zone: Self.utc).isEmpty)
        #expect(S(everyWeeks: 0, weekday: 1, startMinute: 0, durationMinutes: 5, startsOn: 0).starts(from: 0, to: Self.monday, zone: Self.utc).isEmpty)
        // The visit ids are fixed by the plan and the start.
        let plan = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0001)
        #expect(VisitPlanning.scheduledVisitID(schedule: plan, start: 5) == VisitPlanning.scheduledVisitID(schedule: plan, start: 5))
        #expect(VisitPlanning.scheduledVisitID(schedule: plan, start: 5) != VisitPlanning.scheduledVisitID(schedule: plan, start: 6))
    }

    /// A seeded random plan, zone and window.
    struct Case {
        let schedule: S, zone: TimeZone, from: Int64, to: Int64

        init(seed: UInt64) {
            var random = SplitMix64(seed: seed)
            func int(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(random.next() % UInt64(range.count)) }
            let startsOn = VisitPlanningTests.monday + int(-400...400) * VisitPlanningTests.day + int(0...86_399_999)
            schedule = S(everyWeeks: Int(int(1...8)), weekday: Int(int(1...7)), startMinute: Int(int(0...1_439)), durationMinutes: 60, startsOn: startsOn,
                         endsOn: int(0...2) == 0 ? startsOn + int(1...300) * VisitPlanningTests.day : nil)
            zone = VisitPlanningTests.zones[Int(int(0...Int64(VisitPlanningTests.zones.count - 1)))]
            from = VisitPlanningTests.monday + int(-500...500) * VisitPlanningTests.day
            to = from + int(0...120) * VisitPlanningTests.day
        }
    }

    @Test("on the weekday at the local time, whole multiples of the weeks apart, in the window and before the end, in order; a split window changes nothing")
    func properties() async {
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { seed in
            let plan = Case(seed: seed)
            let starts = plan.schedule.starts(from: plan.from, to: plan.to, zone: plan.zone)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = plan.zone
            let dates = starts.map { Date(timeIntervalSince1970: Double($0) / 1_000) }
            #expect(dates.allSatisfy { (calendar.component(.weekday, from: $0) + 5) % 7 + 1 == plan.schedule.weekday }, "weekday, seed \(seed)")
            #expect(dates.allSatisfy { calendar.component(.hour, from: $0) * 60 + calendar.component(.minute, from: $0) == plan.schedule.startMinute
                    || plan.zone.daylightSavingTimeOffset(for: $0) != plan.zone.daylightSavingTimeOffset(for: $0.addingTimeInterval(-86_400)) }, "local time, seed \(seed)")
            #expect(starts.allSatisfy { $0 >= plan.from && $0 <= plan.to && $0 >= plan.schedule.startsOn && $0 < (plan.schedule.endsOn ?? .max) }, "window, seed \(seed)")
            #expect(zip(dates, dates.dropFirst()).allSatisfy { first, next in
                let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: first), to: calendar.startOfDay(for: next)).day ?? 0
                return days > 0 && days % (7 * plan.schedule.everyWeeks) == 0
            }, "spacing, seed \(seed)")
            let middle = plan.from + (plan.to - plan.from) / 2
            let split = plan.schedule.starts(from: plan.from, to: middle, zone: plan.zone) + plan.schedule.starts(from: middle + 1, to: plan.to, zone: plan.zone)
            #expect(split == starts, "split window, seed \(seed)")
        }
    }
}
