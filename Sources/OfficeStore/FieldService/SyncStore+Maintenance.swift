public import SyncEngine
import FieldModel
public import Foundation
import PostgresDriver
public import SyncCore

/// Maintenance plans (issue 19, item 3): an asset's plan — every N days or N months from its
/// start, until its end — generates its dated work orders `lead_days` ahead, each `scheduled`
/// with a window of `window_days` from its due date and named by its plan and due date. A plan by
/// meter — every N units of a meter (`meter_readings`, from the technicians' phones) — generates
/// the work for a threshold once the meter has passed it or is forecast to within `lead_days`
/// (`MeterSchedule`), named by its plan and threshold; its open unassigned work follows the
/// forecast as readings arrive. The job is idempotent: a work order's id is derived from the plan
/// and the due date or threshold, so a second run, or a run on another server instance at the
/// same moment, writes the same record (the merge keeps one).
/// Editing a plan re-plans its future: work orders still unassigned and open whose due date the
/// plan no longer has are cancelled, those it still has take its new type and priority; ending
/// the plan (or deactivating or deleting it) cancels its unassigned future ones. Work already
/// assigned is the dispatcher's and is left alone.
extension SyncStore {
    /// A maintenance plan as the office writes it.
    public struct MaintenancePlan: Sendable, Hashable {
        /// The asset maintained.
        public var asset: RecordID
        /// The work type and priority of the work orders it generates.
        public var workType: String, priority: String
        /// Every so many days, or months, or units of `meter` (exactly one of the three).
        public var intervalDays: Int?, intervalMonths: Int?, intervalMeter: Int64?
        /// The meter a plan by meter follows (e.g. "hours"), and the reading its thresholds count from.
        public var meter: String?, meterStart: Int64
        /// The first due date, and the last (ms since the epoch).
        public var startsAt: Int64, endsAt: Int64?
        /// How many days ahead work orders are generated, and the window each gets.
        public var leadDays: Int, windowDays: Int
        /// Whether it generates work.
        public var active: Bool

        /// Creates a plan.
        public init(asset: RecordID, workType: String = "maintenance", priority: String = "normal", intervalDays: Int? = nil, intervalMonths: Int? = nil,
                    meter: String? = nil, intervalMeter: Int64? = nil, meterStart: Int64 = 0,
                    startsAt: Int64, endsAt: Int64? = nil, leadDays: Int = 30, windowDays: Int = 7, active: Bool = true) {
            self.asset = asset
            self.workType = workType
            self.priority = priority
            self.intervalDays = intervalDays
            self.intervalMonths = intervalMonths
            self.meter = meter
            self.intervalMeter = intervalMeter
            self.meterStart = meterStart
            self.startsAt = startsAt
            self.endsAt = endsAt
            self.leadDays = leadDays
            self.windowDays = windowDays
            self.active = active
        }

        /// The due dates in `from...to`, in order, stepping from the start in the time zone `zone` (months keep the day of the month where they can).
        public func dueDates(from: Int64, to: Int64, zone: TimeZone) -> [Int64] {
            let last = min(to, endsAt ?? .max)
            guard last >= startsAt, from <= last else { return [] }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let start = Date(timeIntervalSince1970: Double(startsAt) / 1_000)
            var dates: [Int64] = []
            var step = 0
            if let days = intervalDays, days > 0 {
                // Jump near `from` first: a plan years old does not walk every step.
                step = max(0, Int((from - startsAt) / (Int64(days) * 86_400_000)) - 1)
            }
            while dates.count < 1_000 {
                let due: Int64
                if let days = intervalDays, days > 0 {
                    due = startsAt + Int64(step) * Int64(days) * 86_400_000
                } else if let months = intervalMonths, months > 0, let date = calendar.date(byAdding: .month, value: step * months, to: start) {
                    due = Int64((date.timeIntervalSince1970 * 1_000).rounded())
                } else {
                    break
                }
                if due > last { break }
                if due >= from { dates.append(due) }
                step += 1
            }
            return dates
        }
    }

