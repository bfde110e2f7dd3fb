import FieldModel
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

/// A page's changes are merged per record before they are written; applying a page must give the
/// same rows and the same conflicts as applying its change sets one page at a time.
@Suite("Page merge")
struct PageMergeTests {
    @Test("a page merged per record equals its change sets applied one by one", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func samePerRecord(seed: UInt64) async throws {
        var random = SeededRandom(seed)
        let records = (0..<4).map { RecordID(high: 0xC0, low: UInt64($0)) }
        let base = DeviceStoreFixture.serverClock.rawValue
        var changeSets: [ChangeSet] = []
        for n in 0..<60 {
            let record = records[Int(random.next() % UInt64(records.count))]
            // Versions out of order and from three replicas, so that changes lose, win and meet.
            let version = Version(clock: HLC(rawValue: base + (random.next() % 40) << 16), replica: ReplicaID(UInt32(1 + random.next() % 3)))
            let operation: Change.Operation
            switch random.next() % 20 {
            case 0: operation = .delete
            case 1..<9: operation = .write([FieldWrite("phone", .text("phone \(n)"))])
            default: operation = .write([FieldWrite("name", .text("name \(n % 7)")), FieldWrite("phone", .text("phone \(n % 5)"))])
            }
            let change = Change(id: ChangeID(RecordID(high: 0xC1, low: UInt64(n))), table: "customers", record: record, operation: operation, version: version)
            changeSets.append(ChangeSet(id: ChangeID(RecordID(high: 0xC2, low: UInt64(n))), changes: [change]))
        }
        let whole = try await DeviceStoreFixture.make(prime: false)
        defer { whole.remove() }
        let serverClock = HLC(rawValue: base + 50 << 16)
        try await whole.store.apply(BucketPage(bucket: "demo", kind: .changes, changeSets: changeSets, cursor: 1, hasMore: false), serverClock: serverClock)
        let oneByOne = try await DeviceStoreFixture.make(prime: false)
        defer { oneByOne.remove() }
        for (index, changeSet) in changeSets.enumerated() {
            try await oneByOne.store.apply(BucketPage(bucket: "demo", kind: .changes, changeSets: [changeSet], cursor: UInt64(index + 1), hasMore: false),
                                           serverClock: serverClock)
        }
        for record in records {
            let merged = try await whole.store.record("customers", record)
            let applied = try await oneByOne.store.record("customers", record)
            // The oracle: the merge folded over the record's changes in feed order.
            let table = try #require(FieldSalesSchema.schema.table("customers"))
            let expected = changeSets.flatMap(\.changes).filter { $0.record == record }
                .reduce(nil as RecordState?) { state, change in Merge.apply(change, to: state, table: table).state }
            let same = merged == applied && merged == expected
            #expect(same, "seed \(seed): \(record) differs")
        }
        let wholeConflicts = Set(try await whole.store.conflicts().map { "\($0.record) \($0.field) \($0.winner.version) \($0.loser.version)" })
        let oneByOneConflicts = Set(try await oneByOne.store.conflicts().map { "\($0.record) \($0.field) \($0.winner.version) \($0.loser.version)" })
        #expect(wholeConflicts == oneByOneConflicts)
        #expect(try await whole.store.heldRows() == oneByOne.store.heldRows())
    }
}

/// SplitMix64, so that a failing seed replays.
struct SeededRandom {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension PageMergeTests {
    @Test("a later change to a record in the same page wins over an earlier one")
    func laterInPage() async throws {
        let store = try await DeviceStoreFixture.make(prime: false)
        defer { store.remove() }
        let record = RecordID(high: 0xC3, low: 1)
        let base = DeviceStoreFixture.serverClock.rawValue
        let changes = [("a", 10), ("b", 20)].enumerated().map { index, write in
            ChangeSet(id: ChangeID(RecordID(high: 0xC4, low: UInt64(index))), changes: [
                Change(id: ChangeID(RecordID(high: 0xC5, low: UInt64(index))), table: "customers", record: record,
                       operation: .write([FieldWrite("phone", .text(write.0))]), version: Version(clock: HLC(rawValue: base + UInt64(write.1) << 16), replica: ReplicaID(1))),
            ])
        }
        try await store.store.apply(BucketPage(bucket: "demo", kind: .changes, changeSets: changes, cursor: 1, hasMore: false), serverClock: HLC(rawValue: base))
        #expect(try await store.store.record("customers", record)?.fields["phone"]?.value == .text("b"))
    }
}
