import FieldModel
import PostgresDriver
import SyncEngine
import SyncCore

/// DOMAIN.md §4.11–4.12 and §3: work orders, parts used, customers and their merges, attachments.
extension ArrivalJudge {
    /// §4.11: a completion needs an arrival on site, the required steps of its checklist and, for
    /// some work types, a signature; work done after the office cancelled or reassigned the work
    /// order is kept and flagged; a low rating from the customer is flagged for the office; a
    /// dispatcher's hold or cancel is audited.
    mutating func workOrder(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        if change.written("rating") != nil, let stars = after.integer("rating"), let finding = ExecutionRules.rating(stars, comment: after.text("rating_comment")) {
            flag(change, finding)
        }
        if change.written("arrival_latitude_e6") != nil || change.written("arrival_longitude_e6") != nil {
            try await arrival(change, after, on: db)
        }
        serviceLevels(change, before: before, after: after)
        guard let written = change.writtenState() else { return }
        // §2, §3: work done on a work order the office cancelled or gave to someone else is kept, and flagged.
        if ["en_route", "on_site", "completed", "cannot_complete"].contains(written), let author, FieldSalesDomain.confines(author.role) {
            if before?.state()?.name == "cancelled" {
                flag(change, RuleFinding(.executedAfterCancel, "the work order was cancelled by the office; the work done on it stands"))
            }
            if let assignee = after.id("assignee_id"), assignee != author.user {
                flag(change, RuleFinding(.reassignedWhileExecuted, "the work order is now assigned to someone else; the work is kept and attributed to its author"))
            }
        }
        if written == "completed", after.state()?.name == "completed", before?.state()?.name != "completed" {
            let arrived = before?.state()?.name == "on_site" || after.timestamp("actual_start") != nil
            for finding in ExecutionRules.completeWorkOrder(workType: after.text("work_type") ?? "", arrivedOnSite: arrived,
                                                            hasSignature: after.id("signature_attachment_id") != nil) {
                flag(change, finding)
            }
            if let finding = ServiceSteps.completion(missing: try await missingSteps(of: change.record, workType: after.text("work_type"), on: db)) {
                flag(change, finding)
            }
        }
        if let author, !FieldSalesDomain.confines(author.role), ["on_hold", "cancelled"].contains(written) {
            note(change, change.table, change.record, RuleFinding(.dispatcherOverride, "\(author.role) moved the work order to \(written)"))
        }
    }

    /// §6, service levels: a new work order (or a new priority) gets its response and arrival due
    /// times, counted from its creation (its id's time, or now); an arrival on time that reaches
    /// the server after the arrival breach was flagged clears it (facts are judged as of the
    /// phone's time), with a note; a response breach stays in the review queue.
    mutating func serviceLevels(_ change: Change, before: RecordState?, after: RecordState) {
        if before == nil || change.written("priority") != nil {
            let target = ServiceLevels.target(priority: after.text("priority") ?? "normal")
            let idTime = Int64(clamping: change.record.milliseconds)
            let created = (now - 366 * 86_400_000...now).contains(idTime) ? idTime : now
            derived.set("work_orders", change.record, [("response_due_at", .timestamp(created + target.response)), ("arrival_due_at", .timestamp(created + target.arrival))])
            return
        }
        // A late fact: the phone's arrival time, written now, was within the arrival time.
        guard change.written("actual_start") != nil, after.text("service_level_breach") == ServiceLevels.Breach.arrival.rawValue,
              let arrived = after.timestamp("actual_start"), let due = after.timestamp("arrival_due_at"), arrived <= due else { return }
        derived.set("work_orders", change.record, [("service_level_breach", .null)])
        note(change, change.table, change.record, RuleFinding(.serviceLevelBreach, "the technician was on site in time by the phone's record; the arrival breach is cleared"))
    }

    /// §6, service steps: an answer of the wrong kind or out of its step's range is flagged; an
    /// answer that arrives after the completion is judged the same, and says when it completes
    /// the checklist the completion lacked.
    mutating func stepAnswer(_ change: Change, _ answer: RecordState, on db: isolated PostgresConnection) async throws {
        guard let stepID = answer.id("step_id"), let step = try await record("work_order_type_steps", stepID, on: db) else { return }
        let judged = ServiceSteps.Step(id: stepID, label: step.text("label") ?? "", answerKind: step.text("answer_kind") ?? "", required: step.bool("required") ?? false,
                                       minValue: step.integer("min_value"), maxValue: step.integer("max_value"))
        if let finding = ServiceSteps.judge(Self.answer(answer), to: judged) { flag(change, finding) }
        guard let order = answer.id("work_order_id"), let workOrder = try await record("work_orders", order, on: db),
              workOrder.state()?.name == "completed", judged.required else { return }
        if try await missingSteps(of: order, workType: workOrder.text("work_type"), on: db).isEmpty {
            note(change, "work_orders", order, RuleFinding(.stepsMissing, "the required steps were answered after the completion; the checklist is complete"))
        }
    }