    /// The id of the work order `plan` generates for `due` (a date), or for the meter's `threshold`: the same on every run and instance.
    public static func maintenanceWorkOrderID(plan: RecordID, due: Int64? = nil, threshold: Int64? = nil) -> RecordID {
        RecordID.derived(from: threshold.map { "\(plan.uuidString)|meter|\($0)" } ?? "\(plan.uuidString)|\(due ?? 0)")
    }

    /// Creates a plan (or, with `id`, rewrites one); returns its id. The next run re-plans its work orders.
    public func saveMaintenancePlan(_ plan: MaintenancePlan, id existing: RecordID? = nil, by office: OfficeUser) async throws -> RecordID {
        try requireDispatching(office)
        guard [plan.intervalDays != nil, plan.intervalMonths != nil, plan.intervalMeter != nil].filter({ $0 }).count == 1 else {
            throw OfficeError(.invalid, "a plan repeats every interval_days, every interval_months or every interval_meter, one of the three")
        }
        guard (plan.intervalMeter == nil) == (plan.meter?.isEmpty ?? true) else { throw OfficeError(.invalid, "a plan by meter names its meter, and only such a plan does") }
        if let end = plan.endsAt, end < plan.startsAt { throw OfficeError(.invalid, "a plan ends after it starts") }
        if let existing { _ = try await record("maintenance_plans", existing, tenant: office.tenant) }
        let asset = try await record("assets", plan.asset, tenant: office.tenant)
        try await requireInSight(customer: asset.id("customer_id"), of: office)
        let id = existing ?? newID()
        try await edit([OfficeEdit("maintenance_plans", id, [
            ("asset_id", .id(plan.asset)), ("work_type", .text(plan.workType)), ("priority", .text(plan.priority)),
            ("interval_days", plan.intervalDays.map { .integer(Int64($0)) } ?? .null), ("interval_months", plan.intervalMonths.map { .integer(Int64($0)) } ?? .null),
            ("meter", plan.meter.map(FieldValue.text) ?? .null), ("interval_meter", plan.intervalMeter.map(FieldValue.integer) ?? .null), ("meter_start", .integer(plan.meterStart)),
            ("starts_at", .timestamp(plan.startsAt)), ("ends_at", plan.endsAt.map(FieldValue.timestamp) ?? .null),
            ("lead_days", .integer(Int64(plan.leadDays))), ("window_days", .integer(Int64(plan.windowDays))), ("active", .bool(plan.active)),
        ])], by: office, tenant: office.tenant)
        return id
    }

    /// The tenant's plans (of one asset), with their ids.
    public func maintenancePlans(asset: RecordID? = nil, by office: OfficeUser) async throws -> [(id: RecordID, plan: MaintenancePlan)] {
        try requireDispatching(office)
        return try await plans(tenant: office.tenant, asset: asset, all: false).map { ($0.id, $0.plan) }
    }

    private func plans(tenant: RecordID, asset: RecordID?, all: Bool) async throws -> [(id: RecordID, plan: MaintenancePlan, customer: RecordID?, live: Bool)] {
        try await pool.query("""
            SELECT p.id::text, p.asset_id::text, coalesce(p.work_type, 'maintenance'), coalesce(p.priority, 'normal'), p.interval_days, p.interval_months,
                   coalesce(p.starts_at, 0), p.ends_at, coalesce(p.lead_days, 30), coalesce(p.window_days, 7), coalesce(p.active, true), p._deleted, a.customer_id::text,
                   p.meter, p.interval_meter, coalesce(p.meter_start, 0)
            FROM maintenance_plans p LEFT JOIN assets a ON a.tenant_id = p.tenant_id AND a.id = p.asset_id
            WHERE p.tenant_id = $1 AND ($2 = '' OR p.asset_id::text = $2) AND ($3 OR NOT p._deleted) ORDER BY p.id
            """, [tenant.uuidString, asset?.uuidString ?? "", all]).compactMap { row in
            guard let id = RecordID(try row.read(0, as: String.self)), let asset = try row.read(1, as: String?.self).flatMap({ RecordID($0) }) else { return nil }
            let plan = MaintenancePlan(asset: asset, workType: try row.read(2, as: String.self), priority: try row.read(3, as: String.self),
                                       intervalDays: try row.read(4, as: Int64?.self).map { Int($0) }, intervalMonths: try row.read(5, as: Int64?.self).map { Int($0) },
                                       meter: try row.read(13, as: String?.self), intervalMeter: try row.read(14, as: Int64?.self), meterStart: try row.read(15, as: Int64.self),
                                       startsAt: try row.read(6, as: Int64.self), endsAt: try row.read(7, as: Int64?.self), leadDays: Int(try row.read(8, as: Int64.self)),
                                       windowDays: Int(try row.read(9, as: Int64.self)), active: try row.read(10, as: Bool.self))
            let deleted = try row.read(11, as: Bool.self)
            return (id, plan, try row.read(12, as: String?.self).flatMap { RecordID($0) }, plan.active && !deleted)
        }
    }

