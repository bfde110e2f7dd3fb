public import Foundation
public import SyncCore

/// Automatic dispatch (DOMAIN.md §6, issue 19): which technician does each open work order, and
/// when — a pure function of the work orders, the technicians' resources and the time, so that the
/// same state always gives the same plan, and the property tests can hold it to its promises.
///
/// Each work order is taken in turn, most urgent first (priority, then the earliest end of its
/// window, then its id), and booked before the next is looked at, so a later one sees the
/// earlier bookings. For one work order:
/// 1. **Qualified**: the technician holds every skill its type requires, at the level or above,
///    and serves the customer's territory (`service_territories`).
/// 2. **Free**: the earliest slot of the type's duration inside the work order's window and the
///    next ``horizonDays`` days, inside the technician's working hours on a working
///    day, clear of absences and of every booking with the travel between them, on a day with
///    fewer bookings than the technician's daily capacity.
/// 3. **Ranked**: the first day anyone qualified is free; then the shortest travel from the
///    previous job of that day (or the technician's start location); then the fewest jobs that
///    day; then the earliest start; then the technician's id.
///
/// Distances are great-circle (haversine) between coordinates, not road distances; travel time
/// between jobs is that distance at ``travelMetersPerMinute``, rounded up to five minutes. Working
/// hours are times on the local clock in the tenant's time zone, given as minutes after midnight:
/// 08:00 is 08:00 also on the days the clocks change.
public enum DispatchPlanner {
    /// How far ahead a work order without a window end may be booked.
    public static let horizonDays = 14
    /// Average travel speed between jobs, in meters per minute (30 km/h in town).
    public static let travelMetersPerMinute = 500
    /// Slots start on a multiple of this many minutes.
    public static let slotMinutes = 5

    /// A span of time in milliseconds since the epoch, end excluded.
    public struct Interval: Hashable, Sendable {
        /// The first millisecond.
        public var start: Int64
        /// The first millisecond after it.
        public var end: Int64

        /// Creates an interval.
        public init(start: Int64, end: Int64) {
            self.start = start
            self.end = end
        }
    }

    /// A work order already booked on a technician's day.
    public struct Booking: Hashable, Sendable {
        /// The work order.
        public var workOrder: RecordID
        /// When.
        public var time: Interval
        /// Where (the customer's coordinates), if known.
        public var location: Coordinate?

        /// Creates a booking.
        public init(workOrder: RecordID, time: Interval, location: Coordinate?) {
            self.workOrder = workOrder
            self.time = time
            self.location = location
        }
    }

    /// A technician as dispatch sees them.
    public struct Technician: Hashable, Sendable {
        /// The user.
        public var id: RecordID
        /// Skill → level (1–5).
        public var skills: [String: Int]
        /// The territories whose customers they serve.
        public var territories: Set<RecordID>
        /// Where the day starts, if known.
        public var start: Coordinate?
        /// Working hours: times on the local clock, as minutes after midnight.
        public var workdayStartMinute: Int, workdayEndMinute: Int
        /// Working days: bit 0 Monday … bit 6 Sunday.
        public var workingDays: Int
        /// The most jobs on one day.
        public var dailyCapacity: Int
        /// Time off.
        public var absences: [Interval]
        /// Work orders already booked.
        public var bookings: [Booking]

        /// Creates a technician.
        public init(id: RecordID, skills: [String: Int], territories: Set<RecordID>, start: Coordinate?, workdayStartMinute: Int, workdayEndMinute: Int,
                    workingDays: Int, dailyCapacity: Int, absences: [Interval] = [], bookings: [Booking] = []) {
            self.id = id
            self.skills = skills
            self.territories = territories
            self.start = start
            self.workdayStartMinute = workdayStartMinute
            self.workdayEndMinute = workdayEndMinute
            self.workingDays = workingDays
            self.dailyCapacity = dailyCapacity
            self.absences = absences
            self.bookings = bookings
        }

        /// Whether they work on `weekday` (0 Monday … 6 Sunday).
        public func works(on weekday: Int) -> Bool { workingDays & (1 << weekday) != 0 }
    }