    /// §6, maintenance by meter: a reading lower than the same meter's reading taken before it is
    /// flagged and kept (a replaced or misread meter is the office's to judge).
    mutating func meterReading(_ change: Change, _ reading: RecordState, on db: isolated PostgresConnection) async throws {
        guard let asset = reading.id("asset_id"), let meter = reading.text("meter"), let value = reading.integer("reading"), let at = reading.timestamp("read_at") else { return }
        let before = try await reads.query("""
            SELECT reading FROM meter_readings WHERE tenant_id = $1 AND asset_id = $2::uuid AND meter = $3 AND NOT _deleted AND id <> $4::uuid
              AND (read_at < $5 OR (read_at = $5 AND id < $4::uuid)) ORDER BY read_at DESC, id DESC LIMIT 1
            """, [tenant.uuidString, asset.uuidString, meter, change.record.uuidString, at], on: db)
        guard let previous = try before.first?.read(0, as: Int64?.self), previous > value else { return }
        flag(change, RuleFinding(.meterReadingDecreased, "the \(meter) meter reads \(value), below the \(previous) read before it"))
    }

    /// The required steps of the work order's type that have no answer of their kind yet.
    func missingSteps(of workOrder: RecordID, workType: String?, on db: isolated PostgresConnection) async throws -> [ServiceSteps.Step] {
        guard let workType else { return [] }
        let types = try await reads.query("SELECT id::text FROM work_order_types WHERE tenant_id = $1 AND code = $2 AND NOT _deleted ORDER BY id LIMIT 1",
                                          [tenant.uuidString, workType], on: db)
        guard let type = try types.first.flatMap({ RecordID(try $0.read(0, as: String.self)) }) else { return [] }
        let stepTable = reads.table("work_order_type_steps")
        let steps = try await reads.rows("work_order_type_steps", where: "work_order_type_id", is: type, on: db).compactMap { id, step -> ServiceSteps.Step? in
            guard !step.isDeleted(under: stepTable.tombstones) else { return nil }
            return ServiceSteps.Step(id: id, label: step.text("label") ?? "", answerKind: step.text("answer_kind") ?? "", required: step.bool("required") ?? false)
        }
        guard steps.contains(where: \.required) else { return [] }
        // The latest answer per step (by the phone's time, then id).
        var latest: [RecordID: (time: Int64, id: RecordID, kind: String)] = [:]
        for (id, answer) in try await reads.rows("step_answers", where: "work_order_id", is: workOrder, on: db) {
            guard let step = answer.id("step_id"), let kind = Self.answer(answer).kind else { continue }
            let time = answer.timestamp("answered_at") ?? 0
            if let seen = latest[step], (seen.time, seen.id) > (time, id) { continue }
            latest[step] = (time, id, kind)
        }
        return ServiceSteps.missing(steps.sorted { $0.id < $1.id }, answered: latest.mapValues(\.kind))
    }

    static func answer(_ state: RecordState) -> ServiceSteps.Answer {
        ServiceSteps.Answer(yesNo: state.bool("yes_no"), number: state.integer("number_value"), text: state.text("text_value"), photo: state.id("photo_attachment_id"))
    }

    /// §4.1 for work orders: the arrival on site is judged against the customer's location like a
    /// check-in (the customer's radius, else the tenant's); the verdict and the distance are the
    /// server's, and a far or suspicious arrival is flagged, never refused.
    mutating func arrival(_ change: Change, _ order: RecordState, on db: isolated PostgresConnection) async throws {
        guard let latitude = order.integer("arrival_latitude_e6"), let longitude = order.integer("arrival_longitude_e6") else { return }
        let (store, radius) = try await self.store(of: order.id("customer_id"), visitType: nil, on: db)
        let fix = Geofence.Fix(coordinate: Coordinate(latitudeE6: latitude, longitudeE6: longitude), accuracyMeters: Int(order.integer("arrival_accuracy_m") ?? -1),
                               deviceTime: order.timestamp("actual_start") ?? 0, mockLocation: order.bool("arrival_mock_location") ?? false)
        let judged = Geofence.verify(fix, store: store, radiusMeters: radius)
        var fields: [(String, FieldValue)] = [("arrival_verification", .text(judged.verification.rawValue))]
        if let distance = judged.distanceMeters { fields.append(("arrival_distance_m", .integer(Int64(distance)))) }
        derived.set("work_orders", change.record, fields)
        for finding in judged.findings { flag(change, finding) }
        if judged.findings.isEmpty {
            note(change, change.table, change.record,
                 RuleFinding(.geofence, judged.distanceMeters.map { "arrival \(judged.verification.rawValue), \($0) m from the store" } ?? "arrival \(judged.verification.rawValue)"))
        }
    }

