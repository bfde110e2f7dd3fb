import DemoData
import DeviceStore
import FieldModel
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

/// The rep's side of the swarm's days beyond the dispatcher's plan (issue 20, items 4 and 5):
/// recurring visit plans the office sets once and the morning job turns into visits; each rep's
/// plan for the next day, proposed in the evening and decided by their manager (one in four
/// returned the first time, then reopened and submitted again); orders over policy rejected on
/// the first evening, reopened in the morning and sent again; shelf counts on every visit and
/// typed tasks answered on merchandising visits. Judged at the end (``reconcilePlanning()``).
extension SwarmWorld {
    /// The office's recurring plans: every other rep visits their territory's first customer every
    /// Tuesday at 09:00 in the tenant's zone, a week ahead.
    func planRecurringVisits() async throws {
        let starts = Int64(Self.monday.epochSeconds * 1000)
        for device in devices where device.role == .rep && device.index % 2 == 0 {
            guard let territory = territoryOf[device.user], let customer = customers[territory]?.first else { continue }
            _ = try await store.saveVisitSchedule(SyncStore.VisitSchedule(
                customer: customer, rep: device.user, visitType: "sales",
                rhythm: VisitPlanning.Schedule(everyWeeks: 1, weekday: 2, startMinute: 540, durationMinutes: 30, startsOn: starts), leadDays: 7), by: dispatcher)
        }
    }

    /// The rep's morning: yesterday's rejected orders reopened, their discounts halved, and sent
    /// again; a returned weekly plan reopened and submitted again.
    func morning(_ device: SwarmDevice) async {
        let store = device.store
        let orders = device.orders
        device.orders = []
        for order in orders {
            guard let detail = try? await store.read(.order(order)), detail.summary.status == "rejected" else { continue }
            await act(device) { try await store.reopenOrder(order) }
            for line in detail.lines where (line.discountBP ?? 0) > 0 {
                await act(device) { try await store.updateOrderLine(line.id, quantity: line.quantity, discountBP: (line.discountBP ?? 0) / 2) }
            }
            await act(device) { try await store.submitOrder(order) }
            reopenedOrders.insert(order)
        }
        for plan in (try? await store.read(.weekPlans)) ?? [] where plan.status == "returned" {
            await act(device) { try await store.reopenWeekPlan(plan.id) }
            await act(device) { try await store.submitWeekPlan(plan.id) }
        }
    }

    /// The rep's evening: a plan for the next day, one or two visits at customers of their
    /// territory, submitted (a quarter of the reps plan their days so; the rest follow the
    /// dispatcher's).
    func proposeNextDay(_ device: SwarmDevice, nextDay: Int64) async {
        guard device.index % 4 == 0, let territory = territoryOf[device.user], let pool = customers[territory], !pool.isEmpty else { return }
        let store = device.store
        guard let plan = try? await store.createWeekPlan(weekStart: nextDay, note: "swarm") else { return }
        device.made += plan.changeSet?.changes.count ?? 0
        for slot in Int64(0)..<Int64(1 + random.next() % 2) {
            let customer = pool[Int(random.next() % UInt64(pool.count))]
            let start = nextDay + (15 + 2 * slot) * Self.hour
            await act(device) { try await store.proposeVisit(plan: plan.record, customer: customer, start: start, end: start + 30 * 60_000, purpose: "proposed") }
        }
        await act(device) { try await store.submitWeekPlan(plan.record) }
    }

    /// The managers' evening: each submitted plan of their team approved, or, one in four the
    /// first time it comes, returned with a note.
    func decideWeekPlans() async throws {
        let managers = try await pool.query("SELECT DISTINCT manager_id::text FROM users WHERE tenant_id = $1 AND role = 'rep' AND manager_id IS NOT NULL ORDER BY 1",
                                            [tenant.uuidString]).compactMap { RecordID(try $0.read(0, as: String.self)) }
        for managerID in managers {
            let manager = SyncStore.OfficeUser(user: managerID, role: .manager, tenant: tenant)
            for plan in try await store.weekPlans(status: "submitted", by: manager) {
                let approve = returnedPlans.contains(plan.id) || random.next() % 4 != 0
                if !approve { returnedPlans.insert(plan.id) }
                if (try? await store.decideWeekPlan(plan.id, approve: approve, note: approve ? nil : "one more call, please", by: manager)) != nil, approve {
                    report.weekPlansApproved += 1
                }
            }
        }
    }

