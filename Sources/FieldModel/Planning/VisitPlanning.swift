public import Foundation
public import SyncCore

/// DOMAIN.md §6, weekly and recurring visit plans (issue 20, item 4): the pure part of turning
/// plans into dated visits. A recurring plan visits a customer every N weeks on one weekday at
/// a local time; an approved weekly plan turns each proposed visit into a visit. Either way a
/// visit's id is derived from what made it, so every server instance, every run and every replay
/// makes the same record once.
public enum VisitPlanning {
    /// A recurring visit plan's rhythm (`visit_schedules`).
    public struct Schedule: Hashable, Sendable {
        /// Every so many weeks (1–52).
        public var everyWeeks: Int
        /// The ISO weekday: 1 is Monday, 7 Sunday.
        public var weekday: Int
        /// The start as a time on the local clock, in minutes (570 is 09:30), and the visit's length.
        public var startMinute: Int, durationMinutes: Int
        /// The first day it may fall on, and the day it ends (no visit starts at or after it), in ms.
        public var startsOn: Int64, endsOn: Int64?

        /// A rhythm.
        public init(everyWeeks: Int, weekday: Int, startMinute: Int, durationMinutes: Int, startsOn: Int64, endsOn: Int64? = nil) {
            self.everyWeeks = everyWeeks
            self.weekday = weekday
            self.startMinute = startMinute
            self.durationMinutes = durationMinutes
            self.startsOn = startsOn
            self.endsOn = endsOn
        }

        /// The visits' starts (ms) in `from...to`, in order: the first `weekday` on or after the
        /// local day of `startsOn`, then every `everyWeeks` weeks, each at `startMinute` local
        /// time in `zone` (so a visit keeps its hour across a change of daylight-saving time).
        public func starts(from: Int64, to: Int64, zone: TimeZone) -> [Int64] {
            guard everyWeeks > 0, (1...7).contains(weekday), from <= to else { return [] }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let firstDay = calendar.startOfDay(for: Date(timeIntervalSince1970: Double(startsOn) / 1_000))
            // Calendar weekdays run 1 (Sunday) to 7 (Saturday); ISO's run 1 (Monday) to 7 (Sunday).
            let iso = (calendar.component(.weekday, from: firstDay) + 5) % 7 + 1
            guard let first = calendar.date(byAdding: .day, value: (weekday - iso + 7) % 7, to: firstDay) else { return [] }
            let step = 7 * everyWeeks
            // Jump near `from`: a plan years old does not walk every week.
            let skipped = max(0, Int((Double(from) / 1_000 - first.timeIntervalSince1970) / 86_400) / step - 1)
            var starts: [Int64] = []
            var index = skipped
            while starts.count < 1_000 {
                guard let day = calendar.date(byAdding: .day, value: index * step, to: first),
                      let start = calendar.clockTime(startMinute, on: day) else { break }
                let milliseconds = Int64((start.timeIntervalSince1970 * 1_000).rounded())
                if milliseconds > to || milliseconds >= (endsOn ?? .max) { break }
                if milliseconds >= from && milliseconds >= startsOn { starts.append(milliseconds) }
                index += 1
            }
            return starts
        }
    }

    /// The id of the visit recurring plan `schedule` makes for `start`.
    public static func scheduledVisitID(schedule: RecordID, start: Int64) -> RecordID {
        RecordID.derived(from: "visit_schedule|\(schedule.uuidString)|\(start)")
    }

    /// The id of the visit an approved weekly plan makes for its `proposal`.
    public static func weekPlanVisitID(proposal: RecordID) -> RecordID {
        RecordID.derived(from: "week_plan_visit|\(proposal.uuidString)")
    }
}
