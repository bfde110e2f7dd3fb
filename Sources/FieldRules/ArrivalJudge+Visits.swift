import FieldModel
import PostgresDriver
import SyncEngine
import SyncCore

/// DOMAIN.md §4.1–4.6 and §2: check-ins, check-outs and visits.
extension ArrivalJudge {
    /// §4.1–4.3, §4.6: a geo event gets its receive time and, for a check-in, its distance to the
    /// store and its verification; mock locations, impossible travel and another store's exact
    /// coordinates are suspicious; a second visit in progress and a check-out before its check-in
    /// are flagged. Photos whose bytes have not arrived are noted.
    mutating func geoEvent(_ change: Change, _ event: RecordState, on db: isolated PostgresConnection) async throws {
        // Only the insert is judged (the server's own later writes carry no kind).
        guard change.written("kind") != nil, let visitID = event.id("visit_id"), let kind = event.text("kind") else { return }
        let visit = try await record("visits", visitID, on: db)
        let deviceTime = event.timestamp("device_time") ?? 0
        var fields: [(String, FieldValue)] = [("received_at", .timestamp(now))]
        if kind == "check_in" {
            let customerID = visit?.id("customer_id")
            let (storeLocation, radius) = try await store(of: customerID, visitType: visit?.text("visit_type"), on: db)
            let fix = Geofence.Fix(coordinate: Coordinate(latitudeE6: event.integer("latitude_e6") ?? 0, longitudeE6: event.integer("longitude_e6") ?? 0),
                                   accuracyMeters: Int(event.integer("accuracy_m") ?? -1), deviceTime: deviceTime, mockLocation: event.bool("mock_location") ?? false)
            let user = event.id("user_id")?.uuidString ?? ""
            // The user's previous check-in elsewhere that says where it was (a check-in without
            // coordinates says nothing about travel), and another store's check-in at exactly
            // these coordinates: read ahead for the push (CheckInLookups), or looked up alone.
            let previous: Geofence.Fix?
            if let userID = event.id("user_id"), let known = previousCheckIn(user: userID, visit: visitID, before: deviceTime) {
                previous = known
            } else {
                previous = try await reads.query("""
                    SELECT latitude_e6, longitude_e6, accuracy_m, device_time FROM geo_events
                    WHERE tenant_id = $1 AND user_id::text = $2 AND kind = 'check_in' AND visit_id <> $3 AND device_time < $4
                      AND latitude_e6 IS NOT NULL AND longitude_e6 IS NOT NULL
                    ORDER BY device_time DESC LIMIT 1
                    """, [tenant.uuidString, user, visitID.uuidString, deviceTime], on: db).first.map {
                    Geofence.Fix(coordinate: Coordinate(latitudeE6: try $0.read(0, as: Int64.self), longitudeE6: try $0.read(1, as: Int64.self)),
                                 accuracyMeters: Int(try $0.read(2, as: Int64?.self) ?? -1), deviceTime: try $0.read(3, as: Int64.self))
                }
            }
            let twin: Bool
            if let known = try await checkInElsewhere(at: fix.coordinate, other: change.record, customer: customerID, on: db) {
                twin = known
            } else {
                twin = try await !reads.query("""
                    SELECT 1 FROM geo_events g JOIN visits v ON v.tenant_id = g.tenant_id AND v.id = g.visit_id
                    WHERE g.tenant_id = $1 AND g.kind = 'check_in' AND g.latitude_e6 = $2 AND g.longitude_e6 = $3 AND g.id <> $4
                      AND v.customer_id::text IS DISTINCT FROM $5 LIMIT 1
                    """, [tenant.uuidString, fix.coordinate.latitudeE6, fix.coordinate.longitudeE6, change.record.uuidString, customerID?.uuidString ?? ""], on: db).isEmpty
            }
            let judged = Geofence.verify(fix, store: storeLocation, radiusMeters: radius, previous: previous, matchesAnotherStore: twin)
            fields.append(("verification", .text(judged.verification.rawValue)))
            if let distance = judged.distanceMeters { fields.append(("distance_m", .integer(Int64(distance)))) }
            for finding in judged.findings { flag(change, finding) }
            if judged.findings.isEmpty {
                note(change, change.table, change.record,
                     RuleFinding(.geofence, judged.distanceMeters.map { "\(judged.verification.rawValue), \($0) m from the store" } ?? judged.verification.rawValue))
            }
            var otherInProgress = false
            if let executor = event.id("user_id") {
                let visits = reads.table("visits")
                otherInProgress = try await reads.rows("visits", where: "executed_by", is: executor, status: "in_progress", on: db)
                    .contains { $0.key != visitID && !$0.value.isDeleted(under: visits.tombstones) }
            }
            if let finding = ExecutionRules.checkIn(otherVisitInProgress: otherInProgress) { flag(change, finding) }
        } else if kind == "check_out" {
            let checkIn = try await reads.events(of: visitID, kind: "check_in", on: db).compactMap { $0.timestamp("device_time") }.min()
            if checkIn.map({ $0 > deviceTime }) ?? true {
                flag(change, RuleFinding(.eventsOutOfOrder, checkIn == nil ? "a check-out without a check-in" : "the check-out is before the check-in"))
            }
        }
        derived.set("geo_events", change.record, fields)
        for photo in (event.text("photo_ids") ?? "").split(separator: ",").compactMap({ RecordID($0) }) {
            let attachment = try await record("attachments", photo, on: db)
            if attachment?.text("upload_state") != "complete" {
                note(change, "attachments", photo, RuleFinding(.awaitingBytes, "the check-in's photo is accepted; it completes when its bytes arrive"))
            }
        }
    }

