import DemoData
import DeviceStore
import FieldModel
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import Testing

@testable import SyncServer

/// Field service end to end (issue 19, item 8): real phones (DeviceStore and SyncClient over
/// HTTP) against a real PostgreSQL, the office through the store as the API calls it.
extension StoryTests {
    /// Two technicians with the skill in the customer's territory, one near, one far; a third without the skill.
    static func serviceTeam(_ world: StoryWorld) async throws -> (near: RecordID, far: RecordID, customer: RecordID) {
        let dispatcher = try world.office(.dispatcher)
        let technicians = try world.users(.technician)
        let customers = try #require(world.data["customers"])
        let row = try #require(customers.rows.first { $0[customers.columns.firstIndex(of: "latitude")!] != nil })
        let customer = RecordID(row[0]!)!, territory = RecordID(row[customers.columns.firstIndex(of: "territory_id")!]!)!
        let place = try await world.pool.query("SELECT latitude_e6, longitude_e6 FROM customers WHERE tenant_id = $1 AND id = $2::uuid", [world.tenant.uuidString, customer.uuidString])[0]
        let (latitude, longitude) = (try place.read(0, as: Int64.self), try place.read(1, as: Int64.self))
        _ = try await world.store.saveWorkOrderType(code: "boiler_repair", name: "Boiler repair", durationMinutes: 90, signatureRequired: false, skills: ["boiler": 2],
                                                    steps: [.init(label: "Flue checked", answerKind: "yes_no"), .init(label: "Pressure (bar)", answerKind: "number", minValue: 1, maxValue: 4)],
                                                    by: dispatcher)
        for (technician, north) in [(technicians[0], Int64(5_000)), (technicians[1], Int64(90_000))] {
            try await world.store.setTechnicianProfile(technician, .init(startLatitudeE6: latitude + north, startLongitudeE6: longitude, workdayStartMinute: 6 * 60,
                                                                         workdayEndMinute: 23 * 60, workingDays: 0b111_1111, dailyCapacity: 4), by: dispatcher)
            try await world.store.setTechnicianSkills(technician, ["boiler": 3], by: dispatcher)
            try await world.store.setServiceTerritories(technician, [territory], by: dispatcher)
        }
        return (technicians[0], technicians[1], customer)
    }

    @Test("automatic dispatch picks the qualified technician nearest the job and says why; the phone receives it; an absence makes it pick the other")
    func autoDispatchStory() async throws {
        try await W.run("story-auto-dispatch") { world in
            let dispatcher = try world.office(.dispatcher)
            let team = try await Self.serviceTeam(world)
            // Two weeks on, after the demo's work orders, when the technicians' days are empty.
            let week = 14 * 86_400_000 as Int64
            let first = try await world.store.createWorkOrder(.init(customer: team.customer, workType: "boiler_repair", priority: "high", windowStart: W.at(9) + week,
                                                                    windowEnd: W.at(17) + week), by: dispatcher)
            let decisions = try await world.store.autoDispatch(tenant: world.tenant, now: W.at(8), only: [first], by: dispatcher)
            #expect(decisions.first?.technician == team.near, "\(decisions)")
            #expect(decisions.first?.reason == "skills: boiler L2; 0.6 km from the start location; 0 of 4 slots used; 2 qualified", "\(decisions)")
            // The technician's phone gets the work order, dispatched, with its appointment.
            let phone = try await world.phone(team.near, role: .technician)
            _ = try await phone.sync()
            let held = try #require(try await phone.store.record("work_orders", first))
            #expect(held.state()?.name == "dispatched" && held.timestamp("scheduled_start") == W.at(9) + week)
            // The near technician is away from 10:00: the next one goes to the far technician.
            _ = try await world.store.addAbsence(team.near, from: W.at(10) + week, to: W.at(18) + week, reason: "dentist", by: dispatcher)
            let second = try await world.store.createWorkOrder(.init(customer: team.customer, workType: "boiler_repair", windowStart: W.at(13) + week,
                                                                     windowEnd: W.at(17) + week), by: dispatcher)
            let next = try await world.store.autoDispatch(tenant: world.tenant, now: W.at(8), only: [second], by: dispatcher)
            #expect(next.first?.technician == team.far && next.first?.reason.contains("10.0 km from the start location") == true, "\(next)")
        }
    }

