import DemoData
import FieldModel
import FieldRules
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncWire
import Testing

@testable import SyncServer

/// Maintenance plans against a real PostgreSQL (issue 19, item 3): a plan generates its dated
/// work orders ahead of time, once however often and on however many instances the job runs;
/// editing it cancels the future unassigned ones it no longer wants and adds the new ones, and
/// leaves assigned work alone; ending it cancels the rest.
@Suite("Maintenance plans")
struct MaintenancePlanTests {
    static let day: Int64 = 86_400_000
    /// Monday 2027-03-01 00:00 UTC, a week the demo leaves empty.
    static let monday: Int64 = 1_803_859_200_000

    @Test("generated ahead, idempotent on two instances at once, re-planned on edit, assigned work kept, ended plans cancel the rest")
    func plans() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("maintenance-plans")
        let tenant = world.tenant
        let dispatcher = SyncStore.OfficeUser(user: world.user("dispatcher"), role: .dispatcher, tenant: tenant)
        let asset = RecordID(try #require(world.data["assets"]?.rows.first?[0] ?? nil))!
        let now = Self.monday
        let stores = (0..<2).map { _ in SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: ManualWallClock(UInt64(now)))) }
        let plan = try await stores[0].saveMaintenancePlan(.init(asset: asset, workType: "maintenance", intervalDays: 30, startsAt: now + Self.day, leadDays: 90),
                                                           by: dispatcher)
        func generated() async throws -> [(id: String, due: Int64, status: String, assignee: String?)] {
            try await world.pool.query("""
                SELECT id::text, due_at, status, assignee_id::text FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = $2::uuid ORDER BY due_at, id
                """, [tenant.uuidString, plan.uuidString]).map { (try $0.read(0, as: String.self), try $0.read(1, as: Int64.self), try $0.read(2, as: String.self), try $0.read(3, as: String?.self)) }
        }
        // Two instances at once, then again: three work orders (days 1, 31, 61), each once.
        async let first = stores[0].generateMaintenanceWork(tenant: tenant, now: now)
        async let second = stores[1].generateMaintenanceWork(tenant: tenant, now: now)
        _ = try await (first, second)
        #expect(try await stores[0].generateMaintenanceWork(tenant: tenant, now: now) == SyncStore.MaintenanceRun())
        var orders = try await generated()
        #expect(orders.map(\.due) == [1, 31, 61].map { now + $0 * Self.day }, "\(orders)")
        #expect(orders.allSatisfy { $0.status == "scheduled" && $0.assignee == nil })
        let window = try await world.pool.query("SELECT window_start, window_end FROM work_orders WHERE tenant_id = $1 AND id = $2::uuid", [tenant.uuidString, orders[0].id])[0]
        #expect(try window.read(0, as: Int64.self) == now + Self.day && window.read(1, as: Int64.self) == now + 8 * Self.day)
        // The dispatcher takes day 31; the plan becomes every 45 days: day 61 goes, day 46 comes, day 31 stays (assigned).
        try await stores[0].assignWorkOrder(RecordID(orders[1].id)!, to: world.user("technician"), by: dispatcher)
        _ = try await stores[0].saveMaintenancePlan(.init(asset: asset, workType: "maintenance", priority: "high", intervalDays: 45, startsAt: now + Self.day, leadDays: 90),
                                                    id: plan, by: dispatcher)
        let replanned = try await stores[0].generateMaintenanceWork(tenant: tenant, now: now)
        #expect(replanned == SyncStore.MaintenanceRun(created: 1, updated: 1, cancelled: 1), "\(replanned)")
        orders = try await generated()
        #expect(orders.map { "\(($0.due - now) / Self.day) \($0.status)" } == ["1 scheduled", "31 dispatched", "46 scheduled", "61 cancelled"], "\(orders)")
        // Ending the plan cancels what is left unassigned; the assigned one stays.
        _ = try await stores[0].saveMaintenancePlan(.init(asset: asset, workType: "maintenance", priority: "high", intervalDays: 45, startsAt: now + Self.day, leadDays: 90,
                                                          active: false), id: plan, by: dispatcher)
        #expect(try await stores[0].generateMaintenanceWork(tenant: tenant, now: now).cancelled == 2)
        #expect(try await generated().map(\.status) == ["cancelled", "dispatched", "cancelled", "cancelled"])
        // Through the office API: a plan needs one interval; a manager may not; the run answers its counts.
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(UInt64(now)), requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let both = try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans",
                                                       #"{"asset_id": "\#(asset.uuidString)", "interval_days": 30, "interval_months": 1, "starts_at": "2027-03-02T00:00:00Z"}"#,
                                                       token: world.dispatcher)
            #expect(both.status == .badRequest)
            let made = try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans",
                                                       #"{"asset_id": "\#(asset.uuidString)", "interval_months": 1, "starts_at": "2027-03-02T00:00:00Z", "lead_days": 60}"#,
                                                       token: world.dispatcher)
            #expect(made.status == .ok, "\(made.json?.printed ?? "")")
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans/run", nil, token: world.manager).status == .forbidden)
            let run = try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans/run", nil, token: world.dispatcher)
            #expect(run.status == .ok && run.member("created")?.printed.filter(\.isNumber) == "2", "\(run.json?.printed ?? "")")
            let listed = try await OfficeRoutesTests.call(client, .get, "/v1/office/maintenance-plans?asset=\(asset.uuidString)", token: world.dispatcher)
            if case .array(let plans)? = listed.member("maintenance_plans") { #expect(plans.count == 2) } else { Issue.record("no plans: \(listed.json?.printed ?? "")") }
        }
    }

    @Test("due dates: every N days from the start, months keep the day of the month, nothing past the end or before the start")
    func dueDates() {
        let utc = TimeZone(identifier: "UTC")!
        let daily = SyncStore.MaintenancePlan(asset: RecordID(high: 1, low: 1), intervalDays: 10, startsAt: Self.monday, endsAt: Self.monday + 25 * Self.day)
        #expect(daily.dueDates(from: Self.monday - 5 * Self.day, to: Self.monday + 90 * Self.day, zone: utc) == [0, 10, 20].map { Self.monday + $0 * Self.day })
        #expect(daily.dueDates(from: Self.monday + 11 * Self.day, to: Self.monday + 90 * Self.day, zone: utc) == [Self.monday + 20 * Self.day])
        // 31 January, monthly: 28 February, 31 March.
        let january31: Int64 = 1_801_353_600_000  // 2027-01-31 00:00 UTC
        let monthly = SyncStore.MaintenancePlan(asset: RecordID(high: 1, low: 1), intervalMonths: 1, startsAt: january31)
        #expect(monthly.dueDates(from: january31, to: january31 + 60 * Self.day, zone: utc) == [january31, january31 + 28 * Self.day, january31 + 59 * Self.day])
        // The id of a generated work order is the same for the same plan and date, another for another.
        let plan = RecordID(high: 7, low: 7)
        #expect(SyncStore.maintenanceWorkOrderID(plan: plan, due: 5) == SyncStore.maintenanceWorkOrderID(plan: plan, due: 5))
        #expect(SyncStore.maintenanceWorkOrderID(plan: plan, due: 5) != SyncStore.maintenanceWorkOrderID(plan: plan, due: 6))
    }

    @Test("by meter: the passed threshold and the forecast one generated once on two instances, re-forecast as readings arrive, re-planned on a new interval")
    func meterPlans() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("maintenance-meter")
        let tenant = world.tenant
        let dispatcher = SyncStore.OfficeUser(user: world.user("dispatcher"), role: .dispatcher, tenant: tenant)
        let asset = RecordID(try #require(world.data["assets"]?.rows.first?[0] ?? nil))!
        let now = Self.monday
        let stores = (0..<2).map { _ in SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: ManualWallClock(UInt64(now)))) }
        func read(_ value: Int64, daysAgo: Int64) async throws {
            try await stores[0].edit([.init("meter_readings", stores[0].clock.newID(), [
                ("asset_id", .id(asset)), ("meter", .text("hours")), ("reading", .integer(value)), ("read_by", .id(world.user("technician"))),
                ("read_at", .timestamp(now - daysAgo * Self.day)),
            ])], by: nil, tenant: tenant)
        }
        // 20 hours a day: 900 twenty days ago, 1,180 six days ago.
        try await read(900, daysAgo: 20)
        try await read(1_180, daysAgo: 6)
        let plan = try await stores[0].saveMaintenancePlan(.init(asset: asset, meter: "hours", intervalMeter: 500, startsAt: now - 30 * Self.day, leadDays: 14), by: dispatcher)
        func generated() async throws -> [(threshold: Int64, due: Int64, windowEnd: Int64, status: String)] {
            try await world.pool.query("""
                SELECT due_meter, due_at, window_end, status FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = $2::uuid ORDER BY due_meter, id
                """, [tenant.uuidString, plan.uuidString]).map { (try $0.read(0, as: Int64.self), try $0.read(1, as: Int64.self), try $0.read(2, as: Int64.self), try $0.read(3, as: String.self)) }
        }
        // 1,000 passed six days ago; 1,500 comes 16 days after that reading (within 14 days from now); 2,000 is 41 days off.
        async let first = stores[0].generateMaintenanceWork(tenant: tenant, now: now)
        async let second = stores[1].generateMaintenanceWork(tenant: tenant, now: now)
        _ = try await (first, second)
        #expect(try await stores[0].generateMaintenanceWork(tenant: tenant, now: now) == SyncStore.MaintenanceRun())
        var orders = try await generated()
        #expect(orders.map(\.threshold) == [1_000, 1_500] && orders.allSatisfy { $0.status == "scheduled" }, "\(orders)")
        #expect(orders.map(\.due) == [now - 6 * Self.day, now + 10 * Self.day], "\(orders)")
        #expect(orders.map(\.windowEnd) == [now - 6 * Self.day + 7 * Self.day, now + 17 * Self.day], "\(orders)")
        // A faster pace: 1,420 yesterday (520 in 19 days): 1,500 comes in under two days, and the work moves with it.
        try await read(1_420, daysAgo: 1)
        #expect(try await stores[0].generateMaintenanceWork(tenant: tenant, now: now) == SyncStore.MaintenanceRun(updated: 1))
        orders = try await generated()
        let forecast = now - Self.day + (80 * 19 * Self.day + 519) / 520
        #expect(orders.map(\.due) == [now - 6 * Self.day, forecast], "\(orders)")
        // Every 400 instead: 1,000 and 1,500 are off the grid and go; 1,200 (passed yesterday) and 1,600 (in five and a half days) come.
        _ = try await stores[0].saveMaintenancePlan(.init(asset: asset, meter: "hours", intervalMeter: 400, startsAt: now - 30 * Self.day, leadDays: 14), id: plan, by: dispatcher)
        #expect(try await stores[0].generateMaintenanceWork(tenant: tenant, now: now) == SyncStore.MaintenanceRun(created: 2, cancelled: 2))
        orders = try await generated()
        #expect(orders.map { "\($0.threshold) \($0.status)" } == ["1000 cancelled", "1200 scheduled", "1500 cancelled", "1600 scheduled"], "\(orders)")
        // The office reads the asset's meter and where the plan stands; a plan by meter names its meter.
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(UInt64(now)), requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let meters = try await OfficeRoutesTests.call(client, .get, "/v1/office/assets/\(asset.uuidString)/meter-readings", token: world.dispatcher)
            #expect(meters.status == .ok, "\(meters.json?.printed ?? "")")
            if case .array(let readings)? = meters.member("readings"), case .array(let forecasts)? = meters.member("forecasts") {
                #expect(readings.map { Self.plain($0["reading"]) } == ["1420", "1180", "900"])
                #expect(forecasts.count == 1 && Self.plain(forecasts[0]["next_threshold"]) == "2000" && Self.plain(forecasts[0]["latest"]) == "1420", "\(forecasts)")
            } else {
                Issue.record("no readings: \(meters.json?.printed ?? "")")
            }
            let unnamed = try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans",
                                                          #"{"asset_id": "\#(asset.uuidString)", "interval_meter": 500, "starts_at": "2027-03-02T00:00:00Z"}"#, token: world.dispatcher)
            #expect(unnamed.status == .badRequest, "\(unnamed.json?.printed ?? "")")
            let negative = try await OfficeRoutesTests.call(client, .post, "/v1/office/maintenance-plans",
                                                           #"{"asset_id": "\#(asset.uuidString)", "meter": "hours", "interval_meter": -5, "starts_at": "2027-03-02T00:00:00Z"}"#,
                                                           token: world.dispatcher)
            #expect(negative.status == .badRequest)
            let listed = try await OfficeRoutesTests.call(client, .get, "/v1/office/maintenance-plans?asset=\(asset.uuidString)", token: world.dispatcher)
            if case .array(let plans)? = listed.member("maintenance_plans") {
                #expect(plans.count == 1 && Self.plain(plans[0]["meter"]) == "\"hours\"" && Self.plain(plans[0]["interval_meter"]) == "400", "\(plans)")
            }
        }
    }

    static func plain(_ value: JSONValue?) -> String { value?.printed.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
}