    /// §4.1: where a customer's store is, and the geofence radius that applies there (the
    /// customer's own, else the visit type's, else the tenant's).
    mutating func store(of customerID: RecordID?, visitType: String?, on db: isolated PostgresConnection) async throws -> (location: Coordinate?, radius: Int) {
        let customer = try await record("customers", customerID, on: db)
        let location = customer.flatMap { customer in
            Coordinate.at(latitudeE6: customer.integer("latitude_e6"), longitudeE6: customer.integer("longitude_e6"))
        }
        var tenantRadius = PushLookups.known(unless: "tenants", reads: reads).geofenceRadius
        if tenantRadius == nil {
            let read = try PushLookups.geofenceRadius(try await reads.query(PushLookups.geofenceSQL, [tenant.uuidString], on: db))
            PushLookups.keep(reads) { $0.geofenceRadius = .some(read) }
            tenantRadius = .some(read)
        }
        let radius = Geofence.radius(customer: customer?.integer("geofence_radius_m").map(Int.init),
                                     visitType: visitType.flatMap { Geofence.visitTypeRadius[$0] }, tenant: Int((tenantRadius ?? nil) ?? 200))
        return (location, radius)
    }

    /// §2, §3, §4.5: a visit worked after the office marked it missed or cancelled it, or after it
    /// was reassigned, is kept and flagged; a completion is checked for its check-out, required
    /// tasks and duration.
    mutating func visit(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        guard let written = change.writtenState() else { return }
        let previous = before?.state()?.name
        if ["in_progress", "completed", "abandoned"].contains(written) {
            if previous == "missed" {
                flag(change, RuleFinding(.revivedMissedVisit, "the visit was marked missed; a check-in made before that arrived late and revives it"))
            }
            if previous == "cancelled" {
                flag(change, RuleFinding(.executedAfterCancel, "the visit was cancelled by the office; the work done on it stands"))
            }
            if let author, FieldSalesDomain.confines(author.role), let assignee = after.id("assignee_id"), assignee != author.user {
                flag(change, RuleFinding(.reassignedWhileExecuted, "the visit is now assigned to someone else; the work is kept and attributed to its author"))
                if after.id("executed_by") == nil { derived.set("visits", change.record, "executed_by", .id(author.user)) }
            }
        }
        if written == "completed", after.state()?.name == "completed" {
            let checkIns = try await reads.events(of: change.record, kind: "check_in", on: db)
            let checkOuts = try await reads.events(of: change.record, kind: "check_out", on: db)
            let tasks = reads.table("visit_tasks")
            // A required task is open until done, and a typed one until answered with its kind.
            let open = try await reads.rows("visit_tasks", where: "visit_id", is: change.record, on: db).values.filter { task in
                guard task.bool("required") == true, !task.isDeleted(under: tasks.tombstones) else { return false }
                if let kind = task.text("answer_kind"), Self.taskAnswer(task).kind != kind { return true }
                return task.state().map { $0.name != "done" } == true
            }.count
            for finding in ExecutionRules.completeVisit(checkInAt: checkIns.compactMap { $0.timestamp("device_time") }.min(),
                                                        checkOutAt: checkOuts.compactMap { $0.timestamp("device_time") }.max(),
                                                        openRequiredTasks: open) {
                flag(change, finding)
            }
        }
    }

