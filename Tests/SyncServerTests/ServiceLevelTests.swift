import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncWire
import Testing

@testable import SyncServer

/// Service levels against a real PostgreSQL (issue 19, item 5): a work order's due times come
/// from its priority at creation; the job flags a response breach, then an arrival breach, each
/// once; a technician's arrival recorded in time that reaches the server after the flag clears it.
@Suite("Service levels")
struct ServiceLevelTests {
    static let hour: Int64 = 3_600_000

    @Test("due times from the priority; the job flags response then arrival once each; an on-time arrival that syncs late clears the flag")
    func breaches() async throws {
        let world = try await HostileWorld.make("service-levels")
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let technician = try world.users(.technician)[0]
        let customer = try world.customers(of: try world.rep).own
        let created = Int64(world.clock.now())
        let order = try await world.store.createWorkOrder(SyncStore.NewWorkOrder(customer: customer, workType: "repair", priority: "urgent"), by: dispatcher)
        func stored() async throws -> (response: Int64?, arrival: Int64?, breach: String?) {
            let row = try await world.pool.query("SELECT response_due_at, arrival_due_at, service_level_breach FROM work_orders WHERE tenant_id = $1 AND id = $2::uuid",
                                                 [world.tenant.uuidString, order.uuidString])[0]
            return (try row.read(0, as: Int64?.self), try row.read(1, as: Int64?.self), try row.read(2, as: String?.self))
        }
        let due = try await stored()
        #expect(due.response.map { abs($0 - (created + Self.hour)) < 1_000 } == true && due.arrival.map { abs($0 - (created + 4 * Self.hour)) < 1_000 } == true, "\(due)")
        // Nothing due yet; then no technician after two hours: a response breach, flagged once.
        #expect(try await world.store.flagServiceLevelBreaches(now: created + 30 * 60_000, tenant: world.tenant) == 0)
        #expect(try await world.store.tenantsWithServiceLevelBreaches(now: created + 2 * Self.hour) == [world.tenant])
        #expect(try await world.store.flagServiceLevelBreaches(now: created + 2 * Self.hour, tenant: world.tenant) == 1)
        #expect(try await world.store.flagServiceLevelBreaches(now: created + 2 * Self.hour, tenant: world.tenant) == 0)
        #expect(try await stored().breach == "response")
        let reviews = try await world.pool.query("SELECT message FROM decisions WHERE tenant_id = $1 AND record = $2::uuid AND rule = 'service_level_breach' AND review = 'open'",
                                                 [world.tenant.uuidString, order.uuidString]).map { try $0.read(0, as: String.self) }
        #expect(reviews == ["no technician assigned within the urgent work order's response time"])
        // Assigned late; five hours in, no one on site: the arrival breach.
        try await world.store.assignWorkOrder(order, to: technician, by: dispatcher)
        try await world.store.scheduleWorkOrder(order, from: created + 3 * Self.hour, to: created + 6 * Self.hour, by: dispatcher)
        let phone = try await world.phone(technician, .technician)
        #expect(try await world.store.flagServiceLevelBreaches(now: created + 5 * Self.hour, tenant: world.tenant) == 1)
        #expect(try await stored().breach == "arrival")
        #expect(try await world.store.tenantsWithServiceLevelBreaches(now: created + 6 * Self.hour).isEmpty)
        // The technician was on site at 3.5 h, offline; the phone syncs at 6 h: the flag is cleared.
        world.clock.set(UInt64(created + 6 * Self.hour))
        let arrived = created + 3 * Self.hour + 30 * 60_000
        let outcomes = try await phone.push([
            phone.change("work_orders", order, [("status", .state(StateValue("en_route")))], at: UInt64(arrived - 60_000)),
            phone.change("work_orders", order, [("status", .state(StateValue("on_site"))), ("actual_start", .timestamp(arrived))], at: UInt64(arrived)),
        ])
        #expect(outcomes.allSatisfy { $0.result != .rejected }, "\(outcomes)")
        #expect(try await stored().breach == nil)
    }
}
