import Foundation
import PropertyBased
import SyncCore
import Testing

@testable import FieldModel

/// Automatic dispatch as a pure function (issue 19, item 2): worked examples, then its promises as
/// properties over seeded random worlds — never without the skill or outside the territory, never
/// outside working hours, on a day off or during an absence, never double-booked or over the
/// day's capacity, always inside the window, and the same plan whatever the input order.
@Suite("Dispatch planner")
struct DispatchPlannerTests {
    typealias P = DispatchPlanner
    static let utc = TimeZone(identifier: "UTC")!
    /// Monday 2027-03-01 00:00 UTC.
    static let monday: Int64 = 1_803_859_200_000
    static let hour: Int64 = 3_600_000
    static let north = RecordID(high: 9, low: 1), south = RecordID(high: 9, low: 2)
    static let depot = Coordinate(latitude: 40.4168, longitude: -3.7038)

    static func technician(_ n: UInt64, skills: [String: Int], territories: Set<RecordID> = [north], start: Coordinate? = depot,
                           capacity: Int = 6, absences: [P.Interval] = [], bookings: [P.Booking] = []) -> P.Technician {
        P.Technician(id: RecordID(high: 1, low: n), skills: skills, territories: territories, start: start, workdayStartMinute: 8 * 60,
                     workdayEndMinute: 17 * 60, workingDays: 0b001_1111, dailyCapacity: capacity, absences: absences, bookings: bookings)
    }

    static func job(_ n: UInt64, skills: [String: Int] = ["boiler": 2], territory: RecordID? = north, at location: Coordinate? = depot,
                    minutes: Int = 90, priority: String = "normal", window: (Int64, Int64)? = nil) -> P.Job {
        P.Job(id: RecordID(high: 2, low: n), territory: territory, location: location, requiredSkills: skills, durationMinutes: minutes, priority: priority,
              windowStart: window?.0, windowEnd: window?.1)
    }

    @Test("the qualified technician is chosen, and the reason says why")
    func qualified() throws {
        let novice = Self.technician(1, skills: ["boiler": 1])
        let expert = Self.technician(2, skills: ["boiler": 3, "gas": 1])
        let decision = try #require(P.plan(jobs: [Self.job(1)], technicians: [novice, expert], now: Self.monday + 7 * Self.hour, timeZone: Self.utc).first)
        let assignment = try #require(decision.assignment)
        #expect(assignment.technician == expert.id)
        #expect(assignment.time == P.Interval(start: Self.monday + 8 * Self.hour, end: Self.monday + 9 * Self.hour + Self.hour / 2))
        #expect(decision.reason == "skills: boiler L2; 0.0 km from the start location; 0 of 6 slots used; 1 qualified")
    }

    @Test("no one qualified: the work order waits, and the reason names what is missing")
    func waits() {
        let now = Self.monday + 7 * Self.hour
        let technicians = [Self.technician(1, skills: ["boiler": 1]), Self.technician(2, skills: ["boiler": 2], territories: [Self.south])]
        let reasons = P.plan(jobs: [Self.job(1, skills: ["solar": 1]), Self.job(2), Self.job(3, territory: nil),
                                    Self.job(4, window: (Self.monday + 18 * Self.hour, Self.monday + 19 * Self.hour))],
                             technicians: technicians, now: now, timeZone: Self.utc).map(\.reason)
        #expect(reasons.contains("waiting: no technician holds solar L1"))
        #expect(reasons.contains("waiting: 1 technician holds boiler L2, none serves the customer's territory"))
        #expect(reasons.contains("waiting: the customer has no territory"))
        #expect(reasons.contains("waiting: the window ends before 90 min of work fit in it"))
        #expect(P.plan(jobs: [Self.job(1)], technicians: [], now: now, timeZone: Self.utc)[0].reason == "waiting: no technician has a working week set")
    }

