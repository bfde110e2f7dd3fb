import DemoData
import FieldRules
import Foundation
import DeviceStore
import FieldModel
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncClient
import SyncCore
import SyncServer
import SyncWire

/// The simulated days: the office plans in the morning and acts at midday, phones work their
/// hours and sync when they are online, faults strike, and at the end everyone syncs.
extension SwarmWorld {
    func simulate() async throws -> Swarm.Report {
        report.seed = configuration.seed
        if has(.clockSkew) {
            for device in devices where device.index % 20 == 3 { device.clock.set(2 * 86_400_000); count(.clockSkew) }   // two days ahead
            for device in devices where device.index % 20 == 7 { device.clock.set(-3 * Self.hour); count(.clockSkew) }    // three hours behind
        }
        // The ERP dates a price change for noon on the second day (New York), before anyone orders.
        try await datePriceChange(at: Int64(Self.monday.adding(days: 1).epochSeconds * 1000) + 17 * Self.hour)
        try await planRecurringVisits()
        for day in 0..<configuration.days {
            let dayStart = Int64(Self.monday.adding(days: day).epochSeconds * 1000)
            clock.set(UInt64(dayStart + 12 * Self.hour))  // 07:00 in New York
            try await planDay(dayStart: Int64(dayStart))
            var offline = Set<Int>()
            if has(.offline) {
                for device in devices where roll(80) || (device.index % 17 == 5 && (1...2).contains(day)) { offline.insert(device.index) }
                report.injected[SwarmFault.offline.name, default: 0] += offline.count
            }
            if has(.expiredToken) {
                for device in devices where roll(30) {
                    device.token = try await tokens.issue(user: device.user, tenant: tenant, role: device.role, lifetime: .seconds(3_600), now: Date().addingTimeInterval(-86_400))
                    await device.client.setToken(device.token)
                    count(.expiredToken)
                }
            }
            let online = devices.filter { !offline.contains($0.index) }
            for device in online { await sync(device) }
            for hour in Int64(13)..<22 {
                clock.set(UInt64(Int64(dayStart) + hour * Self.hour))
                for device in devices { await work(device, from: Int64(dayStart) + hour * Self.hour) }
                if hour == 16 {
                    try await office(day: day, dayStart: Int64(dayStart))
                    for device in online { await sync(device) }
                }
                if hour == 15, day == min(1, configuration.days - 1) { try await restartServer() }
                if hour == 19, day == min(1, configuration.days - 1) { try await restartPostgres() }
            }
            clock.set(UInt64(Int64(dayStart) + 22 * Self.hour))
            if has(.crash) { for device in online where roll(30) { device.transport.armCrash() } }
            for device in online { await sync(device) }
            try await approveAndRelease(day: day)
            try await decideWeekPlans()
            clock.set(UInt64(Int64(dayStart) + 23 * Self.hour))
            try await erpNight(day: day)
            clock.set(UInt64(Int64(dayStart) + 23 * Self.hour + 30 * 60_000))
            try await store.markMissedVisits(now: Int64(clock.now()), tenant: tenant)
            // The night's job: history past the phones' window leaves them (the next sync removes it).
            try await store.retireAged(at: Int64(clock.now()))
            configuration.progress?("day \(day + 1) of \(configuration.days): \(online.count) of \(devices.count) phones online, \(devices.reduce(0) { $0 + $1.made }) changes made")
        }
        // Everyone comes back (40 days later, with month-away): clocks right, tokens fresh, online;
        // three rounds so that each phone sees what the phones after it pushed.
        let away = has(.monthAway) ? 40 : 0
        if away > 0 { count(.monthAway) }
        clock.set(UInt64(Int64(Self.monday.adding(days: configuration.days + away).epochSeconds * 1000) + 12 * Self.hour))
        for device in devices {
            device.clock.set(0)
            device.token = try await tokens.issue(user: device.user, tenant: tenant, role: device.role)
            await device.client.setToken(device.token)
        }
        try await store.retireAged(at: Int64(clock.now()))
        for round in 0..<3 {
            for device in devices {
                // The last round is fault-free, as a phone on a good network would be.
                if round == 2 {
                    collectStrikes(device)
                    device.transport = FaultyTransport(inner: inner(), faults: [], seed: 0)
                    device.client = client(device.store, device.transport, user: device.user, role: device.role, token: device.token, index: device.index)
                }
                await sync(device)
            }
        }
        configuration.progress?("reconciling \(devices.count) phones against the server")
        try await reconcile()
        return report
    }