    /// What one run of the maintenance job did.
    public struct MaintenanceRun: Sendable, Hashable {
        /// Work orders created, updated to the plan's new type or priority, and cancelled.
        public var created = 0, updated = 0, cancelled = 0

        /// A run's counts.
        public init(created: Int = 0, updated: Int = 0, cancelled: Int = 0) {
            (self.created, self.updated, self.cancelled) = (created, updated, cancelled)
        }
    }

    /// A work order a plan generated, as it stands.
    struct PlannedWork {
        var plan: RecordID
        var due: Int64?
        var threshold: Int64?
        /// Unassigned, and new or scheduled: the plan's to change.
        var open: Bool
        var workType: String?, priority: String?
        var status: StateValue
    }

    /// Generates, updates and cancels the tenant's planned work orders as of `now` (the job; see the type's discussion).
    @discardableResult
    public func generateMaintenanceWork(tenant: RecordID, now: Int64) async throws -> MaintenanceRun {
        let zone = try await timeZone(of: tenant)
        let plans = try await plans(tenant: tenant, asset: nil, all: true)
        guard !plans.isEmpty else { return MaintenanceRun() }
        // The plans' work orders due from now on, and every one of a plan by meter, as they stand.
        var existing: [RecordID: PlannedWork] = [:]
        for row in try await pool.query("""
            SELECT id::text, maintenance_plan_id::text, due_at, due_meter, assignee_id IS NULL AND coalesce(status, 'new') IN ('new', 'scheduled') AND NOT _deleted,
                   work_type, priority, coalesce(status, 'new'), coalesce(status__epoch, 0)
            FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = ANY($2::uuid[]) AND (due_at >= $3 OR due_meter IS NOT NULL)
            """, [tenant.uuidString, PostgresArray.literal(plans.map(\.id)), now]) {
            guard let id = RecordID(try row.read(0, as: String.self)), let plan = try row.read(1, as: String?.self).flatMap({ RecordID($0) }) else { continue }
            existing[id] = PlannedWork(plan: plan, due: try row.read(2, as: Int64?.self), threshold: try row.read(3, as: Int64?.self), open: try row.read(4, as: Bool.self),
                                       workType: try row.read(5, as: String?.self), priority: try row.read(6, as: String?.self),
                                       status: StateValue(try row.read(7, as: String.self), epoch: UInt32(clamping: try row.read(8, as: Int64.self))))
        }
        let readings = try await meterReadings(tenant: tenant, assets: plans.filter { $0.plan.intervalMeter != nil }.map(\.plan.asset), since: now - 2 * MeterSchedule.rateWindow)
        var run = MaintenanceRun()
        var edits: [OfficeEdit] = []
        for (id, plan, customer, live) in plans {
            let work = existing.filter { $0.value.plan == id }
            // What the plan wants: each work order's id, its due date, its threshold by meter and its window's end.
            var wanted: [(order: RecordID, due: Int64, threshold: Int64?, windowEnd: Int64)] = []
            if live, let interval = plan.intervalMeter, let meter = plan.meter {
                let read = readings[Self.meterKey(plan.asset, meter)] ?? []
                let onGrid = work.values.compactMap(\.threshold).filter { $0 > plan.meterStart && ($0 - plan.meterStart) % interval == 0 }
                let horizon = min(now + Int64(plan.leadDays) * 86_400_000, plan.endsAt ?? .max)
                // The thresholds already generated and still open follow the forecast; new ones join them.
                for threshold in onGrid {
                    wanted.append((Self.maintenanceWorkOrderID(plan: id, threshold: threshold), 0, threshold, 0))
                }
                for due in MeterSchedule.due(readings: read, interval: interval, start: plan.meterStart, lastGenerated: onGrid.max(), horizon: horizon) {
                    wanted.append((Self.maintenanceWorkOrderID(plan: id, threshold: due.threshold), 0, due.threshold, 0))
                }
                let latest = read.map(\.at).max() ?? now
                wanted = wanted.compactMap { order, _, threshold, _ in
                    // A threshold with no forecast left (the meter stopped rising) keeps the date it had.
                    guard let threshold, let at = MeterSchedule.date(of: threshold, readings: read) ?? work[order]?.due else { return nil }
                    // Nothing is due before the plan starts; a new threshold waits until that is within the lead.
                    let due = max(at, plan.startsAt)
                    guard work[order] != nil || due <= horizon else { return nil }
                    return (order, due, threshold, max(due, latest) + Int64(plan.windowDays) * 86_400_000)
                }
            } else if live {
                wanted = plan.dueDates(from: now, to: now + Int64(plan.leadDays) * 86_400_000, zone: zone).map { due in
                    (Self.maintenanceWorkOrderID(plan: id, due: due), due, nil, due + Int64(plan.windowDays) * 86_400_000)
                }
            }
            let wantedIDs = Set(wanted.map(\.order))
            for (order, due, threshold, windowEnd) in wanted {
                if let found = work[order] {
                    guard found.open else { continue }
                    var fields: [(String, FieldValue)] = []
                    if found.workType != plan.workType || found.priority != plan.priority { fields += [("work_type", .text(plan.workType)), ("priority", .text(plan.priority))] }
                    // A forecast that moved by more than a day moves the work with it.
                    if threshold != nil, let was = found.due, abs(was - due) > 86_400_000 {
                        fields += [("due_at", .timestamp(due)), ("window_start", .timestamp(due)), ("window_end", .timestamp(windowEnd))]
                    }
                    guard !fields.isEmpty else { continue }
                    edits.append(OfficeEdit("work_orders", order, fields))
                    run.updated += 1
                } else if let customer {
                    var fields: [(String, FieldValue)] = [
                        ("customer_id", .id(customer)), ("asset_id", .id(plan.asset)), ("work_type", .text(plan.workType)), ("priority", .text(plan.priority)),
                        ("description", .text(threshold.map { "Planned \(plan.workType) of the asset at \($0) \(plan.meter ?? "")" } ?? "Planned \(plan.workType) of the asset")),
                        ("status", .state(StateValue("scheduled"))), ("window_start", .timestamp(due)), ("window_end", .timestamp(windowEnd)),
                        ("maintenance_plan_id", .id(id)), ("due_at", .timestamp(due)),
                    ]
                    if let threshold { fields.append(("due_meter", .integer(threshold))) }
                    edits.append(OfficeEdit("work_orders", order, fields))
                    run.created += 1
                }
            }
            for (order, found) in work where found.open && !wantedIDs.contains(order) {
                edits.append(OfficeEdit("work_orders", order, [("status", .state(StateValue("cancelled", epoch: found.status.epoch)))]))
                run.cancelled += 1
            }
        }
        for start in stride(from: 0, to: edits.count, by: 100) {
            try await edit(Array(edits[start..<min(start + 100, edits.count)]), by: nil, tenant: tenant)
        }
        return run
    }

