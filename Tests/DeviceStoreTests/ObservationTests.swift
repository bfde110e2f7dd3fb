import FieldModel
import Foundation
import SyncCore
import SyncWire
import Testing
@testable import DeviceStore

/// Live queries: a value at once, then one for each commit that changes it, and none else.
@Suite("Live queries")
struct ObservationTests {
    static let day: Int64 = 86_400_000
    static let monday = DeviceQuery.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + day)

    @Test("a live query yields at once, then after an action that changes its value; not for a write elsewhere, nor for one that leaves it as it was")
    func yieldsOnlyOnChange() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        var values = fixture.store.observe(Self.monday).makeAsyncIterator()
        let first = try #require(try await values.next())
        let visit = try #require(first.first)
        #expect(first.allSatisfy { $0.status == "planned" })
        // Elsewhere: an order (the list reads no orders).
        _ = try await fixture.store.createOrder(customer: visit.customerID)
        // Read, but the value stays: the customer's phone (the list shows no phone).
        _ = try await fixture.store.correctCustomer(visit.customerID, ["phone": .text("+1-212-555-0100")])
        // Changed: the check-in.
        _ = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10,
                                                                                deviceTime: Int64(fixture.clock.now())))
        let next = try #require(try await values.next())
        #expect(next.first { $0.id == visit.id }?.status == "in_progress", "the next value is the check-in's: nothing was yielded in between")
        #expect(next.filter { $0.status == "planned" }.count == first.count - 1)
    }

    @Test("a pulled page changes a live query's value; a burst of commits ends on the last value; cancelling stops the observation")
    func pagesBurstsAndCancellation() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let watched = DeviceQuery.visit(visit.id).map { $0?.summary.instructions }
        var values = fixture.store.observe(watched).makeAsyncIterator()
        let before = try await values.next()
        let office = Version(clock: HLC(rawValue: DeviceStoreFixture.serverClock.rawValue + 500 << 16), replica: .server)
        let change = Change(id: ChangeID(RecordID(high: 9, low: 1)), table: "visits", record: visit.id,
                            operation: .write([FieldWrite("instructions", .text("Ring at the back door"), base: nil)]), version: office)
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .changes, changeSets: [ChangeSet(id: ChangeID(RecordID(high: 9, low: 2)), changes: [change])],
                                                 cursor: 99, hasMore: false), serverClock: office.clock)
        let after = try await values.next()
        #expect(before != after)
        #expect(after == "Ring at the back door")

        // A burst: forty renames of the customer, watched through the visit list.
        let names = DeviceQuery.visits(from: DeviceStoreFixture.monday, to: DeviceStoreFixture.monday + Self.day)
            .map { $0.first { $0.id == visit.id }?.customerName }
        let consumer = Task {
            var seen: [String?] = []
            for try await name in fixture.store.observe(names) {
                seen.append(name)
                if name == "Renamed 40" { break }
            }
            return seen
        }
        for n in 1...40 { _ = try await fixture.store.correctCustomer(visit.customerID, ["name": .text("Renamed \(n)")]) }
        let seen = try await consumer.value
        #expect(seen.last == "Renamed 40")
        #expect(seen.count <= 41)
        let numbers = seen.compactMap { name in name.flatMap { $0.hasPrefix("Renamed ") ? Int($0.dropFirst(8)) : nil } }
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count, "values arrive in commit order, each once: \(numbers)")

        // Cancelling the consumer removes the observer.
        let cancelled = Task { for try await _ in fixture.store.observe(names) {} }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        var observers = 1
        for _ in 0..<100 {
            observers = await fixture.store.database.commitObserverCount
            if observers <= 1 { break }  // the first observation above is still open
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(observers <= 1)
    }
}
