import DemoData
import FieldModel
import SyncCore
import SyncWire
import Testing

@testable import DeviceStore

@Suite("Lookups")
struct LookupTests {
    @Test("customers and products are found by any part of a name or code, in any case, and limited")
    func search() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let fragment = String(visit.customerName.dropFirst(2).prefix(5))
        let customers = try await fixture.store.customers(search: fragment.uppercased())
        #expect(customers.contains { $0.id == visit.customerID })
        #expect(customers.allSatisfy { $0.name.lowercased().contains(fragment.lowercased()) || ($0.phone ?? "").contains(fragment.uppercased())
            || ($0.taxNumber ?? "").lowercased().contains(fragment.lowercased()) })
        #expect(try await fixture.store.customers(limit: 3).count == 3)
        #expect(try await fixture.store.customers(search: "zzz no such customer").isEmpty)
        let first = try #require(try await fixture.store.products(limit: 1).first)
        let bySKU = try await fixture.store.products(search: String(first.sku.lowercased()))
        #expect(bySKU.contains { $0.id == first.id })
    }

    @Test("a visit comes with its customer and tasks, required first; the last price is the newest")
    func visitAndLastPrice() async throws {
        let fixture = try await DeviceStoreFixture.make()
        defer { fixture.remove() }
        let visit = try await fixture.firstVisit()
        let version = Version(clock: DeviceStoreFixture.serverClock, replica: .server)
        func field(_ value: FieldValue) -> FieldState { FieldState(value: value, version: version) }
        // The dispatcher gave the visit two tasks: an optional photo and a required shelf count.
        let tasks = [("photo", false), ("shelf_count", true)].enumerated().map { index, task in
            RecordSnapshot(ref: RecordRef(table: "visit_tasks", record: RecordID(high: 0xE0, low: UInt64(index))), state: RecordState(fields: [
                "visit_id": field(.id(visit.id)), "task_type": field(.text(task.0)), "required": field(.bool(task.1)),
                "status": field(.state(StateValue("pending", epoch: 0))),
            ]))
        }
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .snapshot, snapshots: tasks, cursor: 99, hasMore: false), serverClock: DeviceStoreFixture.serverClock)
        let detail = try #require(try await fixture.store.visit(visit.id))
        #expect(detail.summary == visit)
        #expect(detail.tasks.map(\.taskType) == ["shelf_count", "photo"])
        #expect(detail.tasks.map(\.required) == [true, false])
        #expect(detail.tasks.allSatisfy { $0.status == "pending" && $0.result == nil })
        #expect(try await fixture.store.visit(RecordID(high: 1, low: 1)) == nil)

        // Two last prices arrive from the server; the newer one is quoted.
        let product = try #require(try await fixture.store.products(limit: 1).first).id
        #expect(try await fixture.store.lastPrice(customer: visit.customerID, product: product) == nil)
        let snapshots = [(RecordID(high: 0xE1, low: 1), 1_250, 1_700_000_000_000), (RecordID(high: 0xE1, low: 2), 1_400, 1_790_000_000_000)].map { id, price, at in
            RecordSnapshot(ref: RecordRef(table: "last_prices", record: id), state: RecordState(fields: [
                "customer_id": FieldState(value: .id(visit.customerID), version: version), "product_id": FieldState(value: .id(product), version: version),
                "unit_price_minor": FieldState(value: .integer(Int64(price)), version: version), "ordered_at": FieldState(value: .timestamp(Int64(at)), version: version),
            ]))
        }
        try await fixture.store.apply(BucketPage(bucket: "demo", kind: .snapshot, snapshots: snapshots, cursor: 100, hasMore: false), serverClock: DeviceStoreFixture.serverClock)
        #expect(try await fixture.store.lastPrice(customer: visit.customerID, product: product) == DeviceStore.LastPrice(unitPriceMinor: 1_400, orderedAt: 1_790_000_000_000))
    }
}