    @Test("nearer beats farther on the same day; fewer jobs break a tie; an urgent job is booked first")
    func ranking() throws {
        let now = Self.monday + 7 * Self.hour
        let far = Coordinate(latitude: 40.50, longitude: -3.70)
        let near = Self.technician(1, skills: ["boiler": 2], start: Self.depot)
        let distant = Self.technician(2, skills: ["boiler": 2], start: far)
        let nearest = try #require(P.plan(jobs: [Self.job(1)], technicians: [distant, near], now: now, timeZone: Self.utc)[0].assignment)
        #expect(nearest.technician == near.id)
        // Two at the same spot: the one with fewer jobs that day.
        let busy = Self.technician(3, skills: ["boiler": 2], bookings: [P.Booking(workOrder: RecordID(high: 7, low: 1),
                                                                                   time: P.Interval(start: Self.monday + 15 * Self.hour, end: Self.monday + 16 * Self.hour), location: Self.depot)])
        let idle = Self.technician(4, skills: ["boiler": 2])
        #expect(P.plan(jobs: [Self.job(1)], technicians: [busy, idle], now: now, timeZone: Self.utc)[0].assignment?.technician == idle.id)
        // One technician with one free slot a day: the urgent job, created last, gets today.
        let single = Self.technician(5, skills: ["boiler": 2], capacity: 1)
        let plan = P.plan(jobs: [Self.job(1, priority: "low"), Self.job(2, priority: "urgent")], technicians: [single], now: now, timeZone: Self.utc)
        #expect(plan[0].job == Self.job(2).id && plan[0].assignment?.time.start == Self.monday + 8 * Self.hour)
        #expect(plan[1].assignment?.time.start == Self.monday + 24 * Self.hour + 8 * Self.hour)
    }

    @Test("a window of years is searched no further than the horizon: the plan stays cheap and still finds the first slot")
    func longWindow() throws {
        let now = Self.monday + 7 * Self.hour
        let job = Self.job(1, window: (now, 4_102_444_800_000))
        let assignment = try #require(P.plan(jobs: [job], technicians: [Self.technician(1, skills: ["boiler": 2])], now: now, timeZone: Self.utc)[0].assignment)
        #expect(assignment.time.start == Self.monday + 8 * Self.hour)
        // No one works: the search ends at the horizon, and the job waits.
        var idle = Self.technician(2, skills: ["boiler": 2])
        idle.workingDays = 0
        #expect(P.plan(jobs: [job], technicians: [idle], now: now, timeZone: Self.utc)[0].assignment == nil)
    }

    @Test("travel between jobs is kept clear: the next job starts after the drive")
    func travel() throws {
        let now = Self.monday + 7 * Self.hour
        let away = Coordinate(latitude: 40.4168 + 0.089, longitude: -3.7038)  // 9.9 km north: 20 minutes at 30 km/h
        let technician = Self.technician(1, skills: [:], bookings: [P.Booking(workOrder: RecordID(high: 7, low: 1),
                                                                                time: P.Interval(start: Self.monday + 8 * Self.hour, end: Self.monday + 10 * Self.hour), location: away)])
        let assignment = try #require(P.plan(jobs: [Self.job(1, skills: [:])], technicians: [technician], now: now, timeZone: Self.utc)[0].assignment)
        #expect(assignment.time.start == Self.monday + 10 * Self.hour + 20 * 60_000)
        #expect(assignment.fromPreviousJob && (9_850...9_950).contains(assignment.travelMeters ?? 0))
    }

    @Test("working hours are local: a technician in Madrid starts at 08:00 CET")
    func timeZones() throws {
        let madrid = try #require(TimeZone(identifier: "Europe/Madrid"))
        let plan = P.plan(jobs: [Self.job(1)], technicians: [Self.technician(1, skills: ["boiler": 2])], now: Self.monday, timeZone: madrid)
        #expect(plan[0].assignment?.time.start == Self.monday + 7 * Self.hour)
    }

    /// The bug: a workday's start was local midnight plus so many minutes, an hour off on the two
    /// days a year the clocks change before the workday begins.
    @Test("working hours are local also on the days the clocks change", arguments: [
        // Sunday 2027-03-28, Madrid: 02:00 CET becomes 03:00 CEST; 08:00 CEST is 06:00 UTC.
        (day: 27, utcHour: 6),
        // Sunday 2027-10-31, Madrid: 03:00 CEST becomes 02:00 CET; 08:00 CET is 07:00 UTC.
        (day: 244, utcHour: 7),
    ])
    func clocksChange(day: Int, utcHour: Int) throws {
        let madrid = try #require(TimeZone(identifier: "Europe/Madrid"))
        let sunday = Self.monday + Int64(day) * 24 * Self.hour
        var everyDay = Self.technician(1, skills: ["boiler": 2])
        everyDay.workingDays = 0b111_1111
        let job = Self.job(1, minutes: 9 * 60, window: (sunday - 2 * Self.hour, sunday + 22 * Self.hour))
        let plan = P.plan(jobs: [job], technicians: [everyDay], now: sunday - 2 * Self.hour, timeZone: madrid)
        let time = try #require(plan[0].assignment?.time)
        #expect(time.start == sunday + Int64(utcHour) * Self.hour)
        #expect(time.end == sunday + Int64(utcHour + 9) * Self.hour)
    }