    @Test("a technician offline completes a work order the dispatcher meanwhile gave to someone else: the work is kept and flagged")
    func reassignedWorkOrder() async throws {
        try await W.run("story-work-order-reassigned") { world in
            let dispatcher = try world.office(.dispatcher)
            let team = try await Self.serviceTeam(world)
            let order = try await world.store.createWorkOrder(.init(customer: team.customer, workType: "repair", windowStart: W.at(9), windowEnd: W.at(12),
                                                                    assignee: team.near), by: dispatcher)
            let phone = try await world.phone(team.near, role: .technician)
            _ = try await phone.sync()
            // Offline: the technician drives there, works and completes.
            for (status, time) in [("en_route", W.at(9)), ("on_site", W.at(9, 30)), ("completed", W.at(10, 30))] {
                _ = try await phone.store.moveWorkOrder(order, to: status, at: time)
            }
            // Meanwhile the office, not hearing from them, hands the work order to the other technician.
            world.clock.set(UInt64(W.at(10)))
            try await world.store.assignWorkOrder(order, to: team.far, by: dispatcher)
            world.clock.set(UInt64(W.at(11)))
            let outcomes = try await phone.sync()
            #expect(outcomes.contains { $0.record == order && $0.findings.contains("reassigned_while_executed") }, "\(outcomes)")
            let server = try await world.server("work_orders", order)
            #expect(server.state()?.name == "completed" && server.id("assignee_id") == team.far)
            #expect(try await world.decisions(order).contains { $0.rule == "reassigned_while_executed" && $0.review == "open" })
        }
    }