    /// A work order waiting for a technician.
    public struct Job: Hashable, Sendable {
        /// The work order.
        public var id: RecordID
        /// Its customer's territory and location.
        public var territory: RecordID?, location: Coordinate?
        /// Skill → minimum level, from its type.
        public var requiredSkills: [String: Int]
        /// How long it takes, from its type.
        public var durationMinutes: Int
        /// `urgent`, `high`, `normal`, `low`.
        public var priority: String
        /// The dispatcher's window, if any.
        public var windowStart: Int64?, windowEnd: Int64?

        /// Creates a job.
        public init(id: RecordID, territory: RecordID?, location: Coordinate?, requiredSkills: [String: Int], durationMinutes: Int, priority: String,
                    windowStart: Int64? = nil, windowEnd: Int64? = nil) {
            self.id = id
            self.territory = territory
            self.location = location
            self.requiredSkills = requiredSkills
            self.durationMinutes = durationMinutes
            self.priority = priority
            self.windowStart = windowStart
            self.windowEnd = windowEnd
        }
    }

    /// Who does a job, when, and the figures behind the choice.
    public struct Assignment: Hashable, Sendable {
        /// The technician.
        public var technician: RecordID
        /// The booked slot.
        public var time: Interval
        /// Meters from the previous job of the day (or the start location); `nil` when a location is unknown.
        public var travelMeters: Int?
        /// Whether the travel is measured from a previous job (else from the start location).
        public var fromPreviousJob: Bool
        /// Jobs already booked that day, and the day's capacity.
        public var jobsThatDay: Int, capacity: Int
    }

    /// The plan for one job: an assignment, or why it waits; and its reason in words.
    public struct Decision: Hashable, Sendable {
        /// The work order.
        public var job: RecordID
        /// The assignment, or `nil` when no one qualifies or is free.
        public var assignment: Assignment?
        /// Why, for the dispatcher: "skills: boiler L2; 3.1 km from the previous job; 2 of 6 slots used".
        public var reason: String

        /// Creates a decision.
        public init(job: RecordID, assignment: Assignment?, reason: String) {
            self.job = job
            self.assignment = assignment
            self.reason = reason
        }
    }

    /// The rank of a priority: lower goes first.
    public static func rank(priority: String) -> Int {
        switch priority {
        case "urgent": 0
        case "high": 1
        case "low": 3
        default: 2
        }
    }

