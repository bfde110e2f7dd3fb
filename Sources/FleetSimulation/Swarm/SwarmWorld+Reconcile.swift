import DeviceStore
import FieldModel
import PostgresDriver
import SyncEngine
import SyncCore
import SyncWire

/// The verdict: every phone against the server, and a digest of the server's state.
extension SwarmWorld {
    /// Checks that every phone equals the server on the buckets it may see and holds nothing
    /// else — nothing outside its window, nothing inside it missing; that the server's window is
    /// right, judged afresh; that every change a phone made was answered and every answered change
    /// is on the server; that no fact was recorded twice. Fills the report.
    func reconcile() async throws {
        let now = Int64(clock.now())
        let retired = try await retiredRows()
        var server: [Bucket: [RecordRef: RecordState]] = [:]
        for device in devices {
            var visible: [RecordRef: RecordState] = [:]
            for bucket in try await store.buckets(user: device.user, role: device.role, tenant: tenant, at: now) {
                if server[bucket] == nil {
                    var rows: [RecordRef: RecordState] = [:]
                    var cursor = BucketCursor(bucket: bucket, sequence: 0)
                    while true {
                        let page = try await store.snapshot(bucket: bucket, cursor: cursor, limit: 5_000, tenant: tenant)
                        for snapshot in page.snapshots { rows[snapshot.ref] = snapshot.state }
                        guard page.hasMore else { break }
                        cursor = BucketCursor(bucket: bucket, sequence: page.cursor, resume: page.resume)
                    }
                    server[bucket] = rows
                }
                visible.merge(server[bucket]!) { first, _ in first }
            }
            let held = try await device.store.heldRows()
            let outside = held.filter { visible[$0] == nil && retired[$0] == nil }
            let pastWindow = held.filter { visible[$0] == nil && retired[$0] != nil }
            report.outOfScopeRows += outside.count
            report.heldOutsideWindow += pastWindow.count
            if !pastWindow.isEmpty, report.details.count < 10 {
                report.details.append("device \(device.index): holds \(pastWindow.count) row(s) past its window (\(pastWindow.prefix(3).map { "\($0.table)/\($0.record.uuidString)" }.joined(separator: ", ")))")
            }
            var differs = 0
            for (ref, expected) in visible where try await device.store.record(ref.table, ref.record) != expected { differs += 1 }
            if differs > 0 || !outside.isEmpty || !pastWindow.isEmpty {
                report.divergentDevices += 1
                if report.details.count < 10 {
                    let examples = outside.prefix(3).map { "\($0.table)/\($0.record.uuidString)" }.joined(separator: ", ")
                    report.details.append("device \(device.index) (\(device.role)): \(differs) of \(visible.count) rows differ, \(outside.count) held outside its buckets\(examples.isEmpty ? "" : " (\(examples))")")
                }
            }
            let outcomes = try await device.store.outcomes()
            report.quarantined += outcomes.filter { $0.result == "rejected" }.count
            report.flagged += outcomes.filter { $0.result == "applied_with_exception" }.count
            report.changes += device.made
            let pending = try await device.store.outboxCount()
            var lost = pending + max(0, device.made - outcomes.count - pending)
            if let replica = try await device.store.identity().replica {
                let acknowledged = try await pool.query("SELECT count(*) FROM applied_changes WHERE tenant_id = $1 AND replica = $2",
                                                        [tenant.uuidString, Int64(replica.rawValue)])[0].read(0, as: Int.self)
                lost += max(0, outcomes.count - acknowledged)
            }
            let waiting = try await device.store.attachments().filter { if case .waitingForUpload = $0.status { true } else { $0.status == .waitingForRecord } }
            report.pendingAttachments += waiting.count
            if !waiting.isEmpty, report.details.count < 10 { report.details.append("device \(device.index): \(waiting.count) photo(s) or signature(s) never uploaded") }
            if lost > 0, report.details.count < 10 { report.details.append("device \(device.index): \(lost) change(s) unanswered or missing on the server (\(pending) still in the outbox)") }
            report.lostWrites += lost
        }
        try checkWindow(served: server.values.reduce(into: [:]) { $0.merge($1) { first, _ in first } }, retired: retired, at: now)
        report.duplicateApplications = try await pool.query("""
            SELECT (SELECT count(*) FROM (SELECT 1 FROM geo_events WHERE tenant_id = $1 GROUP BY visit_id, user_id, kind, device_time HAVING count(*) > 1) a)
                 + (SELECT count(*) FROM (SELECT 1 FROM payments WHERE tenant_id = $1 GROUP BY order_id, receipt_number HAVING count(*) > 1) b)
                 + (SELECT count(*) FROM (SELECT 1 FROM parts_used WHERE tenant_id = $1 GROUP BY work_order_id, product_id, used_at HAVING count(*) > 1) c)
            """, [tenant.uuidString])[0].read(0, as: Int.self)
        // Automatic assignments still standing keep dispatch's promises, judged afresh from the
        // stored resources: the skills at their levels, the territory, no two slots overlapping
        // (unless the first job was done, ahead of its slot, before the second was booked).
        report.dispatchErrors = try await pool.query("""
            WITH standing AS (
                SELECT d.id, d.technician_id, d.slot_start, d.slot_end, d.decided_at, w.actual_end, w.work_type, c.territory_id
                FROM dispatch_decisions d
                JOIN work_orders w ON w.tenant_id = d.tenant_id AND w.id = d.work_order_id AND w.assignee_id = d.technician_id AND NOT w._deleted
                LEFT JOIN customers c ON c.tenant_id = w.tenant_id AND c.id = w.customer_id
                WHERE d.tenant_id = $1 AND d.outcome = 'assigned' AND d.review <> 'superseded')
            SELECT (SELECT count(*) FROM standing s WHERE NOT EXISTS (
                        SELECT 1 FROM service_territories st WHERE st.tenant_id = $1 AND st.user_id = s.technician_id AND st.territory_id = s.territory_id AND NOT st._deleted)
                    OR EXISTS (
                        SELECT 1 FROM work_order_types t JOIN work_order_type_skills k ON k.tenant_id = t.tenant_id AND k.work_order_type_id = t.id AND NOT k._deleted
                        WHERE t.tenant_id = $1 AND t.code = s.work_type AND NOT t._deleted AND NOT EXISTS (
                            SELECT 1 FROM technician_skills h WHERE h.tenant_id = $1 AND h.user_id = s.technician_id AND h.skill = k.skill
                              AND h.level >= k.min_level AND NOT h._deleted)))
                 + (SELECT count(*) FROM standing a JOIN standing b ON a.technician_id = b.technician_id AND a.id < b.id
                        AND a.slot_start < b.slot_end AND b.slot_start < a.slot_end
                        -- A job done before its slot frees the slot: booking it again later is right.
                        AND (a.actual_end IS NULL OR a.actual_end > b.decided_at))
            """, [tenant.uuidString])[0].read(0, as: Int.self)
        if report.dispatchErrors > 0, report.details.count < 10 { report.details.append("\(report.dispatchErrors) automatic assignment(s) break dispatch's promises") }
        try await reconcileERP()
        try await reconcilePlanning()
        let meters = try await pool.query("""
            SELECT (SELECT count(*) FROM meter_readings WHERE tenant_id = $1), (SELECT count(*) FROM work_orders WHERE tenant_id = $1 AND due_meter IS NOT NULL)
            """, [tenant.uuidString])[0]
        (report.meterReadings, report.meterWorkOrders) = (try meters.read(0, as: Int.self), try meters.read(1, as: Int.self))
        // Every attachment's bytes reached the server with the right hash, and none waits for them.
        let attachments = try await pool.query("""
            SELECT count(*), count(*) FILTER (WHERE b.sha256 IS NULL OR encode(sha256(b.bytes), 'hex') <> a.sha256),
                   count(*) FILTER (WHERE a.upload_state IS DISTINCT FROM 'complete')
            FROM attachments a LEFT JOIN blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.sha256 WHERE a.tenant_id = $1
            """, [tenant.uuidString])[0]
        report.attachments = try attachments.read(0, as: Int.self)
        report.missingBlobs = try attachments.read(1, as: Int.self)
        report.pendingAttachments += try attachments.read(2, as: Int.self)
        if report.missingBlobs + report.pendingAttachments > 0, report.details.count < 10 {
            report.details.append("server: \(report.missingBlobs) attachment(s) without their bytes, \(try attachments.read(2, as: Int.self)) still pending")
        }
        report.conflicts = try await pool.query("SELECT count(*) FROM conflicts WHERE tenant_id = $1", [tenant.uuidString])[0].read(0, as: Int.self)
        report.digest = try await digest()
        let sorted = durations.sorted()
        func milliseconds(_ p: Double) -> Int {
            guard !sorted.isEmpty else { return 0 }
            let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            return Int(d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000)
        }
        report.syncs = sorted.count
        report.syncP50Milliseconds = milliseconds(0.5)
        report.syncP99Milliseconds = milliseconds(0.99)
    }