    /// §6, typed tasks: a task done with an answer of another kind than it takes, or a number
    /// outside its range, is flagged and kept, like a service step's answer.
    mutating func visitTask(_ change: Change, _ task: RecordState, on db: isolated PostgresConnection) async throws {
        guard change.operation != .delete, let kind = task.text("answer_kind"), task.state()?.name == "done" else { return }
        let step = ServiceSteps.Step(id: change.record, label: task.text("label") ?? task.text("task_type") ?? "", answerKind: kind, required: task.bool("required") ?? false,
                                     minValue: task.integer("min_value"), maxValue: task.integer("max_value"))
        guard let finding = ServiceSteps.judge(Self.taskAnswer(task), to: step) else { return }
        flag(change, RuleFinding(finding.rule == .stepOutOfRange ? .taskOutOfRange : .taskAnswerInvalid, finding.message))
    }

    /// A visit task's answer: `result` is its text.
    static func taskAnswer(_ task: RecordState) -> ServiceSteps.Answer {
        ServiceSteps.Answer(yesNo: task.bool("yes_no"), number: task.integer("number_value"), text: task.text("result"), photo: task.id("photo_attachment_id"))
    }

    /// §6, weekly plans: the plan's approval creates its dated visits, assigned to the rep and
    /// named by the plan; each visit's id is derived from its proposal, so an approval replayed or
    /// made twice creates each once. Proposals deleted before the approval create nothing.
    mutating func weekPlan(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        guard change.writtenState() == "approved", after.state()?.name == "approved", before?.state()?.name != "approved",
              let rep = after.id("rep_id") else { return }
        let proposals = reads.table("week_plan_visits")
        for (id, proposal) in try await reads.rows("week_plan_visits", where: "week_plan_id", is: change.record, on: db)
            .sorted(by: { $0.key < $1.key }) where !proposal.isDeleted(under: proposals.tombstones) {
            guard let customer = proposal.id("customer_id"), let start = proposal.timestamp("planned_start") else { continue }
            var fields: [(String, FieldValue)] = [
                ("customer_id", .id(customer)), ("assignee_id", .id(rep)), ("visit_type", .text(proposal.text("visit_type") ?? "sales")),
                // A window that ends before it starts (a client's mistake) gets an hour.
                ("planned_start", .timestamp(start)), ("planned_end", .timestamp(proposal.timestamp("planned_end").flatMap { $0 > start ? $0 : nil } ?? start + 3_600_000)),
                ("status", .state(StateValue("planned"))), ("creation_mode", .text("planned")), ("week_plan_id", .id(change.record)),
            ]
            if let purpose = proposal.text("purpose") { fields.append(("instructions", .text(purpose))) }
            derived.set("visits", VisitPlanning.weekPlanVisitID(proposal: id), fields)
        }
    }
}
