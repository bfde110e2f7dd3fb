public import SyncEngine
import FieldModel
public import Foundation
import PostgresDriver
public import SyncCore

/// Maintenance plans (issue 19, item 3): an asset's plan — every N days or N months from its
/// start, until its end — generates its dated work orders `lead_days` ahead, each `scheduled`
/// with a window of `window_days` from its due date and named by its plan and due date. The job is
/// idempotent: a work order's id is derived from the plan and the due date, so a second run, or a
/// run on another server instance at the same moment, writes the same record (the merge keeps one).
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
        /// Every so many days, or months (exactly one of the two).
        public var intervalDays: Int?, intervalMonths: Int?
        /// The first due date, and the last (ms since the epoch).
        public var startsAt: Int64, endsAt: Int64?
        /// How many days ahead work orders are generated, and the window each gets.
        public var leadDays: Int, windowDays: Int
        /// Whether it generates work.
        public var active: Bool

        /// Creates a plan.
        public init(asset: RecordID, workType: String = "maintenance", priority: String = "normal", intervalDays: Int? = nil, intervalMonths: Int? = nil,
                    startsAt: Int64, endsAt: Int64? = nil, leadDays: Int = 30, windowDays: Int = 7, active: Bool = true) {
            self.asset = asset
            self.workType = workType
            self.priority = priority
            self.intervalDays = intervalDays
            self.intervalMonths = intervalMonths
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

    /// The id of the work order `plan` generates for `due`: the same on every run and instance.
    public static func maintenanceWorkOrderID(plan: RecordID, due: Int64) -> RecordID {
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in Array("\(plan.uuidString)|\(due)".utf8) {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return hash
        }
        // A UUID of version 8 (custom), RFC 9562 variant.
        let high = (fnv(0xCBF2_9CE4_8422_2325) & ~0xF000) | 0x8000
        let low = (fnv(0x84222325CBF29CE4) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return RecordID(high: high, low: low)
    }

    /// Creates a plan (or, with `id`, rewrites one); returns its id. The next run re-plans its work orders.
    public func saveMaintenancePlan(_ plan: MaintenancePlan, id existing: RecordID? = nil, by office: OfficeUser) async throws -> RecordID {
        try requireDispatching(office)
        guard (plan.intervalDays == nil) != (plan.intervalMonths == nil) else { throw OfficeError(.invalid, "a plan repeats every interval_days or every interval_months, one of the two") }
        if let end = plan.endsAt, end < plan.startsAt { throw OfficeError(.invalid, "a plan ends after it starts") }
        if let existing { _ = try await record("maintenance_plans", existing, tenant: office.tenant) }
        let asset = try await record("assets", plan.asset, tenant: office.tenant)
        try await requireInSight(customer: asset.id("customer_id"), of: office)
        let id = existing ?? newID()
        try await edit([OfficeEdit("maintenance_plans", id, [
            ("asset_id", .id(plan.asset)), ("work_type", .text(plan.workType)), ("priority", .text(plan.priority)),
            ("interval_days", plan.intervalDays.map { .integer(Int64($0)) } ?? .null), ("interval_months", plan.intervalMonths.map { .integer(Int64($0)) } ?? .null),
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
                   coalesce(p.starts_at, 0), p.ends_at, coalesce(p.lead_days, 30), coalesce(p.window_days, 7), coalesce(p.active, true), p._deleted, a.customer_id::text
            FROM maintenance_plans p LEFT JOIN assets a ON a.tenant_id = p.tenant_id AND a.id = p.asset_id
            WHERE p.tenant_id = $1 AND ($2 = '' OR p.asset_id::text = $2) AND ($3 OR NOT p._deleted) ORDER BY p.id
            """, [tenant.uuidString, asset?.uuidString ?? "", all]).compactMap { row in
            guard let id = RecordID(try row.read(0, as: String.self)), let asset = try row.read(1, as: String?.self).flatMap({ RecordID($0) }) else { return nil }
            let plan = MaintenancePlan(asset: asset, workType: try row.read(2, as: String.self), priority: try row.read(3, as: String.self),
                                       intervalDays: try row.read(4, as: Int64?.self).map { Int($0) }, intervalMonths: try row.read(5, as: Int64?.self).map { Int($0) },
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

    /// Generates, updates and cancels the tenant's planned work orders as of `now` (the job; see the type's discussion).
    @discardableResult
    public func generateMaintenanceWork(tenant: RecordID, now: Int64) async throws -> MaintenanceRun {
        let zone = try await pool.query("SELECT time_zone FROM tenants WHERE tenant_id = $1 AND NOT _deleted ORDER BY id LIMIT 1", [tenant.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { TimeZone(identifier: $0) } ?? TimeZone(identifier: "UTC")!
        let plans = try await plans(tenant: tenant, asset: nil, all: true)
        guard !plans.isEmpty else { return MaintenanceRun() }
        // The plans' work orders due from now on, as they stand.
        var existing: [RecordID: (plan: RecordID, due: Int64, open: Bool, workType: String?, priority: String?, status: StateValue)] = [:]
        for row in try await pool.query("""
            SELECT id::text, maintenance_plan_id::text, due_at, assignee_id IS NULL AND coalesce(status, 'new') IN ('new', 'scheduled') AND NOT _deleted,
                   work_type, priority, coalesce(status, 'new'), coalesce(status__epoch, 0)
            FROM work_orders WHERE tenant_id = $1 AND maintenance_plan_id = ANY($2::uuid[]) AND due_at >= $3
            """, [tenant.uuidString, PostgresArray.literal(plans.map(\.id)), now]) {
            guard let id = RecordID(try row.read(0, as: String.self)), let plan = try row.read(1, as: String?.self).flatMap({ RecordID($0) }),
                  let due = try row.read(2, as: Int64?.self) else { continue }
            existing[id] = (plan, due, try row.read(3, as: Bool.self), try row.read(4, as: String?.self), try row.read(5, as: String?.self),
                            StateValue(try row.read(6, as: String.self), epoch: UInt32(clamping: try row.read(7, as: Int64.self))))
        }
        var run = MaintenanceRun()
        var edits: [OfficeEdit] = []
        for (id, plan, customer, live) in plans {
            let wanted = live ? plan.dueDates(from: now, to: now + Int64(plan.leadDays) * 86_400_000, zone: zone) : []
            let wantedIDs = Set(wanted.map { Self.maintenanceWorkOrderID(plan: id, due: $0) })
            for due in wanted {
                let order = Self.maintenanceWorkOrderID(plan: id, due: due)
                if let found = existing[order] {
                    guard found.open, found.workType != plan.workType || found.priority != plan.priority else { continue }
                    edits.append(OfficeEdit("work_orders", order, [("work_type", .text(plan.workType)), ("priority", .text(plan.priority))]))
                    run.updated += 1
                } else if let customer {
                    edits.append(OfficeEdit("work_orders", order, [
                        ("customer_id", .id(customer)), ("asset_id", .id(plan.asset)), ("work_type", .text(plan.workType)), ("priority", .text(plan.priority)),
                        ("description", .text("Planned \(plan.workType) of the asset")), ("status", .state(StateValue("scheduled"))),
                        ("window_start", .timestamp(due)), ("window_end", .timestamp(due + Int64(plan.windowDays) * 86_400_000)),
                        ("maintenance_plan_id", .id(id)), ("due_at", .timestamp(due)),
                    ]))
                    run.created += 1
                }
            }
            for (order, found) in existing where found.plan == id && found.open && !wantedIDs.contains(order) {
                edits.append(OfficeEdit("work_orders", order, [("status", .state(StateValue("cancelled", epoch: found.status.epoch)))]))
                run.cancelled += 1
            }
        }
        for start in stride(from: 0, to: edits.count, by: 100) {
            try await edit(Array(edits[start..<min(start + 100, edits.count)]), by: nil, tenant: tenant)
        }
        return run
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
