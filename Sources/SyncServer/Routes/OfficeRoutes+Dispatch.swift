import Hummingbird
import FieldModel
import OfficeStore
import SyncCore
import SyncEngine
import SyncWire

/// Technicians' resources, work-order types and automatic dispatch (issue 19, items 1 and 2):
/// `/v1/office/technicians…`, `/v1/office/work-order-types`, `/v1/office/dispatch/…`,
/// `/v1/office/work-orders/{id}/dispatch-mode` and `/v1/office/settings/auto-dispatch`
/// (office.md, "Technicians and automatic dispatch"). Dispatchers and admins only.
extension OfficeRoutes {
    func registerDispatch(on office: RouterGroup<BasicRequestContext>) {
        office.get("technicians") { try await self.handle($0, $1, []) { user, _, _, _ in
            let technicians = try await self.store.technicians(by: user, now: Int64(self.wallClock.now()))
            return JSONValue.fields([("technicians", .array(technicians.map(Self.json)))])
        } }
        office.post("technicians/:id/profile") { try await self.handle($0, $1, ["start_latitude_e6", "start_longitude_e6", "workday_start_minute",
                                                                                 "workday_end_minute", "working_days", "daily_capacity"]) { user, body, _, context in
            let profile = SyncStore.TechnicianProfile(
                startLatitudeE6: try body.optionalInteger("start_latitude_e6"), startLongitudeE6: try body.optionalInteger("start_longitude_e6"),
                workdayStartMinute: Int(try body.integer("workday_start_minute", in: 0...1_439)), workdayEndMinute: Int(try body.integer("workday_end_minute", in: 1...1_440)),
                workingDays: Int(try body.integer("working_days", in: 0...127)), dailyCapacity: Int(try body.integer("daily_capacity", in: 1...50)))
            try await self.store.setTechnicianProfile(try Self.id(context), profile, by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("technicians/:id/skills") { try await self.handle($0, $1, ["skills"]) { user, body, _, context in
            try await self.store.setTechnicianSkills(try Self.id(context), try body.levels("skills", in: 1...5), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("technicians/:id/territories") { try await self.handle($0, $1, ["territories"]) { user, body, _, context in
            let territories = try body.array("territories").map { value -> RecordID in
                guard case .string(let text) = value, let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "\"territories\" holds territory UUIDs") }
                return id
            }
            try await self.store.setServiceTerritories(try Self.id(context), territories, by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("technicians/:id/absences") { try await self.handle($0, $1, ["starts_at", "ends_at", "reason"]) { user, body, _, context in
            let id = try await self.store.addAbsence(try Self.id(context), from: try body.time("starts_at"), to: try body.time("ends_at"),
                                                     reason: try body.optionalText("reason"), by: user)
            return JSONValue.fields([("id", OfficeJSON.id(id))])
        } }
        office.post("absences/:id/delete") { try await self.handle($0, $1, []) { user, _, _, context in
            try await self.store.removeAbsence(try Self.id(context), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.get("work-order-types") { try await self.handle($0, $1, []) { user, _, _, _ in
            .fields([("work_order_types", .array(try await self.store.workOrderTypes(tenant: user.tenant).map { type in
                JSONValue.fields([("id", OfficeJSON.id(type.id)), ("code", .string(type.code)), ("name", .string(type.name)),
                                  ("duration_minutes", .integer(Int64(type.durationMinutes))), ("signature_required", .bool(type.signatureRequired)),
                                  ("active", .bool(type.active)), ("skills", Self.levels(type.skills)),
                                  ("steps", .array(type.steps.map { step in
                                      JSONValue.fields([("label", .string(step.label)), ("answer_kind", .string(step.answerKind)), ("required", .bool(step.required)),
                                                        ("min_value", OfficeJSON.integer(step.minValue)), ("max_value", OfficeJSON.integer(step.maxValue))])
                                  }))])
            }))])
        } }
        office.post("work-order-types") { try await self.handle($0, $1, ["code", "name", "duration_minutes", "signature_required", "active", "skills", "steps"]) { user, body, _, _ in
            let steps = try body.has("steps") ? body.array("steps").map { value -> SyncStore.StepDefinition in
                let step = try OfficeBody(Array(value.printed.utf8), allowed: ["label", "answer_kind", "required", "min_value", "max_value"])
                return SyncStore.StepDefinition(label: try step.text("label"), answerKind: try step.text("answer_kind"), required: try step.bool("required", default: true),
                                                minValue: try step.optionalInteger("min_value"), maxValue: try step.optionalInteger("max_value"))
            } : nil
            if let steps, steps.count > 100 { throw SyncStore.OfficeError(.invalid, "a checklist has at most 100 steps") }
            let id = try await self.store.saveWorkOrderType(code: try body.text("code"), name: try body.text("name"),
                                                            durationMinutes: Int(try body.integer("duration_minutes", in: 5...1_440)),
                                                            signatureRequired: try body.bool("signature_required", default: false),
                                                            active: try body.bool("active", default: true), skills: try body.levels("skills", in: 1...5),
                                                            steps: steps, by: user)
            return JSONValue.fields([("id", OfficeJSON.id(id))])
        } }
        office.post("dispatch/run") { try await self.handle($0, $1, ["work_orders"]) { user, body, _, _ in
            let only = try body.has("work_orders") ? body.array("work_orders").map { value -> RecordID in
                guard case .string(let text) = value, let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "\"work_orders\" holds work-order UUIDs") }
                return id
            } : nil
            if let only, only.count > SyncStore.listPageMax { throw SyncStore.OfficeError(.invalid, "at most \(SyncStore.listPageMax) work orders at a time") }
            let decisions = try await self.store.autoDispatch(tenant: user.tenant, now: Int64(self.wallClock.now()), only: only, by: user)
            return JSONValue.fields([("decisions", .array(decisions.map(Self.json)))])
        } }
        office.get("dispatch/decisions") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let before = try query.text("before").map { text in
                guard let number = Int64(text), number > 0 else { throw SyncStore.OfficeError(.invalid, "\"before\" is a decision number") }
                return number
            }
            let decisions = try await self.store.dispatchDecisions(workOrder: try query.id("work_order"), review: query.text("review"), limit: try query.limit(),
                                                                   before: before, by: user)
            return JSONValue.fields([("decisions", .array(decisions.map(Self.json)))])
        } }
        office.post("dispatch/decisions/:number/accept") { try await self.handle($0, $1, []) { user, _, _, context in
            guard let number = context.parameters.get("number").flatMap({ Int64($0) }) else { throw SyncStore.OfficeError(.invalid, "the path needs a decision number") }
            try await self.store.acceptDispatch(number, by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("work-orders/:id/dispatch-mode") { try await self.handle($0, $1, ["mode"]) { user, body, _, context in
            try await self.store.setDispatchMode(try Self.id(context), try body.optionalText("mode"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.get("maintenance-plans") { try await self.handle($0, $1, []) { user, _, request, _ in
            let plans = try await self.store.maintenancePlans(asset: try ListQuery(request).id("asset"), by: user)
            return JSONValue.fields([("maintenance_plans", .array(plans.map { Self.json($0.id, $0.plan) }))])
        } }
        office.post("maintenance-plans") { try await self.handle($0, $1, Self.planMembers) { user, body, _, _ in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.saveMaintenancePlan(try Self.plan(body), by: user)))])
        } }
        office.post("maintenance-plans/:id") { try await self.handle($0, $1, Self.planMembers) { user, body, _, context in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.saveMaintenancePlan(try Self.plan(body), id: try Self.id(context), by: user)))])
        } }
        office.get("assets/:id/meter-readings") { try await self.handle($0, $1, []) { user, _, _, context in
            let (readings, forecasts) = try await self.store.meterReadings(asset: try Self.id(context), by: user)
            return JSONValue.fields([
                ("readings", .array(readings.map { reading in
                    JSONValue.fields([("id", OfficeJSON.id(reading.id)), ("meter", .string(reading.meter)), ("reading", .integer(reading.value)),
                                      ("read_at", OfficeJSON.time(reading.readAt)), ("read_by", OfficeJSON.id(reading.readBy)), ("work_order_id", OfficeJSON.id(reading.workOrder))])
                })),
                ("forecasts", .array(forecasts.map { forecast in
                    JSONValue.fields([("plan_id", OfficeJSON.id(forecast.plan)), ("meter", .string(forecast.meter)), ("latest", OfficeJSON.integer(forecast.latest)),
                                      ("next_threshold", .integer(forecast.nextThreshold)), ("due_at", OfficeJSON.time(forecast.dueAt))])
                })),
            ])
        } }
        office.post("maintenance-plans/run") { try await self.handle($0, $1, []) { user, _, _, _ in
            let run = try await self.store.generateMaintenanceWork(now: Int64(self.wallClock.now()), by: user)
            return JSONValue.fields([("created", .integer(Int64(run.created))), ("updated", .integer(Int64(run.updated))), ("cancelled", .integer(Int64(run.cancelled)))])
        } }
        office.post("settings/auto-dispatch") { try await self.handle($0, $1, ["enabled"]) { user, body, _, _ in
            guard body.has("enabled") else { throw SyncStore.OfficeError(.invalid, "\"enabled\" is required") }
            try await self.store.setAutoDispatch(try body.bool("enabled", default: false), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
    }

    static func json(_ technician: SyncStore.TechnicianResources) -> JSONValue {
        JSONValue.fields([
            ("id", OfficeJSON.id(technician.id)), ("name", .string(technician.name)),
            ("profile", technician.profile.map { profile in
                JSONValue.fields([("start_latitude_e6", OfficeJSON.integer(profile.startLatitudeE6)), ("start_longitude_e6", OfficeJSON.integer(profile.startLongitudeE6)),
                                  ("workday_start_minute", .integer(Int64(profile.workdayStartMinute))), ("workday_end_minute", .integer(Int64(profile.workdayEndMinute))),
                                  ("working_days", .integer(Int64(profile.workingDays))), ("daily_capacity", .integer(Int64(profile.dailyCapacity)))])
            } ?? .null),
            ("skills", levels(technician.skills)), ("territories", .array(technician.territories.map { OfficeJSON.id($0) })),
            ("absences", .array(technician.absences.map { absence in
                JSONValue.fields([("id", OfficeJSON.id(absence.id)), ("starts_at", OfficeJSON.time(absence.start)), ("ends_at", OfficeJSON.time(absence.end)),
                                  ("reason", .text(absence.reason))])
            })),
            ("open_work_orders", .integer(Int64(technician.openWorkOrders))),
        ])
    }

    static let planMembers: Set<String> = ["asset_id", "work_type", "priority", "interval_days", "interval_months", "meter", "interval_meter", "meter_start", "starts_at", "ends_at", "lead_days", "window_days", "active"]

    static func plan(_ body: OfficeBody) throws -> SyncStore.MaintenancePlan {
        SyncStore.MaintenancePlan(asset: try body.id("asset_id"), workType: try body.optionalText("work_type") ?? "maintenance", priority: try body.optionalText("priority") ?? "normal",
                                  intervalDays: try body.optionalInteger("interval_days").map { try Self.within($0, 1...3_650, "interval_days") },
                                  intervalMonths: try body.optionalInteger("interval_months").map { try Self.within($0, 1...120, "interval_months") },
                                  meter: try body.optionalText("meter"),
                                  intervalMeter: try body.optionalInteger("interval_meter").map { Int64(try Self.within($0, 1...FieldSalesSchema.meterRange.upperBound, "interval_meter")) },
                                  meterStart: try body.optionalInteger("meter_start").map { Int64(try Self.within($0, FieldSalesSchema.meterRange, "meter_start")) } ?? 0,
                                  startsAt: try body.time("starts_at"), endsAt: try body.optionalTime("ends_at"),
                                  leadDays: try body.optionalInteger("lead_days").map { try Self.within($0, 0...365, "lead_days") } ?? 30,
                                  windowDays: try body.optionalInteger("window_days").map { try Self.within($0, 1...90, "window_days") } ?? 7,
                                  active: try body.bool("active", default: true))
    }

    static func within(_ value: Int64, _ range: ClosedRange<Int64>, _ key: String) throws -> Int {
        guard range.contains(value) else { throw SyncStore.OfficeError(.invalid, "\"\(key)\" must be \(range.lowerBound) to \(range.upperBound)") }
        return Int(value)
    }

    static func json(_ id: RecordID, _ plan: SyncStore.MaintenancePlan) -> JSONValue {
        JSONValue.fields([
            ("id", OfficeJSON.id(id)), ("asset_id", OfficeJSON.id(plan.asset)), ("work_type", .string(plan.workType)), ("priority", .string(plan.priority)),
            ("interval_days", OfficeJSON.integer(plan.intervalDays.map(Int64.init))), ("interval_months", OfficeJSON.integer(plan.intervalMonths.map(Int64.init))),
            ("meter", .text(plan.meter)), ("interval_meter", OfficeJSON.integer(plan.intervalMeter)), ("meter_start", .integer(plan.meterStart)),
            ("starts_at", OfficeJSON.time(plan.startsAt)), ("ends_at", OfficeJSON.time(plan.endsAt)), ("lead_days", .integer(Int64(plan.leadDays))),
            ("window_days", .integer(Int64(plan.windowDays))), ("active", .bool(plan.active)),
        ])
    }

    static func json(_ decision: SyncStore.DispatchDecision) -> JSONValue {
        JSONValue.fields([
            ("id", .integer(decision.id)), ("work_order", OfficeJSON.id(decision.workOrder)), ("decided_at", OfficeJSON.time(decision.decidedAt)),
            ("outcome", .string(decision.outcome)), ("technician", OfficeJSON.id(decision.technician)), ("technician_name", .text(decision.technicianName)),
            ("slot_start", OfficeJSON.time(decision.slotStart)), ("slot_end", OfficeJSON.time(decision.slotEnd)), ("reason", .string(decision.reason)),
            ("review", .string(decision.review)), ("reviewed_by", OfficeJSON.id(decision.reviewedBy)), ("reviewed_at", OfficeJSON.time(decision.reviewedAt)),
        ])
    }

    static func levels(_ levels: [String: Int]) -> JSONValue {
        .object(levels.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, .integer(Int64($0.value))) })
    }
}