    static func meterKey(_ asset: RecordID, _ meter: String) -> String { "\(asset.uuidString)|\(meter)" }

    /// The assets' meter readings taken since `since`, by asset and meter.
    func meterReadings(tenant: RecordID, assets: [RecordID], since: Int64) async throws -> [String: [MeterSchedule.Reading]] {
        guard !assets.isEmpty else { return [:] }
        var readings: [String: [MeterSchedule.Reading]] = [:]
        for row in try await pool.query("""
            SELECT asset_id::text, meter, reading, read_at FROM meter_readings
            WHERE tenant_id = $1 AND asset_id = ANY($2::uuid[]) AND NOT _deleted AND read_at >= $3 AND reading IS NOT NULL
            """, [tenant.uuidString, PostgresArray.literal(assets), since]) {
            guard let asset = RecordID(try row.read(0, as: String.self)), let meter = try row.read(1, as: String?.self) else { continue }
            readings[Self.meterKey(asset, meter), default: []].append(MeterSchedule.Reading(value: try row.read(2, as: Int64.self), at: try row.read(3, as: Int64.self)))
        }
        return readings
    }

    /// A meter reading as the office reads it.
    public struct MeterReading: Sendable, Hashable {
        /// The reading's id, meter, value, time and reader; the work order it was taken on, if any.
        public var id: RecordID, meter: String, value: Int64, readAt: Int64, readBy: RecordID?, workOrder: RecordID?
    }