    @Test("a quarterly maintenance plan generates next quarter's work order once, though the job runs on two servers at once")
    func maintenanceOnTwoServers() async throws {
        try await W.run("story-maintenance") { world in
            let dispatcher = try world.office(.dispatcher)
            let asset = RecordID(try #require(world.data["assets"]?.rows.first?[0] ?? nil))!
            let plan = try await world.store.saveMaintenancePlan(.init(asset: asset, workType: "maintenance", intervalMonths: 3, startsAt: W.at(9) + 30 * 86_400_000,
                                                                      leadDays: 100), by: dispatcher)
            let servers = (0..<2).map { seed in SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.clock, seed: UInt64(seed + 7))) }
            async let one = servers[0].generateMaintenanceWork(tenant: world.tenant, now: W.at(8))
            async let two = servers[1].generateMaintenanceWork(tenant: world.tenant, now: W.at(8))
            _ = try await (one, two)
            _ = try await servers[1].generateMaintenanceWork(tenant: world.tenant, now: W.at(8))
            let orders = try await world.pool.query("SELECT count(*), min(due_at) FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = $2::uuid",
                                                    [world.tenant.uuidString, plan.uuidString])[0]
            #expect(try orders.read(0, as: Int64.self) == 1 && orders.read(1, as: Int64.self) == W.at(9) + 30 * 86_400_000)
        }
    }

    @Test("a required step missing at completion: the phone warns, the server flags it, the office sees the checklist")
    func stepMissing() async throws {
        try await W.run("story-steps") { world in
            let dispatcher = try world.office(.dispatcher)
            let team = try await Self.serviceTeam(world)
            let order = try await world.store.createWorkOrder(.init(customer: team.customer, workType: "boiler_repair", windowStart: W.at(9), windowEnd: W.at(12),
                                                                    assignee: team.near), by: dispatcher)
            let phone = try await world.phone(team.near, role: .technician)
            _ = try await phone.sync()
            let steps = try await phone.store.workOrderSteps(order)
            #expect(steps.map(\.label) == ["Flue checked", "Pressure (bar)"])
            _ = try await phone.store.moveWorkOrder(order, to: "en_route", at: W.at(9))
            _ = try await phone.store.moveWorkOrder(order, to: "on_site", at: W.at(9, 20))
            // A wrong kind is refused on the phone; a reading out of range is kept with a warning.
            await #expect(throws: StoreError.self) { _ = try await phone.store.answerStep(workOrder: order, step: steps[1].id, answer: .init(yesNo: true), at: W.at(9, 30)) }
            let reading = try await phone.store.answerStep(workOrder: order, step: steps[1].id, answer: .init(number: 6), at: W.at(9, 30))
            #expect(reading.warnings.map(\.rule) == [.stepOutOfRange])
            let completed = try await phone.store.moveWorkOrder(order, to: "completed", at: W.at(10))
            #expect(completed.warnings.contains { $0.rule == .stepsMissing && $0.message.contains("Flue checked") })
            world.clock.set(UInt64(W.at(10, 30)))
            let outcomes = try await phone.sync()
            #expect(outcomes.contains { $0.record == order && $0.findings.contains("steps_missing") }, "\(outcomes)")
            #expect(outcomes.contains { $0.findings.contains("step_out_of_range") })
            let page = try await world.store.workOrder(order, by: dispatcher)
            #expect(page.steps.map { "\($0.label)=\($0.answer ?? "-")" } == ["Flue checked=-", "Pressure (bar)=6"])
        }
    }

    @Test("a technician reads the asset's meter on site: the plan by meter generates the passed service and the forecast one; a lower reading is flagged")
    func meterReadings() async throws {
        try await W.run("story-meter") { world in
            let dispatcher = try world.office(.dispatcher)
            let technician = try world.users(.technician)[0]
            let assets = try #require(world.data["assets"])
            let row = try #require(assets.rows.first)
            let asset = RecordID(row[0]!)!, customer = RecordID(row[assets.columns.firstIndex(of: "customer_id")!]!)!
            let order = try await world.store.createWorkOrder(.init(customer: customer, asset: asset, workType: "inspection", windowStart: W.at(9), windowEnd: W.at(12),
                                                                    assignee: technician), by: dispatcher)
            // The last reading on file: 3,000 hours, twenty days ago.
            try await world.store.edit([.init("meter_readings", world.store.clock.newID(), [
                ("asset_id", .id(asset)), ("meter", .text("hours")), ("reading", .integer(3_000)), ("read_at", .timestamp(W.at(9, 30) - 20 * 86_400_000)),
            ])], by: nil, tenant: world.tenant)
            let plan = try await world.store.saveMaintenancePlan(.init(asset: asset, meter: "hours", intervalMeter: 250, startsAt: W.at(0), leadDays: 7), by: dispatcher)
            let phone = try await world.phone(technician, role: .technician)
            _ = try await phone.sync()
            _ = try await phone.store.moveWorkOrder(order, to: "en_route", at: W.at(9))
            _ = try await phone.store.moveWorkOrder(order, to: "on_site", at: W.at(9, 20))
            // 4,000 on site: 50 hours a day since the last reading.
            let read = try await phone.store.readMeter(workOrder: order, meter: "hours", reading: 4_000, at: W.at(9, 30))
            #expect(read.warnings.isEmpty)
            await #expect(throws: StoreError.self) { _ = try await phone.store.readMeter(workOrder: order, meter: " ", reading: 1, at: W.at(9, 31)) }
            await #expect(throws: StoreError.self) { _ = try await phone.store.readMeter(workOrder: order, meter: "hours", reading: -1, at: W.at(9, 31)) }
            world.clock.set(UInt64(W.at(10)))
            #expect(try await phone.sync().allSatisfy { $0.findings.isEmpty })
            // The job: 4,000 was passed on site; 4,250 comes five days later, within the week ahead (4,500, in ten, does not).
            let run = try await world.store.generateMaintenanceWork(tenant: world.tenant, now: W.at(10))
            #expect(run.created == 2, "\(run)")
            let generated = try await world.pool.query("SELECT due_meter, due_at FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = $2::uuid ORDER BY due_meter",
                                                       [world.tenant.uuidString, plan.uuidString]).map { (try $0.read(0, as: Int64.self), try $0.read(1, as: Int64.self)) }
            #expect(generated.map(\.0) == [4_000, 4_250] && generated[0].1 == W.at(9, 30) && generated[1].1 == W.at(9, 30) + 5 * 86_400_000, "\(generated)")
            // A misread a quarter of an hour later: the phone warns, the server flags it and keeps it.
            let misread = try await phone.store.readMeter(workOrder: order, meter: "hours", reading: 3_990, at: W.at(9, 45))
            #expect(misread.warnings.map(\.rule) == [.meterReadingDecreased])
            let outcomes = try await phone.sync()
            #expect(outcomes.contains { $0.record == misread.record && $0.findings.contains("meter_reading_decreased") }, "\(outcomes)")
            #expect(try await phone.store.meterReadings(asset: asset).map(\.value) == [3_990, 4_000])
            let office = try await world.store.meterReadings(asset: asset, by: dispatcher)
            #expect(office.readings.map(\.value) == [3_990, 4_000, 3_000])
        }
    }
}