    /// Plans `jobs` over `technicians` as of `now`, in the time zone `timeZone`. Deterministic: the
    /// same inputs, in any order, give the same decisions, in the order the jobs were taken.
    public static func plan(jobs: [Job], technicians: [Technician], now: Int64, timeZone: TimeZone) -> [Decision] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var days = DayTable(calendar: calendar)
        var staff = technicians.sorted { $0.id < $1.id }
        let ordered = jobs.sorted { a, b in
            (rank(priority: a.priority), a.windowEnd ?? .max, a.windowStart ?? 0, a.id) < (rank(priority: b.priority), b.windowEnd ?? .max, b.windowStart ?? 0, b.id)
        }
        var decisions: [Decision] = []
        decisions.reserveCapacity(ordered.count)
        for job in ordered {
            let decision = decide(job, staff: staff, now: now, days: &days)
            if let assignment = decision.assignment, let index = staff.firstIndex(where: { $0.id == assignment.technician }) {
                staff[index].bookings.append(Booking(workOrder: job.id, time: assignment.time, location: job.location))
            }
            decisions.append(decision)
        }
        return decisions
    }

    // MARK: - One job

    static func decide(_ job: Job, staff: [Technician], now: Int64, days: inout DayTable) -> Decision {
        let skills = describe(job.requiredSkills)
        let from = roundUp(max(now, job.windowStart ?? now), toMinutes: slotMinutes)
        // At most the horizon ahead, whatever the window: a window of years costs no more than two weeks.
        let to = min(job.windowEnd ?? .max, from + Int64(horizonDays) * 86_400_000)
        let duration = Int64(job.durationMinutes) * 60_000
        guard from + duration <= to else {
            return Decision(job: job.id, assignment: nil, reason: "waiting: the window ends before \(job.durationMinutes) min of work fit in it")
        }
        let skilled = staff.filter { technician in job.requiredSkills.allSatisfy { (technician.skills[$0.key] ?? 0) >= $0.value } }
        guard !skilled.isEmpty else {
            return Decision(job: job.id, assignment: nil, reason: staff.isEmpty ? "waiting: no technician has a working week set" : "waiting: no technician holds \(skills)")
        }
        guard let territory = job.territory else {
            return Decision(job: job.id, assignment: nil, reason: "waiting: the customer has no territory")
        }
        let qualified = skilled.filter { $0.territories.contains(territory) }
        guard !qualified.isEmpty else {
            return Decision(job: job.id, assignment: nil, reason: "waiting: \(skilled.count) technician\(skilled.count == 1 ? "" : "s") \(skilled.count == 1 ? "holds" : "hold") \(skills), none serves the customer's territory")
        }
        var best: (key: RankKey, assignment: Assignment)?
        for technician in qualified {
            guard let assignment = earliestSlot(for: job, technician: technician, from: from, to: to, duration: duration, days: &days) else { continue }
            let key = RankKey(day: days.dayNumber(of: assignment.time.start), travel: assignment.travelMeters ?? Int.max, load: assignment.jobsThatDay,
                              start: assignment.time.start, technician: technician.id)
            if best == nil || key < best!.key { best = (key, assignment) }
        }
        guard let best else {
            return Decision(job: job.id, assignment: nil,
                            reason: "waiting: \(qualified.count) qualified technician\(qualified.count == 1 ? " is" : "s are") not free for \(job.durationMinutes) min before the window ends")
        }
        let a = best.assignment
        let travel = a.travelMeters.map { "\(kilometers($0)) km from \(a.fromPreviousJob ? "the previous job" : "the start location")" } ?? "distance unknown (no location)"
        return Decision(job: job.id, assignment: a,
                        reason: "skills: \(skills); \(travel); \(a.jobsThatDay) of \(a.capacity) slots used; \(qualified.count) qualified")
    }

    /// The technician's earliest slot for `job` in `from..<to`, or `nil`.
    static func earliestSlot(for job: Job, technician: Technician, from: Int64, to: Int64, duration: Int64, days: inout DayTable) -> Assignment? {
        for day in days.days(from: from, to: to) where technician.works(on: day.weekday) {
            let open = max(from, days.moment(technician.workdayStartMinute, on: day))
            let close = min(to, days.moment(technician.workdayEndMinute, on: day))
            guard open + duration <= close else { continue }
            let booked = technician.bookings.filter { $0.time.start >= day.start && $0.time.start < day.end }
            guard booked.count < technician.dailyCapacity else { continue }
            // What the slot must keep clear of: bookings (with travel to and from them) and absences.
            // (Every booking, not only the day's: one from the evening before may run past midnight.)
            let busy = technician.bookings.map { (time: $0.time, location: $0.location) }
                + technician.absences.filter { $0.end > open && $0.start < close }.map { (time: $0, location: Coordinate?.none) }
            var candidates = [open]
            for item in busy { candidates.append(item.time.end + travelTime(item.location, job.location)) }
            for candidate in candidates.sorted() where candidate >= open {
                let start = roundUp(candidate, toMinutes: slotMinutes)
                let end = start + duration
                if end > close { break }
                let clear = busy.allSatisfy { item in
                    item.time.end + travelTime(item.location, job.location) <= start || end + travelTime(job.location, item.location) <= item.time.start
                }
                guard clear else { continue }
                let previous = booked.filter { $0.time.end <= start }.max { ($0.time.end, $0.workOrder) < ($1.time.end, $1.workOrder) }
                let origin = previous.map(\.location) ?? technician.start
                let travel = origin.flatMap { origin in job.location.map { Geofence.wholeMeters(Geofence.distance(origin, $0)) } }
                return Assignment(technician: technician.id, time: Interval(start: start, end: end), travelMeters: travel, fromPreviousJob: previous != nil,
                                  jobsThatDay: booked.count, capacity: technician.dailyCapacity)
            }
        }
        return nil
    }

    /// Minutes of travel between two places, in milliseconds, rounded up to the slot size; none when either is unknown.
    static func travelTime(_ a: Coordinate?, _ b: Coordinate?) -> Int64 {
        guard let a, let b else { return 0 }
        let minutes = Int64((Geofence.distance(a, b) / Double(travelMetersPerMinute)).rounded(.up))
        return roundUp(minutes * 60_000, toMinutes: slotMinutes)
    }

    static func roundUp(_ milliseconds: Int64, toMinutes minutes: Int) -> Int64 {
        let step = Int64(minutes) * 60_000
        let remainder = ((milliseconds % step) + step) % step
        return remainder == 0 ? milliseconds : milliseconds + step - remainder
    }

    static func describe(_ skills: [String: Int]) -> String {
        skills.isEmpty ? "none required" : skills.sorted { $0.key < $1.key }.map { "\($0.key) L\($0.value)" }.joined(separator: ", ")
    }

    static func kilometers(_ meters: Int) -> String {
        let tenths = (meters + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }

    struct RankKey: Comparable {
        var day: Int, travel: Int, load: Int, start: Int64, technician: RecordID

        static func < (a: RankKey, b: RankKey) -> Bool {
            (a.day, a.travel, a.load, a.start, a.technician) < (b.day, b.travel, b.load, b.start, b.technician)
        }
    }

    // MARK: - Local days

    /// One local day: its first millisecond, the next day's, and its weekday (0 Monday).
    struct Day: Hashable {
        var number: Int, start: Int64, end: Int64, weekday: Int
    }

    /// Local days, computed once each (calendar arithmetic is the slow part of a plan).
    struct DayTable {
        let calendar: Calendar
        var known: [Int: Day] = [:]
        /// Clock times on days the clocks change, by day number and minute.
        var moments: [Int: [Int: Int64]] = [:]

        init(calendar: Calendar) { self.calendar = calendar }

        /// The local day a moment falls on, numbered from the epoch's day.
        func dayNumber(of milliseconds: Int64) -> Int {
            let offset = Int64(calendar.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))) * 1_000
            return Int((milliseconds + offset).floorDivided(by: 86_400_000))
        }

        mutating func day(_ number: Int) -> Day {
            if let day = known[number] { return day }
            // Local noon of the day: UTC noon shifted by the zone's offset there.
            let utcNoon = Date(timeIntervalSince1970: Double(number) * 86_400 + 43_200)
            let noon = utcNoon.addingTimeInterval(-Double(calendar.timeZone.secondsFromGMT(for: utcNoon)))
            let start = calendar.startOfDay(for: noon)
            let next = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
            let weekday = (calendar.component(.weekday, from: noon) + 5) % 7
            let day = Day(number: number, start: Int64(start.timeIntervalSince1970 * 1_000), end: Int64(next.timeIntervalSince1970 * 1_000), weekday: weekday)
            known[number] = day
            return day
        }

        /// The moment the local clock shows `minute` minutes after midnight on `day` (1,440 is the
        /// next midnight): `Calendar.clockTime`, asked only on the days the clocks change
        /// (any other day is midnight plus so many minutes) and remembered.
        mutating func moment(_ minute: Int, on day: Day) -> Int64 {
            if day.end - day.start == 86_400_000 { return day.start + Int64(minute) * 60_000 }
            if minute >= 24 * 60 { return day.end + Int64(minute - 24 * 60) * 60_000 }
            if let known = moments[day.number]?[minute] { return known }
            let clock = calendar.clockTime(minute, on: Date(timeIntervalSince1970: Double(day.start) / 1_000))
            let moment = clock.map { Int64(($0.timeIntervalSince1970 * 1_000).rounded()) } ?? day.start + Int64(minute) * 60_000
            moments[day.number, default: [:]][minute] = moment
            return moment
        }

        /// The local days that overlap `from..<to`.
        mutating func days(from: Int64, to: Int64) -> [Day] {
            let first = dayNumber(of: from), last = dayNumber(of: to - 1)
            return first <= last ? (first...last).map { day($0) } : []
        }
    }
}

extension Int64 {
    /// The quotient rounded toward negative infinity.
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