    /// Where a plan by meter stands: the next threshold not yet generated and when it is forecast.
    public struct MeterForecast: Sendable, Hashable {
        /// The plan, its meter, the latest reading, the next threshold, its forecast date (`nil`: the meter is not rising).
        public var plan: RecordID, meter: String, latest: Int64?, nextThreshold: Int64, dueAt: Int64?
    }

    /// An asset's meter readings (latest first, at most `limit`) and the forecasts of its plans by meter.
    public func meterReadings(asset: RecordID, limit: Int = 200, by office: OfficeUser) async throws -> (readings: [MeterReading], forecasts: [MeterForecast]) {
        let state = try await record("assets", asset, tenant: office.tenant)
        try await requireInSight(customer: state.id("customer_id"), of: office)
        let readings = try await pool.query("""
            SELECT id::text, meter, reading, read_at, read_by::text, work_order_id::text FROM meter_readings
            WHERE tenant_id = $1 AND asset_id = $2::uuid AND NOT _deleted AND reading IS NOT NULL ORDER BY read_at DESC, id DESC LIMIT $3
            """, [office.tenant.uuidString, asset.uuidString, Int64(limit)]).compactMap { row -> MeterReading? in
            guard let id = RecordID(try row.read(0, as: String.self)) else { return nil }
            return MeterReading(id: id, meter: try row.read(1, as: String?.self) ?? "", value: try row.read(2, as: Int64.self), readAt: try row.read(3, as: Int64?.self) ?? 0,
                                readBy: try row.read(4, as: String?.self).flatMap { RecordID($0) }, workOrder: try row.read(5, as: String?.self).flatMap { RecordID($0) })
        }
        var forecasts: [MeterForecast] = []
        let plans = try await plans(tenant: office.tenant, asset: asset, all: false).filter { $0.live && $0.plan.intervalMeter != nil }
        let all = try await meterReadings(tenant: office.tenant, assets: [asset], since: (readings.first?.readAt ?? 0) - 2 * MeterSchedule.rateWindow)
        for (id, plan, _, _) in plans {
            guard let meter = plan.meter, let interval = plan.intervalMeter else { continue }
            let read = all[Self.meterKey(asset, meter)] ?? []
            let generated = try await pool.query("""
                SELECT max(due_meter) FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = $2::uuid AND due_meter > $3 AND (due_meter - $3) % $4 = 0
                """, [office.tenant.uuidString, id.uuidString, plan.meterStart, interval]).first.flatMap { try $0.read(0, as: Int64?.self) }
            guard let next = MeterSchedule.nextThreshold(readings: read, interval: interval, start: plan.meterStart, lastGenerated: generated) else { continue }
            forecasts.append(MeterForecast(plan: id, meter: meter, latest: read.max { ($0.at, $0.value) < ($1.at, $1.value) }?.value, nextThreshold: next,
                                           dueAt: MeterSchedule.date(of: next, readings: read)))
        }
        return (readings, forecasts)
    }

    /// A dispatcher's or admin's "generate now": the job, for their tenant.
    public func generateMaintenanceWork(now: Int64, by office: OfficeUser) async throws -> MaintenanceRun {
        try requireDispatching(office)
        return try await generateMaintenanceWork(tenant: office.tenant, now: now)
    }

    /// Every tenant with a maintenance plan, for the job.
    public func tenantsWithMaintenancePlans() async throws -> [RecordID] {
        try await pool.query("SELECT DISTINCT tenant_id::text FROM maintenance_plans").compactMap { RecordID(try $0.read(0, as: String.self)) }
    }
}
