import DemoData
import FieldModel
import Foundation
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire
import Testing

@testable import SyncServer

/// A replica as `SyncProtocol/messages.md` describes one, written from the spec and not from our
/// `DeviceStore`: rows by bucket, pages applied as the spec says (change sets, then snapshots,
/// then removes), cursors kept per bucket.
struct ModelReplica {
    let phone: HostileWorld.Phone
    var cursors: [Bucket: BucketCursor]
    /// Every row held, with the buckets it is held for.
    var rows: [RecordRef: (state: RecordState, buckets: Set<Bucket>)] = [:]

    init(_ phone: HostileWorld.Phone) {
        self.phone = phone
        cursors = Dictionary(uniqueKeysWithValues: phone.buckets.map { ($0, BucketCursor(bucket: $0, sequence: 0)) })
    }

    /// Applies one page, in the spec's order.
    mutating func apply(_ page: BucketPage) {
        let schema = FieldSalesSchema.schema
        for changeSet in page.changeSets {
            for change in changeSet.changes {
                guard let table = schema.table(change.table) else { continue }
                let ref = RecordRef(table: change.table, record: change.record)
                let merged = Merge.apply(change, to: rows[ref]?.state, table: table).state
                rows[ref] = (merged, (rows[ref]?.buckets ?? []).union([page.bucket]))
            }
        }
        for snapshot in page.snapshots {
            guard let table = schema.table(snapshot.ref.table) else { continue }
            var state = snapshot.state
            if let held = rows[snapshot.ref]?.state {
                for (name, field) in held.fields {
                    guard let policy = table.field(name)?.policy else { continue }
                    state.fields[name] = state.fields[name].map { Merge.join($0, field, policy: policy) } ?? field
                }
            }
            rows[snapshot.ref] = (state, (rows[snapshot.ref]?.buckets ?? []).union([page.bucket]))
        }
        for ref in page.removes {
            guard var held = rows[ref] else { continue }
            held.buckets.remove(page.bucket)
            rows[ref] = held.buckets.isEmpty ? nil : held
        }
        cursors[page.bucket] = BucketCursor(bucket: page.bucket, sequence: page.cursor, resume: page.resume)
    }

    /// Pulls with at most `recordsMax` records a response until nothing is left; whether the
    /// user's buckets changed on the way.
    mutating func sync(_ world: HostileWorld, recordsMax: UInt64) async throws {
        for _ in 0..<2_000 {
            let response = try await SyncEdgesTests.pull(world, phone, Array(cursors.values).sorted { $0.bucket < $1.bucket }, recordsMax: recordsMax)
            for page in response.pages { apply(page) }
            if response.pages.allSatisfy({ !$0.hasMore && $0.kind == .changes }) && response.pages.allSatisfy({ $0.changeSets.isEmpty && $0.removes.isEmpty && $0.snapshots.isEmpty }) {
                return
            }
        }
        throw HostileFailure("a sync did not end after 2,000 pulls")
    }
}

