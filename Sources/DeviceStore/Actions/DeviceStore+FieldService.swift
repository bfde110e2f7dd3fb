public import FieldModel
public import SyncCore

extension DeviceStore {
    /// Moves a work order along its lifecycle as the technician (en route, on site, completed,
    /// cannot complete); completing warns without an arrival or a required signature.
    public func moveWorkOrder(_ workOrder: RecordID, to status: String, at time: Int64) async throws -> ActionReport {
        let (warnings, changeSet) = try await act { session, identity, db in
            let state = try session.existing("work_orders", workOrder, in: db)
            var also: [(String, FieldValue)] = []
            var warnings: [RuleFinding] = []
            switch status {
            case "on_site": also = [("actual_start", .timestamp(time))]
            case "completed", "cannot_complete":
                also = [("actual_end", .timestamp(time))]
                if status == "completed" {
                    warnings = ExecutionRules.completeWorkOrder(
                        workType: state.text("work_type") ?? "", arrivedOnSite: state.state()?.name == "on_site",
                        hasSignature: state.id("signature_attachment_id") != nil)
                    let steps = try DeviceQuery.workOrderSteps(workOrder).body(db, self.schema)
                    if let finding = ServiceSteps.completion(missing: steps.filter { $0.required && !$0.isAnswered }.map(\.rule)) { warnings.append(finding) }
                }
            default: break
            }
            try session.move("work_orders", workOrder, to: status, machine: Lifecycles.workOrder, role: identity.role, also: also, in: db)
            return warnings
        }
        return ActionReport(record: workOrder, changeSet: changeSet, warnings: warnings)
    }

    /// The technician arrives on site: the work order moves to `on_site` with its actual start
    /// and where the phone was, judged against the customer's location like a check-in (a
    /// warning here; the server's verdict on arrival).
    public func arriveOnSite(_ workOrder: RecordID, fix: Geofence.Fix) async throws -> ActionReport {
        guard fix.accuracyMeters >= 0 else { throw StoreError(.invalidArgument, "a fix's accuracy cannot be negative") }
        let (warnings, changeSet) = try await act { session, identity, db in
            let state = try session.existing("work_orders", workOrder, in: db)
            let warnings = try Self.geofenceWarnings(for: fix, at: state, session: session, in: db)
            try session.move("work_orders", workOrder, to: "on_site", machine: Lifecycles.workOrder, role: identity.role, also: [
                ("actual_start", .timestamp(fix.deviceTime)), ("arrival_latitude_e6", .integer(fix.coordinate.latitudeE6)),
                ("arrival_longitude_e6", .integer(fix.coordinate.longitudeE6)), ("arrival_accuracy_m", .integer(Int64(fix.accuracyMeters))),
                ("arrival_mock_location", .bool(fix.mockLocation)),
            ], in: db)
            return warnings
        }
        return ActionReport(record: workOrder, changeSet: changeSet, warnings: warnings)
    }

    /// Records parts used on a work order from a stock location (the technician's van): the part
    /// is logged, and the van's stock goes down — below zero with a warning, never refused.
    public func recordPartUsed(workOrder: RecordID, product: RecordID, quantity: Int64, from location: RecordID, at time: Int64) async throws -> ActionReport {
        guard quantity > 0 else { throw StoreError(.invalidArgument, "a quantity used must be positive") }
        let ((part, warnings), changeSet) = try await act { session, _, db in
            _ = try session.existing("work_orders", workOrder, in: db)
            _ = try session.existing("products", product, in: db)
            _ = try session.existing("stock_locations", location, in: db)
            let part = session.newID()
            try session.write("parts_used", part, [("work_order_id", .id(workOrder)), ("product_id", .id(product)),
                                                  ("quantity", .integer(quantity)), ("stock_location_id", .id(location)), ("used_at", .timestamp(time))], in: db)
            let level = try db.query("SELECT id, quantity FROM stock_levels WHERE stock_location_id = ? AND product_id = ? AND _deleted = 0 LIMIT 1",
                                     [location.bytes, product.bytes]).first
            let levelID: RecordID
            let onHand: Int64
            if let level {
                levelID = RecordID(bytes: try level.read(0, as: [UInt8].self))!
                onHand = try level.read(1, as: Int64?.self) ?? 0
            } else {
                levelID = session.newID()
                onHand = 0
                try session.write("stock_levels", levelID, [("stock_location_id", .id(location)), ("product_id", .id(product))], in: db)
            }
            try session.add(-quantity, to: "quantity", of: "stock_levels", levelID, in: db)
            let finding = CommercialRules.consume(fromVan: onHand, used: quantity).finding
            return (part, finding.map { [$0] } ?? [])
        }
        return ActionReport(record: part, changeSet: changeSet, warnings: warnings)
    }

    /// Sets a work order's resolution text and, when given, keeps the customer's signature and
    /// sets it on the work order, in one transaction; the signature's bytes upload once the server
    /// has answered the change set.
    public func setResolution(workOrder: RecordID, resolution: String, signature: AttachmentFile? = nil) async throws -> ActionReport {
        let (_, changeSet) = try await act { session, identity, db in
            _ = try session.existing("work_orders", workOrder, in: db)
            var fields: [(String, FieldValue)] = [("resolution", .text(resolution))]
            if let signature { fields.append(("signature_attachment_id", .id(try session.attach(signature, user: identity.user, in: db)))) }
            try session.write("work_orders", workOrder, fields, in: db)
        }
        return ActionReport(record: workOrder, changeSet: changeSet, warnings: [])
    }