    /// §4.10–4.11: parts used come out of the van (the technician's change carries the decrement);
    /// a van below zero is accepted and flagged.
    mutating func partUsed(_ change: Change, _ part: RecordState, on db: isolated PostgresConnection) async throws {
        guard change.written("product_id") != nil, let location = part.id("stock_location_id"), let product = part.id("product_id") else { return }
        let quantity = try await reads.query("""
            SELECT quantity FROM stock_levels WHERE tenant_id = $1 AND stock_location_id = $2 AND product_id = $3 AND NOT _deleted ORDER BY id LIMIT 1
            """, [tenant.uuidString, location.uuidString, product.uuidString], on: db).first?.read(0, as: Int64?.self)
        if let quantity, quantity < 0 {
            flag(change, RuleFinding(.vanStockNegative, "the van's stock of the product is now \(quantity)"))
        }
    }

    /// §4.12 and §3: a customer's normalized name follows its name; a new customer that
    /// duplicates an existing one is merged into it; a rep's move of a customer's location goes
    /// to review.
    mutating func customer(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        guard case .write = change.operation else { return }
        if change.written("name") != nil, let name = after.text("name") {
            derived.set("customers", change.record, "normalized_name", .text(CustomerIdentity.normalizedName(name)))
        }
        if let author, FieldSalesDomain.confines(author.role), change.creates(given: before) {
            // §6: a customer a rep creates gets the tenant's terms until the office verifies it.
            var terms: [(String, FieldValue)] = [("status", .text("unverified")), ("credit_limit_minor", .integer(0)), ("payment_terms_days", .integer(0)),
                                                 ("outstanding_minor", .integer(0))]
            let lists = try await priceLists(on: db)
            if let list = PriceLists.inForce(on: now, customerList: nil, customerGroup: nil, lists: lists.values.map(\.list)), let terms2 = lists[list] {
                terms += [("price_list_id", .id(list)), ("customer_group", .text(terms2.list.customerGroup ?? "standard"))]
            } else {
                terms.append(("customer_group", .text("standard")))
            }
            derived.set("customers", change.record, terms)
            note(change, "customers", change.record, RuleFinding(.newCustomerTerms, "a new customer: unverified, the tenant's default price list, no credit, cash terms"))
        }
        if let author, FieldSalesDomain.confines(author.role), change.creates(given: before), let name = after.text("name") {
            let rows = try await reads.query("""
                SELECT id::text FROM customers
                WHERE tenant_id = $1 AND id <> $2 AND merged_into IS NULL AND NOT _deleted
                  AND ((tax_number IS NOT NULL AND tax_number <> '' AND tax_number = $3)
                    OR (normalized_name = $4 AND ((phone IS NOT NULL AND regexp_replace(phone, '[^0-9]', '', 'g') = $5 AND $5 <> '')
                                                  OR (postal_code IS NOT NULL AND postal_code = $6))))
                ORDER BY id LIMIT 1
                """, [tenant.uuidString, change.record.uuidString, after.text("tax_number") ?? "", CustomerIdentity.normalizedName(name),
                      CustomerIdentity.phoneDigits(after.text("phone") ?? ""), after.text("postal_code") ?? ""], on: db)
            if let row = rows.first, let survivor = RecordID(try row.read(0, as: String.self)) {
                mergedAway[change.record] = survivor
                derived.set("customers", change.record, "merged_into", .id(survivor))
                flag(change, RuleFinding(.duplicateCustomer, "the new customer duplicates \(survivor.uuidString) and was merged into it"))
            }
        }
        if let author, author.role == .rep, !change.creates(given: before), change.written("latitude_e6") != nil || change.written("longitude_e6") != nil {
            flag(change, RuleFinding(.locationChange, "a rep moved the customer's location; the office reviews it"))
        }
    }

    /// §4.12: a reference to a merged-away customer is pointed at the customer it was merged into.
    mutating func followMerges(_ change: Change, on db: isolated PostgresConnection) async throws {
        guard case .write(let writes) = change.operation, let table = reads.schema.table(change.table) else { return }
        for write in writes where table.field(write.field)?.type == .reference("customers") && write.field != "merged_into" {
            guard case .id(var target) = write.value else { continue }
            var hops = 0
            while hops < 8, let next = try await survivor(of: target, on: db) {
                target = next
                hops += 1
            }
            guard hops > 0 else { continue }
            derived.set(change.table, change.record, write.field, .id(target))
            note(change, change.table, change.record, RuleFinding(.followedMerge, "\(write.field) pointed at a merged-away customer; it now points at \(target.uuidString)"))
        }
    }

    private mutating func survivor(of customer: RecordID, on db: isolated PostgresConnection) async throws -> RecordID? {
        if let survivor = mergedAway[customer] { return survivor }
        return try await record("customers", customer, on: db)?.id("merged_into")
    }

    /// An attachment is complete when its bytes are on the server, pending until they arrive.
    mutating func attachment(_ change: Change, before: RecordState?, after: RecordState, on db: isolated PostgresConnection) async throws {
        guard change.creates(given: before), let sha = after.text("sha256") else { return }
        let present = try await !reads.query("SELECT 1 FROM blobs WHERE tenant_id = $1 AND sha256 = $2", [tenant.uuidString, sha], on: db).isEmpty
        derived.set("attachments", change.record, "upload_state", .text(present ? "complete" : "pending"))
    }
}