/// A protocol-level model-based test (issue 15): random spec-valid traffic our own client never
/// sends — parents and children in one change set in any order, several installs of one user,
/// office visits with tasks, assignments away and back between two pulls, pages cut at every
/// size, replayed pushes — driven against `SyncService` and PostgreSQL. The oracle, after every
/// sync: each replica holds exactly the server's snapshot of its buckets (so every acknowledged
/// change reached every replica in scope, and nothing out of scope stayed), and `/v1/live` never
/// says "pull now" when the pull then has nothing.
///
/// `FIELDSYNC_MODEL_SEEDS` (default 20) and `FIELDSYNC_MODEL_STEPS` (default 60) scale it;
/// `FIELDSYNC_MODEL_SEED=<n>` replays one seed.
@Suite("Protocol model")
struct ProtocolModelTests {
    @Test("random spec-valid traffic: every replica equals the server's snapshot of its buckets, and live never cries wolf",
          arguments: seeds("FIELDSYNC_MODEL", default: 20))
    func model(seed: UInt64) async throws {
        let steps = ProcessInfo.processInfo.environment["FIELDSYNC_MODEL_STEPS"].flatMap(Int.init) ?? 60
        var random = SplitMix64(seed: seed)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        func id() -> RecordID { RecordID(high: (random.next() & ~0xF000) | 0x7000, low: random.next()) }
        let world = try await HostileWorld.make("protocol-model-\(seed)")
        let reps = try world.users(.rep)
        let technicians = try world.users(.technician)
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        // Two installs of one rep, a second rep of the same territory, two technicians.
        var replicas = [ModelReplica(try await world.phone(reps[0], .rep)), ModelReplica(try await world.phone(reps[0], .rep)),
                        ModelReplica(try await world.phone(reps[1], .rep)), ModelReplica(try await world.phone(technicians[0], .technician)),
                        ModelReplica(try await world.phone(technicians[1], .technician))]
        let customerTable = try #require(world.data["customers"])
        let territoryColumn = try #require(customerTable.columns.firstIndex(of: "territory_id"))
        let ownTerritory = try world.territory(of: reps[0])
        let ownCustomers = customerTable.rows.filter { $0[territoryColumn] == ownTerritory }.map { RecordID($0[0]!)! }
        let products = try #require(world.data["products"]).rows.prefix(50).map { RecordID($0[0]!)! }
        let priceList = try world.row("price_lists", where: "currency", is: "USD")
        let territory = RecordID(try world.territory(of: reps[0]))!
        let visits = try #require(world.data["visits"]).rows.filter { $0[4] == reps[0].uuidString }.prefix(10).map { RecordID($0[0]!)! }
        let workOrders = try #require(world.data["work_orders"]).rows.filter { $0[9] == technicians[0].uuidString }.prefix(5).map { RecordID($0[0]!)! }
        // Primed in full pages; pages are cut small from then on.
        for index in replicas.indices { try await replicas[index].sync(world, recordsMax: 5_000) }
        var lastPush: (Int, Message)?
        var log: [String] = []
        let replay = "seed \(seed) (FIELDSYNC_MODEL_SEED=\(seed))"

        for step in 0..<steps {
            world.clock.advance(by: 1_000)
            let now = Int64(world.clock.now())
            let actor = Int(random.next() % 3)  // a rep's install: 0, 1 (the same rep) or 2
            let phone = replicas[actor].phone
            func change(_ table: String, _ record: RecordID, _ fields: [(String, FieldValue)], _ counter: Int) -> Change {
                Change(id: ChangeID(id()), table: table, record: record, operation: .write(fields.map { FieldWrite($0.0, $0.1) }),
                       version: Version(clock: HLC(milliseconds: UInt64(now), counter: UInt16(counter)), replica: phone.replica))
            }
            var changes: [Change] = []
            switch random.next() % 10 {
            case 0, 1:  // an order and its lines
                let order = id()
                changes.append(change("sales_orders", order, [
                    ("customer_id", .id(pick(ownCustomers))), ("created_by", .id(phone.user)), ("price_list_id", .id(priceList)), ("currency", .text("USD")),
                    ("tax_inclusive", .bool(false)), ("order_date", .timestamp(now)), ("status", .state(StateValue("draft"))),
                ], 0))
                for line in 0..<Int(random.next() % 3 + 1) {
                    changes.append(change("order_lines", id(), [("order_id", .id(order)), ("product_id", .id(pick(products))),
                                                               ("quantity", .integer(Int64(random.next() % 5 + 1))), ("discount_bp", .integer(0))], line + 1))
                }
                log.append("step \(step): install \(actor) orders with \(changes.count - 1) line(s)")
            case 2:  // a new customer and its contact
                let customer = id()
                changes = [change("customers", customer, [("territory_id", .id(territory)), ("name", .text("Model \(step)")), ("phone", .text("+1-212-555-\(1000 + step)"))], 0),
                           change("contacts", id(), [("customer_id", .id(customer)), ("name", .text("Contact \(step)"))], 1)]
                log.append("step \(step): install \(actor) adds a customer and a contact")
            case 3:  // an ad hoc visit and its check-in
                let visit = id()
                changes = [change("visits", visit, [("customer_id", .id(pick(ownCustomers))), ("assignee_id", .id(phone.user)), ("visit_type", .text("routine")),
                                                    ("status", .state(StateValue("in_progress"))), ("creation_mode", .text("ad_hoc"))], 0),
                           change("geo_events", id(), [("visit_id", .id(visit)), ("user_id", .id(phone.user)), ("kind", .text("check_in")), ("device_time", .timestamp(now)),
                                                       ("latitude_e6", .integer(40_750_000)), ("longitude_e6", .integer(-73_990_000)), ("accuracy_m", .integer(10)),
                                                       ("provider", .text("gps")), ("mock_location", .bool(false))], 1)]
                log.append("step \(step): install \(actor) checks in at an ad hoc visit")
            case 4:  // a correction
                changes = [change("customers", pick(ownCustomers), [("phone", .text("+1-212-555-\(2000 + step)"))], 0)]
                log.append("step \(step): install \(actor) corrects a customer")
            case 5:  // the office plans a visit with tasks for one of the reps
                let rep = pick([reps[0], reps[1]])
                _ = try await world.store.createVisit(SyncStore.NewVisit(customer: pick(ownCustomers), assignee: rep, visitType: "routine", plannedStart: now + 3_600_000,
                                                                         plannedEnd: now + 5_400_000, tasks: [.init(type: "shelf_audit", required: true)]), by: dispatcher)
                log.append("step \(step): the office plans a visit with a task")
            case 6:  // a visit away to the other rep, and back before or after a pull
                let visit = pick(visits)
                try await world.store.assignVisit(visit, to: reps[1], by: dispatcher)
                if random.next() % 2 == 0 { try await world.store.assignVisit(visit, to: reps[0], by: dispatcher) }
                log.append("step \(step): the office reassigns a visit (and maybe back)")
            case 7:  // a work order between the technicians, and maybe back
                let order = pick(workOrders)
                try await world.store.assignWorkOrder(order, to: technicians[1], by: dispatcher)
                if random.next() % 2 == 0 { try await world.store.assignWorkOrder(order, to: technicians[0], by: dispatcher) }
                log.append("step \(step): the office reassigns a work order (and maybe back)")
            case 8:  // a replayed push
                if let (index, message) = lastPush {
                    let again = try await world.send("/v1/push", message, token: replicas[index].phone.token)
                    #expect(again.status == 200, "\(replay), step \(step): a replayed push answered \(again.status)")
                    log.append("step \(step): a push replayed")
                }
            default:  // a sync, with pages cut small, and the live channel after it
                let index = Int(random.next() % UInt64(replicas.count))
                try await replicas[index].sync(world, recordsMax: pick([1, 1, 2, 3, 5, 8, 13, 40]))
                let cursors = Array(replicas[index].cursors.values)
                let live = try await world.send("/v1/live", .pullRequest(PullRequest(cursors: cursors)), token: replicas[index].phone.token)
                if case .liveNotice(let notice) = live.message, !notice.buckets.isEmpty {
                    let pulled = try await SyncEdgesTests.pull(world, replicas[index].phone, cursors.filter { notice.buckets.contains($0.bucket) })
                    #expect(pulled.pages.contains { page in replicas[index].cursors[page.bucket]?.sequence != page.cursor || page.kind == .snapshot } || pulled.bucketsChanged,
                            "\(replay), step \(step): live said \(notice.buckets) but the pull had nothing\n\(log.suffix(8).joined(separator: "\n"))")
                    for page in pulled.pages { replicas[index].apply(page) }
                }
                log.append("step \(step): replica \(index) syncs")
            }
            if !changes.isEmpty {
                // Parents and children in any order inside the set.
                if random.next() % 2 == 0 { changes.reverse() }
                let message = Message.pushRequest(PushRequest(batch: id(), changeSets: [ChangeSet(id: ChangeID(id()), changes: changes)]))
                let answer = try await world.send("/v1/push", message, token: phone.token)
                guard case .pushResponse(let response) = answer.message else { Issue.record("\(replay), step \(step): push answered \(answer.status)"); continue }
                #expect(response.outcomes.allSatisfy { $0.result != .rejected }, "\(replay), step \(step): \(response.outcomes.filter { $0.result == .rejected })")
                lastPush = (actor, message)
            }
        }
        // The oracle: every replica, synced, holds exactly what a fresh prime of its buckets holds.
        // (The feed serves what is older than every transaction running in the cluster, and other
        // tests share it: a difference must last five seconds of syncing to count.)
        for index in replicas.indices {
            var missing = Set<RecordRef>(), extra = Set<RecordRef>(), differing = Set<RecordRef>()
            for attempt in 0..<25 {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(200)) }
                try await replicas[index].sync(world, recordsMax: 5_000)
                var fresh = ModelReplica(replicas[index].phone)
                fresh.cursors = Dictionary(uniqueKeysWithValues: replicas[index].cursors.keys.map { ($0, BucketCursor(bucket: $0, sequence: 0)) })
                try await fresh.sync(world, recordsMax: 5_000)
                let held = replicas[index].rows.mapValues(\.state)
                let truth = fresh.rows.mapValues(\.state)
                missing = Set(truth.keys).subtracting(held.keys)
                extra = Set(held.keys).subtracting(truth.keys)
                differing = Set(truth.keys).intersection(held.keys).filter { truth[$0] != held[$0] }
                if missing.isEmpty && extra.isEmpty && differing.isEmpty { break }
            }
            #expect(missing.isEmpty && extra.isEmpty && differing.isEmpty,
                    """
                    \(replay): replica \(index) differs from a fresh prime: \(missing.count) missing (\(missing.prefix(3).map { "\($0.table)/\($0.record.uuidString)" })), \
                    \(extra.count) held out of scope (\(extra.prefix(3).map { "\($0.table)/\($0.record.uuidString)" })), \(differing.count) differing (\(differing.prefix(3).map(\.table)))
                    \(log.suffix(10).joined(separator: "\n"))
                    """)
        }
    }
}