    // MARK: - Properties

    /// A random world: technicians with skills, territories, hours, days off, absences and
    /// bookings; jobs with skills, windows and priorities.
    struct World {
        var technicians: [P.Technician] = []
        var jobs: [P.Job] = []
        let now: Int64

        init(seed: UInt64) {
            var random = SplitMix64(seed: seed)
            func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
            let skills = ["boiler", "gas", "electric", "solar"]
            let territories = (1...3).map { RecordID(high: 9, low: UInt64($0)) }
            func place() -> Coordinate? { int(0...9) == 0 ? nil : Coordinate(latitudeE6: 40_400_000 + Int64(int(0...100_000)), longitudeE6: -3_700_000 + Int64(int(0...100_000))) }
            now = DispatchPlannerTests.monday + Int64(int(0...(3 * 24))) * DispatchPlannerTests.hour + Int64(int(0...59)) * 60_000
            for n in 0..<int(0...8) {
                let first = int(6 * 60...10 * 60)
                var absences: [P.Interval] = []
                for _ in 0..<int(0...2) {
                    let start = now + Int64(int(0...(5 * 24 * 60))) * 60_000
                    absences.append(P.Interval(start: start, end: start + Int64(int(30...(2 * 24 * 60))) * 60_000))
                }
                var bookings: [P.Booking] = []
                var cursor = now
                for b in 0..<int(0...4) {
                    cursor += Int64(int(0...(24 * 60))) * 60_000
                    let end = cursor + Int64(int(30...180)) * 60_000
                    bookings.append(P.Booking(workOrder: RecordID(high: 8, low: UInt64(n * 10 + b)), time: P.Interval(start: cursor, end: end), location: place()))
                    cursor = end
                }
                technicians.append(P.Technician(
                    id: RecordID(high: 1, low: UInt64(int(1...1_000))), skills: Dictionary(uniqueKeysWithValues: skills.filter { _ in int(0...1) == 0 }.map { ($0, int(1...5)) }),
                    territories: Set(territories.filter { _ in int(0...2) != 0 }), start: place(), workdayStartMinute: first,
                    workdayEndMinute: first + int(4 * 60...10 * 60), workingDays: int(0...127), dailyCapacity: int(1...5), absences: absences, bookings: bookings))
            }
            technicians = Dictionary(technicians.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }).values.sorted { $0.id < $1.id }
            for n in 0..<int(0...30) {
                let window: (Int64, Int64)? = int(0...2) == 0 ? nil : {
                    let start = now + Int64(int(-24 * 60...(4 * 24 * 60))) * 60_000
                    return (start, start + Int64(int(60...(3 * 24 * 60))) * 60_000)
                }()
                jobs.append(P.Job(id: RecordID(high: 2, low: UInt64(n)), territory: int(0...9) == 0 ? nil : territories[int(0...2)], location: place(),
                                  requiredSkills: Dictionary(uniqueKeysWithValues: skills.filter { _ in int(0...2) == 0 }.map { ($0, int(1...4)) }),
                                  durationMinutes: int(5...300), priority: ["urgent", "high", "normal", "low", "other"][int(0...4)],
                                  windowStart: window?.0, windowEnd: window?.1))
            }
        }
    }

    static var cases: Int { ProcessInfo.processInfo.environment["FIELDSYNC_PROPERTY_CASES"].flatMap(Int.init) ?? 500 }

    @Test("never without the skill or the territory, never outside hours, a working day, the window; never in an absence; never double-booked or over capacity")
    func promises() async {
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { seed in
            let world = World(seed: seed)
            let plan = P.plan(jobs: world.jobs, technicians: world.technicians, now: world.now, timeZone: Self.utc)
            #expect(plan.count == world.jobs.count && Set(plan.map(\.job)) == Set(world.jobs.map(\.id)), "seed \(seed)")
            var booked = Dictionary(uniqueKeysWithValues: world.technicians.map { ($0.id, $0.bookings.map(\.time)) })
            var added: [RecordID: [P.Interval]] = [:]
            for decision in plan {
                guard let assignment = decision.assignment else {
                    #expect(decision.reason.hasPrefix("waiting: "), "seed \(seed)")
                    continue
                }
                let job = world.jobs.first { $0.id == decision.job }!
                let technician = world.technicians.first { $0.id == assignment.technician }!
                let time = assignment.time
                #expect(job.requiredSkills.allSatisfy { (technician.skills[$0.key] ?? 0) >= $0.value }, "skill, seed \(seed)")
                #expect(job.territory.map(technician.territories.contains) == true, "territory, seed \(seed)")
                #expect(time.end - time.start == Int64(job.durationMinutes) * 60_000, "duration, seed \(seed)")
                #expect(time.start >= world.now && time.start >= (job.windowStart ?? .min) && time.end <= (job.windowEnd ?? .max), "window, seed \(seed)")
                let dayStart = time.start - ((time.start % 86_400_000) + 86_400_000) % 86_400_000
                let weekday = Int(((dayStart - Self.monday) / 86_400_000 % 7 + 7) % 7)
                #expect(technician.works(on: weekday), "day off, seed \(seed)")
                #expect(time.start >= dayStart + Int64(technician.workdayStartMinute) * 60_000
                        && time.end <= dayStart + Int64(technician.workdayEndMinute) * 60_000, "hours, seed \(seed)")
                #expect(technician.absences.allSatisfy { $0.end <= time.start || time.end <= $0.start }, "absence, seed \(seed)")
                #expect(booked[technician.id, default: []].allSatisfy { $0.end <= time.start || time.end <= $0.start }, "double-booked, seed \(seed)")
                let sameDay = booked[technician.id, default: []].filter { $0.start >= dayStart && $0.start < dayStart + 86_400_000 }.count
                #expect(sameDay < technician.dailyCapacity, "capacity, seed \(seed)")
                booked[technician.id, default: []].append(time)
                added[technician.id, default: []].append(time)
            }
        }
    }

    @Test("the same world in any order gives the same plan")
    func deterministic() async {
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { seed in
            let world = World(seed: seed)
            var random = SplitMix64(seed: seed ^ 0x5eed)
            let plan = P.plan(jobs: world.jobs, technicians: world.technicians, now: world.now, timeZone: Self.utc)
            let shuffled = P.plan(jobs: world.jobs.shuffled(using: &random), technicians: world.technicians.shuffled(using: &random), now: world.now, timeZone: Self.utc)
            #expect(plan == shuffled, "seed \(seed)")
        }
    }

    @Test("a job alone that waits has no slot: a search of every five minutes finds none either (the gap search misses nothing)")
    func waitingIsHonest() async {
        await propertyCheck(count: max(1, Self.cases / 5), input: Gen.uint64()) { seed in
            let world = World(seed: seed)
            for job in world.jobs.prefix(4) {
                let alone = P.plan(jobs: [job], technicians: world.technicians, now: world.now, timeZone: Self.utc)[0]
                guard alone.assignment == nil, let territory = job.territory else { continue }
                let from = P.roundUp(max(world.now, job.windowStart ?? world.now), toMinutes: 5)
                let to = min(job.windowEnd ?? .max, from + Int64(P.horizonDays) * 86_400_000)
                let duration = Int64(job.durationMinutes) * 60_000
                for technician in world.technicians where technician.territories.contains(territory)
                    && job.requiredSkills.allSatisfy({ (technician.skills[$0.key] ?? 0) >= $0.value }) {
                    var start = from
                    while start + duration <= to {
                        let end = start + duration
                        let dayStart = start - ((start % 86_400_000) + 86_400_000) % 86_400_000
                        let weekday = Int(((dayStart - Self.monday) / 86_400_000 % 7 + 7) % 7)
                        let sameDay = technician.bookings.filter { $0.time.start >= dayStart && $0.time.start < dayStart + 86_400_000 }
                        let fits = technician.works(on: weekday)
                            && start >= dayStart + Int64(technician.workdayStartMinute) * 60_000 && end <= dayStart + Int64(technician.workdayEndMinute) * 60_000
                            && sameDay.count < technician.dailyCapacity
                            && technician.absences.allSatisfy { $0.end <= start || end <= $0.start }
                            && sameDay.allSatisfy { booking in
                                booking.time.end + P.travelTime(booking.location, job.location) <= start || end + P.travelTime(job.location, booking.location) <= booking.time.start
                            }
                            && technician.bookings.allSatisfy { $0.time.end <= start || end <= $0.time.start }
                        #expect(!fits, "seed \(seed): \(job.id) waits (\(alone.reason)) though \(technician.id) is free at \(start)")
                        if fits { break }
                        start += 5 * 60_000
                    }
                }
            }
        }
    }
}