    /// A shelf count (one product, now and then counted empty) on the rep's first visit of the day
    /// and on merchandising visits, and the visit's typed tasks answered (now and then a number
    /// out of range).
    func countAndAnswer(_ device: SwarmDevice, visit: DeviceStore.VisitSummary, at time: Int64) async {
        let store = device.store
        let day = time / (24 * Self.hour)
        if device.countedDay != day || visit.visitType == "merchandising" {
            device.countedDay = day
            let product = products[Int(random.next() % UInt64(products.count))]
            let counted = random.next() % 5 == 0 ? 0 : Int64(1 + random.next() % 24)
            await act(device) { try await store.recordShelfCount(visit: visit.id, product: product, quantity: counted, countedAt: time + 5 * 60_000) }
        }
        for task in (try? await store.visit(visit.id))?.tasks ?? [] where task.answerKind != nil && task.status != "done" {
            let answer = task.answerKind == "number" ? ServiceSteps.Answer(number: Int64(random.next() % 50)) : ServiceSteps.Answer(yesNo: random.next() % 2 == 0)
            await act(device) { try await store.answerTask(task.id, answer: answer, at: time + 10 * 60_000) }
        }
    }

    /// The promises of the rep's planning, judged at the end: every approved plan's live proposals
    /// made one visit each; no recurring plan made two visits at one time; every rep with a
    /// completed visit counted a shelf.
    func reconcilePlanning() async throws {
        let row = try await pool.query("""
            SELECT
              (SELECT count(*) FROM week_plans p WHERE p.tenant_id = $1 AND p.status = 'approved' AND NOT p._deleted
                 AND (SELECT count(*) FROM week_plan_visits w WHERE w.tenant_id = $1 AND w.week_plan_id = p.id AND NOT w._deleted)
                  <> (SELECT count(*) FROM visits v WHERE v.tenant_id = $1 AND v.week_plan_id = p.id)),
              (SELECT count(*) - count(DISTINCT (schedule_id, planned_start)) FROM visits WHERE tenant_id = $1 AND schedule_id IS NOT NULL),
              (SELECT count(DISTINCT v.assignee_id) FROM visits v WHERE v.tenant_id = $1 AND v.status = 'completed' AND NOT EXISTS (
                 SELECT 1 FROM shelf_stock_counts s JOIN visits c ON c.tenant_id = s.tenant_id AND c.id = s.visit_id
                 WHERE s.tenant_id = $1 AND c.assignee_id = v.assignee_id)),
              (SELECT count(*) FROM visits WHERE tenant_id = $1 AND week_plan_id IS NOT NULL),
              (SELECT count(*) FROM visits WHERE tenant_id = $1 AND schedule_id IS NOT NULL),
              (SELECT count(*) FROM shelf_stock_counts WHERE tenant_id = $1),
              (SELECT count(*) FROM visit_tasks WHERE tenant_id = $1 AND answer_kind IS NOT NULL AND answered_at IS NOT NULL),
              (SELECT count(*) FROM sales_orders WHERE tenant_id = $1 AND id = ANY($2::uuid[])
                 AND status IN ('confirmed', 'released_to_erp', 'delivered', 'invoiced'))
            """, [tenant.uuidString, PostgresArray.literal(reopenedOrders.sorted())])[0]
        let (unmade, doubled, uncounted) = (try row.read(0, as: Int.self), try row.read(1, as: Int.self), try row.read(2, as: Int.self))
        report.planningErrors = unmade + doubled + uncounted
        if unmade > 0, report.details.count < 10 { report.details.append("\(unmade) approved weekly plan(s) without one visit per proposal") }
        if doubled > 0, report.details.count < 10 { report.details.append("\(doubled) recurring visit(s) made twice") }
        if uncounted > 0, report.details.count < 10 { report.details.append("\(uncounted) rep(s) completed visits without a shelf count on the server") }
        report.weekPlanVisits = try row.read(3, as: Int.self)
        report.scheduledVisits = try row.read(4, as: Int.self)
        report.shelfCounts = try row.read(5, as: Int.self)
        report.typedAnswers = try row.read(6, as: Int.self)
        report.ordersReopened = reopenedOrders.count
        report.reopenedConfirmed = try row.read(7, as: Int.self)
    }
}