    /// Every row the server has retired from phones, with its state.
    func retiredRows() async throws -> [RecordRef: RecordState] {
        var rows: [RecordRef: RecordState] = [:]
        let refs = try await pool.query("SELECT tbl, id::text FROM row_retired WHERE tenant_id = $1", [tenant.uuidString])
            .map { RecordRef(table: try $0.read(0, as: String.self), record: RecordID(try $0.read(1, as: String.self))!) }
        for (table, group) in Dictionary(grouping: refs, by: \.table) {
            let states = try await pool.withConnection { [store, tenant] db in
                try await store.tables.read(try store.tables.table(table), group.map(\.record), tenant: tenant, on: db)
            }
            for (id, state) in states { rows[RecordRef(table: table, record: id)] = state }
        }
        report.retiredRows = rows.count
        return rows
    }

    /// Judges the server's window afresh from the rows' states at `now`: a row served to phones
    /// (`served`) must be one its table's window keeps, and a `retired` one must not be.
    func checkWindow(served: [RecordRef: RecordState], retired: [RecordRef: RecordState], at now: Int64) throws {
        let schema = FieldSalesSchema.schema
        func kept(_ ref: RecordRef, _ state: RecordState) -> Bool {
            guard let table = schema.table(ref.table) else { return true }
            let parentKept = table.windowParent.flatMap { parent in
                state.id(parent.field).map { retired[RecordRef(table: parent.table, record: $0)] == nil }
            }
            return table.keeps(ref.record, state, at: now, parentKept: parentKept)
        }
        let wronglyServed = served.filter { !kept($0.key, $0.value) }.map(\.key)
        let wronglyRetired = retired.filter { kept($0.key, $0.value) }.map(\.key)
        report.windowErrors = wronglyServed.count + wronglyRetired.count
        if report.windowErrors > 0, report.details.count < 10 {
            let examples = (wronglyServed + wronglyRetired).prefix(3).map { "\($0.table)/\($0.record.uuidString)" }.joined(separator: ", ")
            report.details.append("server: \(wronglyServed.count) row(s) served past their window, \(wronglyRetired.count) retired inside it (\(examples))")
        }
    }

    /// FNV-1a over every record of every table, in id order, values and clocks (not replica
    /// numbers, which PostgreSQL's sequences hand out).
    func digest() async throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            hash = (hash ^ 0x1f) &* 0x0000_0100_0000_01b3
        }
        for table in FieldSalesSchema.schema.tables {
            let rows = try await pool.query("SELECT * FROM \(table.name) WHERE tenant_id = $1 ORDER BY id", [tenant.uuidString])
            mix(table.name)
            for row in rows {
                for (column, cell) in zip(row.columns, row.cells) where !column.hasSuffix("__replica") && column != "_tombstone_replica" {
                    mix(column)
                    mix(cell ?? "∅")
                }
            }
        }
        return String(hash, radix: 16)
    }
}
