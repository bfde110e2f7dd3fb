import DeviceStore
import FieldModel
import SyncCore

/// The standard change mix: what a rep's phone really sends, made by the phone's own actions on a
/// primed store. For each visit: check in, an order of five lines submitted, a payment, a
/// customer correction one visit in five, check out and complete.
struct ChangeMix: Sendable {
    /// The change sets, in the order the phone made them.
    var changeSets: [ChangeSet]
    /// Changes in all.
    var changes: Int { changeSets.reduce(0) { $0 + $1.changes.count } }
    /// The change sets in pushes of `size`, as the sync client sends them.
    func pushes(of size: Int = 100) -> [[ChangeSet]] {
        stride(from: 0, to: changeSets.count, by: size).map { Array(changeSets[$0..<min($0 + size, changeSets.count)]) }
    }

    /// Works `count` planned visits on `phone` (primed) and returns two mixes of `count / 2`
    /// visits each, from the phone's outbox (left there: the ingest benchmarks push them).
    static func make(on phone: Phone, visits count: Int, products: [RecordID]) async throws -> (ChangeMix, ChangeMix) {
        let store = phone.store
        let planned = try await store.visits(from: 0, to: Int64.max).filter { $0.status == "planned" && $0.location != nil }
        guard planned.count >= count else { throw BenchError("the rep has \(planned.count) planned visits; the mix needs \(count)") }
        var first: [ChangeSet] = []
        for (index, visit) in planned.prefix(count).enumerated() {
            if index == count / 2 { first = try await store.pendingChangeSets(limit: Int(Int32.max)) }
            let time = visit.plannedStart ?? 0
            let fix = Geofence.Fix(coordinate: visit.location!, accuracyMeters: 12, deviceTime: time)
            _ = try await store.checkIn(visit: visit.id, fix: fix)
            let order = try await store.createOrder(customer: visit.customerID, visit: visit.id)
            for line in 0..<5 {
                _ = try await store.addOrderLine(order: order.record, product: products[(index * 5 + line) % products.count], quantity: Int64(1 + line))
            }
            _ = try await store.submitOrder(order.record)
            let total = try await store.orderPreview(order.record).totalMinor
            if total > 0 {
                _ = try await store.recordPayment(order: order.record, amountMinor: total, method: "cash", receiptNumber: "BENCH-\(index)", collectedAt: time + 600_000)
            }
            if index % 5 == 0 { _ = try await store.correctCustomer(visit.customerID, ["phone": .text("+1-212-555-\(1_000 + index)")]) }
            _ = try await store.checkOut(visit: visit.id, fix: Geofence.Fix(coordinate: visit.location!, accuracyMeters: 12, deviceTime: time + 1_500_000))
            _ = try await store.completeVisit(visit: visit.id)
        }
        let all = try await store.pendingChangeSets(limit: Int(Int32.max))
        return (ChangeMix(changeSets: first), ChangeMix(changeSets: Array(all.dropFirst(first.count))))
    }
}