    /// The dispatcher's morning: four visits for each rep at customers of their territory, two
    /// work orders for each technician.
    func planDay(dayStart: Int64) async throws {
        var edits: [SyncStore.OfficeEdit] = []
        for device in devices where device.role == .rep {
            guard let territory = territoryOf[device.user], let pool = customers[territory], !pool.isEmpty else { continue }
            for slot in 0..<configuration.visitsPerRep {
                let customer = pool[Int(random.next() % UInt64(pool.count))]
                let start = dayStart + 13 * Self.hour + Int64(slot) * 8 * Self.hour / Int64(configuration.visitsPerRep) + Int64(random.next() % 30) * 60_000
                let visit = store.clock.newID()
                edits.append(SyncStore.OfficeEdit("visits", visit, [
                    ("customer_id", .id(customer)), ("assignee_id", .id(device.user)), ("visit_type", .text(slot % 4 == 3 ? "merchandising" : "sales")),
                    ("planned_start", .timestamp(start)), ("planned_end", .timestamp(start + 30 * 60_000)),
                    ("status", .state(StateValue("planned"))), ("creation_mode", .text("planned")),
                ]))
                // A merchandising visit comes with a shelf audit, created in the same change set
                // as its visit (a child must reach the rep with its parent).
                if slot % 4 == 3 {
                    edits.append(SyncStore.OfficeEdit("visit_tasks", store.clock.newID(), [
                        ("visit_id", .id(visit)), ("task_type", .text("shelf_audit")), ("required", .bool(false)), ("status", .state(StateValue("pending"))),
                    ]))
                }
                // Every other visit asks a typed question: a count of facings, or whether the promotion's display stands.
                if slot % 2 == 1 {
                    let question: [(String, FieldValue)] = slot % 4 == 3
                        ? [("label", .text("Facings of our brand")), ("answer_kind", .text("number")), ("min_value", .integer(0)), ("max_value", .integer(40))]
                        : [("label", .text("Promotion display in place?")), ("answer_kind", .text("yes_no"))]
                    edits.append(SyncStore.OfficeEdit("visit_tasks", store.clock.newID(), [
                        ("visit_id", .id(visit)), ("task_type", .text("survey")), ("required", .bool(false)), ("status", .state(StateValue("pending"))),
                    ] + question))
                }
            }
        }
        for chunk in stride(from: 0, to: edits.count, by: 100).map({ Array(edits[$0..<min($0 + 100, edits.count)]) }) {
            try await store.edit(chunk, by: dispatcher, tenant: tenant)
        }
        let all = customers.values.flatMap { $0 }.sorted()
        for device in devices where device.role == .technician {
            device.workOrders = []
            // The first work order the dispatcher assigns by hand; the second waits for automatic dispatch.
            for slot in 0..<2 {
                let start = dayStart + 14 * Self.hour + Int64(slot) * 3 * Self.hour
                let order = SyncStore.NewWorkOrder(customer: all[Int(random.next() % UInt64(all.count))], workType: ["maintenance", "inspection", "repair"][Int(random.next() % 3)],
                                                   windowStart: start, windowEnd: start + 2 * Self.hour, assignee: slot == 0 ? device.user : nil)
                let id = try await store.createWorkOrder(order, by: dispatcher)
                if slot == 0 { device.workOrders.append(id) }
            }
        }
        // The hourly maintenance job (its plans generate work orders a day or two ahead), then the dispatch job.
        let maintenance = try await store.generateMaintenanceWork(tenant: tenant, now: Int64(clock.now()))
        report.maintenanceWorkOrders += maintenance.created
        // The hourly job of recurring visit plans.
        try await store.generateScheduledVisits(tenant: tenant, now: Int64(clock.now()))
        try await dispatchAutomatically()
    }

    /// The server's dispatch job, as every server runs it each minute: each work order it assigns
    /// goes to the technician's list of the day.
    func dispatchAutomatically() async throws {
        let technicians = Dictionary(devices.filter { $0.role == .technician }.map { ($0.user, $0) }, uniquingKeysWith: { first, _ in first })
        for decision in try await store.autoDispatch(tenant: tenant, now: Int64(clock.now())) {
            guard decision.outcome == "assigned" else {
                report.dispatchWaiting += 1
                continue
            }
            report.dispatched += 1
            if let technician = decision.technician, let device = technicians[technician] { device.workOrders.append(decision.workOrder) }
        }
    }

