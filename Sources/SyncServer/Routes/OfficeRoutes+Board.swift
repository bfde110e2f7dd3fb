import Hummingbird
import OfficeStore
import SyncCore
import SyncEngine
import SyncWire

/// The dispatcher's views of the field: `GET /v1/office/board` (a day or a week per person),
/// `GET /v1/office/map` (where the day happened) and `GET /v1/office/people/{id}/activity` (a
/// person's timeline).
extension OfficeRoutes {
    /// The period a board or map shows: `day` (YYYY-MM-DD, UTC) and `days` (1 to 7, default 1).
    static func period(_ request: Request) throws -> (from: Int64, to: Int64) {
        let query = ListQuery(request)
        let day = query.text("day") ?? ""
        let start = try OfficeJSON.parseTime(day.isEmpty ? "" : "\(day)T00:00:00Z", "day")
        let days = try query.text("days").map { text in
            guard let days = Int(text), (1...SyncStore.boardDaysMax).contains(days) else {
                throw SyncStore.OfficeError(.invalid, "\"days\" is 1 to \(SyncStore.boardDaysMax)")
            }
            return days
        } ?? 1
        return (start, start + Int64(days) * 86_400_000)
    }

    func registerBoard(on office: RouterGroup<BasicRequestContext>) {
        office.get("board") { try await self.handle($0, $1, []) { user, _, request, _ in
            let period = try Self.period(request)
            let rows = try await self.store.board(from: period.from, to: period.to, user: try ListQuery(request).id("user"), now: Int64(self.wallClock.now()), by: user)
            return .array(rows.map { row in
                JSONValue.fields([("user", OfficeJSON.id(row.user)), ("name", .string(row.name)), ("role", .string(row.role)),
                                   ("counts", .object(row.counts.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, .number(String($0.value))) })),
                                   ("visits", .array(row.visits.map { visit in
                                       JSONValue.fields([("visit", OfficeJSON.id(visit.visit)), ("customer", OfficeJSON.id(visit.customer)),
                                                          ("customer_name", .string(visit.customerName)), ("status", .string(visit.status)),
                                                          ("visit_type", .string(visit.visitType)), ("planned_start", OfficeJSON.time(visit.plannedStart)),
                                                          ("planned_end", OfficeJSON.time(visit.plannedEnd)), ("actual_start", OfficeJSON.time(visit.actualStart)),
                                                          ("late_minutes", JSONValue.integer(visit.lateMinutes)), ("executed_by", OfficeJSON.id(visit.executedBy))])
                                   })),
                                   ("work_orders", .array(row.workOrders.map { order in
                                       JSONValue.fields([("work_order", OfficeJSON.id(order.workOrder)), ("customer", OfficeJSON.id(order.customer)),
                                                          ("customer_name", .string(order.customerName)), ("status", .string(order.status)),
                                                          ("work_type", .string(order.workType)), ("priority", .string(order.priority)),
                                                          ("window_start", OfficeJSON.time(order.windowStart)), ("window_end", OfficeJSON.time(order.windowEnd)),
                                                          ("actual_start", OfficeJSON.time(order.actualStart)), ("actual_end", OfficeJSON.time(order.actualEnd)),
                                                          ("late_minutes", JSONValue.integer(order.lateMinutes)), ("service_level_breach", .text(order.serviceLevelBreach))])
                                   }))])
            })
        } }
        office.get("map") { try await self.handle($0, $1, []) { user, _, request, _ in
            let period = try Self.period(request)
            let map = try await self.store.map(from: period.from, to: period.to, user: try ListQuery(request).id("user"), by: user)
            return JSONValue.fields([
                ("stores", .array(map.stores.map { store in
                    JSONValue.fields([("customer", OfficeJSON.id(store.customer)), ("name", .string(store.name)),
                                      ("latitude_e6", OfficeJSON.integer(store.latitudeE6)), ("longitude_e6", OfficeJSON.integer(store.longitudeE6)),
                                      ("geofence_radius_m", OfficeJSON.integer(store.geofenceRadiusM)),
                                      ("visits", .array(store.visits.map { visit in
                                          JSONValue.fields([("visit", OfficeJSON.id(visit.visit)), ("status", .string(visit.status)),
                                                            ("assignee", OfficeJSON.id(visit.assignee))])
                                      }))])
                })),
                ("fixes", .array(map.fixes.map { fix in
                    JSONValue.fields([("id", OfficeJSON.id(fix.id)), ("visit", OfficeJSON.id(fix.visit)), ("customer", OfficeJSON.id(fix.customer)),
                                      ("user", OfficeJSON.id(fix.user)), ("user_name", .text(fix.userName)), ("kind", .string(fix.kind)),
                                      ("device_time", OfficeJSON.time(fix.deviceTime)), ("latitude_e6", OfficeJSON.integer(fix.latitudeE6)),
                                      ("longitude_e6", OfficeJSON.integer(fix.longitudeE6)), ("accuracy_m", OfficeJSON.integer(fix.accuracyM)),
                                      ("mock_location", fix.mockLocation.map(JSONValue.bool) ?? .null), ("distance_m", OfficeJSON.integer(fix.distanceM)),
                                      ("verification", .text(fix.verification))])
                })),
            ])
        } }
        office.get("people/:id/activity") { try await self.handle($0, $1, []) { user, _, request, context in
            let query = ListQuery(request)
            let now = Int64(self.wallClock.now())
            let to = try query.time("to") ?? now
            let from = try query.time("from") ?? to - 86_400_000
            let person = try Self.id(context)
            let timeline = try await self.store.activity(of: person, from: from, to: to, by: user)
            return JSONValue.fields([
                ("user", OfficeJSON.id(person)), ("name", .string(timeline.name)), ("role", .string(timeline.role)),
                ("from", OfficeJSON.time(from)), ("to", OfficeJSON.time(to)),
                ("events", .array(timeline.events.map { event in
                    JSONValue.fields([("time", OfficeJSON.time(event.time)), ("kind", .string(event.kind)), ("table", .string(event.table)),
                                      ("record", OfficeJSON.id(event.record)), ("customer", OfficeJSON.id(event.customer)),
                                      ("customer_name", .text(event.customerName)), ("summary", .string(event.summary))])
                })),
            ])
        } }
    }
}
