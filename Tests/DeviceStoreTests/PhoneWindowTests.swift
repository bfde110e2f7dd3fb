import FieldModel
import Foundation
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

/// The phone's side of its window: a retired row leaves, never before its own changes are
/// answered; a fetched row stays until released.
@Suite("Phone window")
struct DevicePhoneWindowTests {
    @Test("a row the server retires while one of its changes waits stays until the answer comes, then goes")
    func removeWaitsForTheAnswer() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        _ = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10,
                                                                               deviceTime: Int64(fixture.clock.now())))
        let ref = RecordRef(table: "visits", record: visit.id)
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .changes, removes: [ref], cursor: 100, hasMore: false),
                                      serverClock: DeviceStoreFixture.serverClock)
        #expect(try await fixture.store.record("visits", visit.id) != nil, "its check-in is not answered yet: the visit stays")

        let pending = try await fixture.store.pendingChangeSets()
        let outcomes = pending.flatMap(\.changes).map { ChangeOutcome(change: $0.id, result: .applied) }
        try await fixture.store.recordOutcomes(PushResponse(batch: RecordID(high: 9, low: 9), serverClock: DeviceStoreFixture.serverClock, outcomes: outcomes))
        #expect(try await fixture.store.record("visits", visit.id) == nil, "answered, it leaves")
    }

    @Test("a fetched record is kept though no bucket holds it, until it is released; never while its change waits")
    func fetchedRows() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let ref = RecordRef(table: "visits", record: visit.id)
        let state = try #require(try await fixture.store.record("visits", visit.id))
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .changes, removes: [ref], cursor: 100, hasMore: false),
                                      serverClock: DeviceStoreFixture.serverClock)
        #expect(try await fixture.store.record("visits", visit.id) == nil)

        try await fixture.store.keepFetched([RecordSnapshot(ref: ref, state: state)])
        #expect(try await fixture.store.record("visits", visit.id) == state)
        #expect(try await fixture.store.fetchedRows() == [ref])
        #expect(try await !fixture.store.heldRows().contains(ref), "fetched is not held by a bucket")
        #expect(try await fixture.store.releaseFetched(olderThan: 3_600_000) == 0, "fetched just now")

        _ = try await fixture.store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10,
                                                                               deviceTime: Int64(fixture.clock.now())))
        fixture.clock.advance(by: 2 * 3_600_000)
        #expect(try await fixture.store.releaseFetched(olderThan: 3_600_000) == 0, "its check-in waits for an answer")
        let outcomes = try await fixture.store.pendingChangeSets().flatMap(\.changes).map { ChangeOutcome(change: $0.id, result: .applied) }
        try await fixture.store.recordOutcomes(PushResponse(batch: RecordID(high: 9, low: 9), serverClock: DeviceStoreFixture.serverClock, outcomes: outcomes))
        #expect(try await fixture.store.record("visits", visit.id) != nil, "answered, a fetched row is still kept")
        #expect(try await fixture.store.releaseFetched(olderThan: 3_600_000) == 2, "the visit and the check-in made under it")
        #expect(try await fixture.store.record("visits", visit.id) == nil)
        #expect(try await fixture.store.fetchedRows().isEmpty)
    }
}