    /// The office at midday: visits reassigned and cancelled, a territory handed over.
    func office(day: Int, dayStart: Int64) async throws {
        if has(.assignmentChange) {
            let planned = try await pool.query("""
                SELECT id::text, assignee_id::text FROM visits WHERE tenant_id = $1 AND status = 'planned' AND planned_start >= $2 AND planned_start < $3 ORDER BY id
                """, [tenant.uuidString, dayStart + 17 * Self.hour, dayStart + 24 * Self.hour])
            let reps = devices.filter { $0.role == .rep }
            for row in planned {
                let visit = try row.read(0, as: RecordID.self)
                if roll(20) {
                    let target = reps[Int(random.next() % UInt64(reps.count))]
                    try? await store.assignVisit(visit, to: target.user, by: dispatcher)
                    count(.assignmentChange)
                    // Now and then the office thinks better of it: away and back before any pull.
                    if roll(25), let original = RecordID(try row.read(1, as: String.self)) {
                        try? await store.assignVisit(visit, to: original, by: dispatcher)
                    }
                } else if roll(10) {
                    try? await store.cancelVisit(visit, by: dispatcher)
                    count(.assignmentChange)
                }
            }
            // A technician's work order handed to another technician, and sometimes back: the
            // first technician's phone must let go of it, its customer and its asset (or keep
            // them, when it came back before the pull).
            let technicians = devices.filter { $0.role == .technician }
            if technicians.count > 1 {
                for device in technicians where roll(30) {
                    guard let order = device.workOrders.first else { continue }
                    let other = technicians[(technicians.firstIndex { $0 === device }! + 1) % technicians.count]
                    try? await store.assignWorkOrder(order, to: other.user, by: dispatcher)
                    count(.assignmentChange)
                    if roll(50) { try? await store.assignWorkOrder(order, to: device.user, by: dispatcher) }
                }
            }
        }
        if has(.territoryChange), day == min(1, configuration.days - 1) {
            // One rep in three hands their territory over and takes the next one.
            for device in devices where device.role == .rep && device.index % 3 == 1 {
                guard let from = territoryOf[device.user], let index = territories.firstIndex(of: from) else { continue }
                let to = territories[(index + 1) % territories.count]
                let now = Int64(clock.now())
                let rows = try await pool.query("SELECT id::text FROM territory_owners WHERE tenant_id = $1 AND user_id = $2 AND valid_to IS NULL AND NOT _deleted",
                                                [tenant.uuidString, device.user.uuidString])
                var edits = try rows.map { SyncStore.OfficeEdit("territory_owners", RecordID(try $0.read(0, as: String.self))!, [("valid_to", .timestamp(now))]) }
                edits.append(SyncStore.OfficeEdit("territory_owners", store.clock.newID(), [("territory_id", .id(to)), ("user_id", .id(device.user)), ("valid_from", .timestamp(now))]))
                try await store.edit(edits, by: manager, tenant: tenant)
                territoryOf[device.user] = to
                count(.territoryChange)
            }
        }
    }

    /// The manager's evening: every order waiting for approval approved (on the first evening,
    /// rejected: its rep reopens it in the morning), every credit hold released.
    func approveAndRelease(day: Int) async throws {
        for (status, decision) in [("pending_approval", day == 0 ? SyncStore.OrderDecision.reject : .approve), ("credit_hold", .release)] {
            let orders = try await pool.query("SELECT id::text FROM sales_orders WHERE tenant_id = $1 AND status = $2 ORDER BY id", [tenant.uuidString, status])
            for row in orders { try? await store.decide(decision, order: try row.read(0, as: RecordID.self), comment: "swarm", by: manager) }
        }
    }