    /// Records the customer's evaluation of the service (1–5 stars, a comment), given on the
    /// technician's phone on site or at completion. A low rating warns that the office will follow
    /// it up (the server flags it on arrival).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for stars outside 1…5;
    ///   ``StoreError/Code/forbiddenTransition`` before the technician is on site.
    public func rateWorkOrder(_ workOrder: RecordID, stars: Int64, comment: String? = nil) async throws -> ActionReport {
        guard (1...5).contains(stars) else { throw StoreError(.invalidArgument, "a rating is 1 to 5 stars") }
        let comment = comment.flatMap { $0.trimmingSpaces.isEmpty ? nil : $0 }
        let (_, changeSet) = try await act { session, _, db in
            let status = try session.existing("work_orders", workOrder, in: db).state()?.name ?? ""
            guard ["on_site", "completed", "closed", "cannot_complete"].contains(status) else {
                throw StoreError(.forbiddenTransition, "the customer rates the service on site or after it; the work order is \(status)")
            }
            try session.write("work_orders", workOrder, [("rating", .integer(stars)), ("rating_comment", comment.map(FieldValue.text) ?? .null)], in: db)
        }
        return ActionReport(record: workOrder, changeSet: changeSet, warnings: ExecutionRules.rating(stars, comment: comment).map { [$0] } ?? [])
    }

    /// Answers a step of the work order's checklist, offline like any fact: an append-only record
    /// (the latest answer per step counts). A photo answer keeps the photo with it. An answer of
    /// the wrong kind is refused here; a number outside the step's range is recorded with a
    /// warning (the server flags it too).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for an answer with no value or several, or
    ///   one that is not of the step's kind, or a step not of this work order's checklist.
    public func answerStep(workOrder: RecordID, step: RecordID, answer: ServiceSteps.Answer, photo: AttachmentFile? = nil, at time: Int64) async throws -> ActionReport {
        var given = answer
        if photo != nil { given.photo = RecordID(high: 0, low: 0) }  // stands for the photo until it is kept
        let answer = given
        guard answer.kind != nil else { throw StoreError(.invalidArgument, "an answer is one of yes/no, a number, a text or a photo") }
        let ((id, warnings), changeSet) = try await act { session, identity, db in
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            _ = try session.existing("work_orders", workOrder, in: db)
            guard let checklist = try DeviceQuery.workOrderSteps(workOrder).body(db, self.schema).first(where: { $0.id == step }) else {
                throw StoreError(.invalidArgument, "the step is not on this work order's checklist")
            }
            var warnings: [RuleFinding] = []
            if let finding = ServiceSteps.judge(answer, to: checklist.rule) {
                guard finding.rule == .stepOutOfRange else { throw StoreError(.invalidArgument, finding.message) }
                warnings.append(finding)
            }
            let id = session.newID()
            var fields: [(String, FieldValue)] = [("work_order_id", .id(workOrder)), ("step_id", .id(step)), ("answered_by", .id(user)),
                                                  ("answered_at", .timestamp(time))]
            if let yes = answer.yesNo { fields.append(("yes_no", .bool(yes))) }
            if let number = answer.number { fields.append(("number_value", .integer(number))) }
            if let text = answer.text { fields.append(("text_value", .text(text))) }
            if let photo { fields.append(("photo_attachment_id", .id(try session.attach(photo, user: identity.user, in: db)))) }
            try session.write("step_answers", id, fields, in: db)
            return (id, warnings)
        }
        return ActionReport(record: id, changeSet: changeSet, warnings: warnings)
    }
}

extension DeviceStore {
    /// Records a reading of the meter of `workOrder`'s asset (running hours, copies, cycles),
    /// offline like any fact: an append-only record the server's maintenance plans by meter
    /// forecast from. A reading below the latest one the phone holds for that meter is recorded
    /// with a warning (the server flags it too: a replaced meter, or a misreading).
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for a work order without an asset, an empty
    ///   meter name, or a reading outside 0…10⁹.
    public func readMeter(workOrder: RecordID, meter: String, reading: Int64, at time: Int64) async throws -> ActionReport {
        let meter = String(meter.trimmingSpaces)
        guard !meter.isEmpty, meter.utf8.count <= 40 else { throw StoreError(.invalidArgument, "a meter is named in 1 to 40 bytes (e.g. \"hours\")") }
        guard FieldSalesSchema.meterRange.contains(reading) else { throw StoreError(.invalidArgument, "a reading is 0 to \(FieldSalesSchema.meterRange.upperBound)") }
        let ((id, warnings), changeSet) = try await act { session, identity, db in
            guard let user = identity.user else { throw StoreError(.notRegistered, "no user is signed in") }
            guard let asset = try session.existing("work_orders", workOrder, in: db).id("asset_id") else {
                throw StoreError(.invalidArgument, "the work order names no asset to read a meter of")
            }
            var warnings: [RuleFinding] = []
            let before = try DeviceQuery.meterReadings(asset: asset).body(db, self.schema).first { $0.meter == meter && $0.readAt <= time }
            if let before, before.value > reading {
                warnings.append(RuleFinding(.meterReadingDecreased, "the \(meter) meter reads \(reading), below the \(before.value) read before it"))
            }
            let id = session.newID()
            try session.write("meter_readings", id, [("asset_id", .id(asset)), ("work_order_id", .id(workOrder)), ("meter", .text(meter)), ("reading", .integer(reading)),
                                                      ("read_by", .id(user)), ("read_at", .timestamp(time))], in: db)
            return (id, warnings)
        }
        return ActionReport(record: id, changeSet: changeSet, warnings: warnings)
    }
}
