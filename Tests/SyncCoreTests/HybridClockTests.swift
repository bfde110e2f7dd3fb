import PropertyBased
import Testing

@testable import SyncCore

@Suite("HybridClock")
struct HybridClockTests {
    @Test("stamps only go up, even when the wall clock jumps back")
    func monotonic() async {
        await propertyCheck(count: Arbitrary.cases, input: Gen.uint64()) { seed in
            var arbitrary = Arbitrary(seed: seed)
            var clock = HybridClock()
            var previous = HLC.zero
            for _ in 0..<50 {
                let wall = UInt64(1_700_000_000_000 + arbitrary.int(-5_000...5_000))  // jumps both ways
                let stamp: HLC
                if arbitrary.int(0...3) == 0 {
                    let remote = HLC(milliseconds: UInt64(1_700_000_000_000 + arbitrary.int(-5_000...5_000)), counter: UInt16(arbitrary.int(0...65_535)))
                    clock.receive(remote, wallMilliseconds: wall)
                    stamp = clock.tick(wallMilliseconds: wall)
                    #expect(stamp > remote, "seed \(seed)")
                } else {
                    stamp = clock.tick(wallMilliseconds: wall)
                }
                #expect(stamp > previous, "seed \(seed)")
                #expect(stamp.milliseconds >= wall, "follows the wall clock when it is ahead")
                previous = stamp
            }
        }
    }

    @Test("the counter carries into the milliseconds instead of overflowing")
    func counterCarry() {
        var clock = HybridClock(last: HLC(milliseconds: 100, counter: .max))
        let next = clock.tick(wallMilliseconds: 50)
        #expect(next == HLC(milliseconds: 101, counter: 0))
    }

    @Test("a clock far ahead of the server's is detected; one within the allowance is not")
    func aheadDetection() {
        let server: UInt64 = 1_764_547_200_000
        #expect(HybridClock.isAhead(HLC(milliseconds: server + 3 * 86_400_000), of: server, by: .seconds(300)))
        #expect(!HybridClock.isAhead(HLC(milliseconds: server + 200_000), of: server, by: .seconds(300)))
        #expect(!HybridClock.isAhead(HLC(milliseconds: server - 86_400_000), of: server, by: .seconds(300)), "behind is never ahead")
    }

    @Test("re-stamping unacknowledged changes after a rewind keeps their order and their wins over what they saw")
    func restamp() {
        let serverNow: UInt64 = 1_764_547_200_000
        let phoneWall = serverNow + 3 * 86_400_000  // three days ahead
        let seen = Version(clock: HLC(milliseconds: serverNow - 60_000), replica: .server)
        var phone = HybridClock()
        phone.receive(seen.clock, wallMilliseconds: phoneWall)
        let pending = (0..<3).map { index in
            Change(id: ChangeID(RecordID(high: 9, low: UInt64(index))), table: "visits", record: RecordID(high: 1, low: 1),
                   operation: .write([FieldWrite("notes", .text("edit \(index)"), base: seen)]),
                   version: Version(clock: phone.tick(wallMilliseconds: phoneWall), replica: ReplicaID(3)))
        }
        #expect(pending.allSatisfy { HybridClock.isAhead($0.version.clock, of: serverNow, by: .seconds(300)) })

        phone.rewind(to: HLC(milliseconds: serverNow))
        let restamped = phone.restamp(pending, wallMilliseconds: serverNow + 1_000)  // the phone's clock, corrected
        #expect(restamped.map(\.id) == pending.map(\.id))
        #expect(zip(restamped, restamped.dropFirst()).allSatisfy { $0.version < $1.version }, "order kept")
        #expect(restamped.allSatisfy { $0.version > seen && !HybridClock.isAhead($0.version.clock, of: serverNow, by: .seconds(300)) })
        // Merged on the server after the value the rep had seen, the last edit stands.
        let table = ConvergenceTests.table
        let base = Change(id: ChangeID(RecordID(high: 8, low: 0)), table: "visits", record: RecordID(high: 1, low: 1),
                          operation: .write([FieldWrite("notes", .text("dispatcher's"))]), version: seen)
        let final = ([base] + restamped).reduce(nil as RecordState?) { Merge.apply($1, to: $0, table: table).state }
        #expect(final?.fields["notes"]?.value == .text("edit 2"))
    }
}