    /// The server restarts: a new process, with a new clock and new connections.
    func restartServer() async throws {
        guard has(.serverRestart), let inProcess else { return }
        restarts += 1
        store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock, seed: configuration.seed ^ restarts << 40))
        inProcess.restart(with: SyncService(store: store, tokens: tokens, wallClock: clock, logger: logger))
        count(.serverRestart)
    }

    /// PostgreSQL restarts under the running server; the pool replaces its broken connections.
    func restartPostgres() async throws {
        guard has(.postgresRestart), let cluster else { return }
        await cluster.stop()
        self.cluster = try await PostgresCluster.start(in: root.appendingPathComponent("pg"), options: Swarm.clusterOptions, logger: logger)
        count(.postgresRestart)
    }

    // MARK: - The phones' work

    func act(_ device: SwarmDevice, _ body: () async throws -> ActionReport) async {
        do {
            let report = try await body()
            device.made += report.changeSet?.changes.count ?? 0
        } catch {
            // The phone refused (a visit reassigned away, an order already submitted): as in the app, nothing is recorded.
        }
    }

    /// A photo or signature of 1 to 8 KB, its bytes drawn from the seed (so each is new).
    func attachment(_ kind: AttachmentFile.Kind) -> AttachmentFile {
        let count = 1_024 + Int(random.next() % 7_168)
        var bytes: [UInt8] = kind == .photo ? [0xFF, 0xD8, 0xFF, 0xE0] : [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        while bytes.count < count { withUnsafeBytes(of: random.next()) { bytes += $0 } }
        return AttachmentFile(bytes: bytes, mediaType: kind == .photo ? "image/jpeg" : "image/png", kind: kind)
    }

    /// What a phone does in one hour.
    func work(_ device: SwarmDevice, from start: Int64) async {
        let store = device.store
        if device.role == .technician {
            guard (start / Self.hour) % 24 == 14 else { return }
            for order in device.workOrders {
                for status in ["en_route", "on_site"] { await act(device) { try await store.moveWorkOrder(order, to: status, at: start) } }
                // The checklist, answered on site (now and then a reading out of range, or a step left out), and the customer's rating.
                for step in (try? await store.workOrderSteps(order)) ?? [] where random.next() % 10 != 0 {
                    let answer = step.answerKind == "number" ? ServiceSteps.Answer(number: Int64(random.next() % 6)) : ServiceSteps.Answer(yesNo: random.next() % 5 != 0)
                    await act(device) { try await store.answerStep(workOrder: order, step: step.id, answer: answer, at: start + 30 * 60_000) }
                }
                // The asset's running hours (one an hour since the swarm's Monday), now and then misread low.
                if (try? await store.read(.workOrder(order)))?.asset != nil {
                    let hours = 1_000 + (start - Int64(Self.monday.epochSeconds * 1000)) / Self.hour - (random.next() % 20 == 0 ? 50 : 0)
                    await act(device) { try await store.readMeter(workOrder: order, meter: "hours", reading: hours, at: start + 20 * 60_000) }
                }
                let stars = Int64(1 + random.next() % 5)
                await act(device) { try await store.rateWorkOrder(order, stars: stars, comment: stars <= 2 ? "Took too long" : nil) }
                let signature = attachment(.signature)
                await act(device) { try await store.setResolution(workOrder: order, resolution: "Serviced and tested.", signature: signature) }
                await act(device) { try await store.moveWorkOrder(order, to: "completed", at: start + Self.hour) }
            }
            return
        }
        let hourOfDay = (start / Self.hour) % 24, dayStart = start - start % (24 * Self.hour)
        if hourOfDay == 13 { await morning(device) }
        if hourOfDay == 21, dayStart < Int64(Self.monday.adding(days: configuration.days - 1).epochSeconds * 1000) {
            await proposeNextDay(device, nextDay: dayStart + 24 * Self.hour)
        }
        guard let visits = try? await store.visits(from: start, to: start + Self.hour) else { return }
        for visit in visits where visit.status == "planned" {
            guard let location = visit.location else { continue }
            let time = visit.plannedStart ?? start
            var coordinate = location
            let place = random.next() % 100
            if place < 8 { coordinate.latitudeE6 += 18_000 }  // about 2 km away: flagged
            let photos = random.next() % 100 < 30 ? [attachment(.photo)] : []
            await act(device) {
                try await store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: coordinate, accuracyMeters: 15, deviceTime: time, mockLocation: place == 99), photos: photos)
            }
            await countAndAnswer(device, visit: visit, at: time)
            if random.next() % 100 < 50 {
                do {
                    let order = try await store.createOrder(customer: visit.customerID, visit: visit.id)
                    device.made += order.changeSet?.changes.count ?? 0
                    device.orders.append(order.record)
                    for _ in 0..<(1 + random.next() % 3) {
                        let product = products[Int(random.next() % UInt64(products.count))]
                        let discount: Int64 = random.next() % 10 == 0 ? 2_000 : 0
                        await act(device) { try await store.addOrderLine(order: order.record, product: product, quantity: Int64(1 + self.random.next() % 9), discountBP: discount) }
                    }
                    await act(device) { try await store.submitOrder(order.record) }
                    if random.next() % 100 < 30, let total = try? await store.orderPreview(order.record).totalMinor, total > 0 {
                        // Now and then the rep types a receipt number already used: the server keeps the first.
                        let receipt = random.next() % 20 == 0 ? device.receipts.last ?? "R-\(device.index)-0" : "R-\(device.index)-\(device.receipts.count + 1)"
                        device.receipts.append(receipt)
                        await act(device) { try await store.recordPayment(order: order.record, amountMinor: total, method: "cash", receiptNumber: receipt, collectedAt: time + 10 * 60_000) }
                    }
                } catch {}
            }
            if random.next() % 100 < 5 {
                await act(device) { try await store.correctCustomer(visit.customerID, ["phone": .text("+1-212-555-\(1000 + self.random.next() % 9000)")]) }
            }
            await act(device) { try await store.checkOut(visit: visit.id, fix: Geofence.Fix(coordinate: coordinate, accuracyMeters: 15, deviceTime: time + 25 * 60_000)) }
            await act(device) { try await store.completeVisit(visit: visit.id) }
        }
    }
}
