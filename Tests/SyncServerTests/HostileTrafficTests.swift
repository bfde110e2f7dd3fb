import DemoData
import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// What a phone may and may not see.
typealias Target = (own: [String: [RecordID]], foreign: [String: [RecordID]], others: [RecordID])

/// Generated hostile traffic with an oracle (issue 14): seeded pushes from a rep and a technician
/// that our phone never sends (`HostileTraffic`), through the very code behind the HTTP routes,
/// then every office read. After every step: the answer is a documented status, each refusal has
/// a documented reason, and no refusal carries a row outside the caller's scope; every fifth step
/// the phone fetches what the traffic named, and nothing served lies outside its scope. At the end: no
/// stored value lies outside its field's declared range or vocabulary, no row the traffic created
/// names another user in an author field, no delete was applied that the role may not make, and
/// every office read still answers.
///
/// `FIELDSYNC_HOSTILE_SEEDS` (default 4) and `FIELDSYNC_HOSTILE_STEPS` (default 150) scale it; a
/// failure names the seed and the step, and `FIELDSYNC_HOSTILE_SEED=<n>` replays that seed alone.
@Suite("Hostile traffic")
struct HostileTrafficTests {
    /// Every reason `errors.md` documents for a refused change.
    static let reasons: Set<String> = [
        "unknown_table", "unknown_field", "duplicate_field", "wrong_type", "too_long", "null_not_allowed", "unknown_state", "foreign_contribution",
        "invalid_blob_reference", "invalid_operation", "out_of_range", "invalid_text", "clock_behind", "forbidden_record", "forbidden_field",
        "foreign_identity", "forbidden_transition", "unknown_reference", "order_locked", "duplicate_receipt", "server_fault",
    ]
    /// Every status the sync routes document.
    static let statuses: Set<Int> = [200, 400, 401, 403, 409, 413, 429]

    @Test("seeded hostile pushes get documented answers, leak no row, store nothing out of range", arguments: seeds("FIELDSYNC_HOSTILE", default: 4))
    func traffic(seed: UInt64) async throws {
        let steps = ProcessInfo.processInfo.environment["FIELDSYNC_HOSTILE_STEPS"].flatMap(Int.init) ?? 150
        let world = try await HostileWorld.make("hostile-traffic-\(seed)")
        let rep = try world.rep
        let technician = try world.users(.technician)[0]
        var actors = [(try await world.phone(rep, .rep), try Self.target(world, rep, .rep)), (try await world.phone(technician, .technician), try Self.target(world, technician, .technician))]
        var generator = HostileTraffic(seed: seed, schema: FieldSalesSchema.schema)
        var created: [String: Set<RecordID>] = [:]
        var touched: [String: Set<RecordID>] = [:]
        var statuses: [Int: Int] = [:]
        var results: [String: Int] = [:]
        for step in 0..<steps {
            let (phone, target) = actors[step % 2]
            let generated = generator.next(for: HostileTraffic.Target(user: phone.user, replica: phone.replica, own: target.own, foreign: target.foreign,
                                                                      others: target.others), now: world.clock.now())
            let replay = "seed \(seed), step \(step) (FIELDSYNC_HOSTILE_SEED=\(seed)): \(generated.description)"
            world.clock.advance(by: 1_000)
            let answer = await world.service.respond(route: "/v1/push", authorization: "Bearer \(phone.token)",
                                                     body: try Frame.encode(.pushRequest(PushRequest(batch: RecordID.random(), changeSets: [generated.changeSet]))))
            #expect(Self.statuses.contains(answer.status), "status \(answer.status): \(replay)")
            statuses[answer.status, default: 0] += 1
            if step % 5 == 0 {
                // A fetch of what the traffic names, own and foreign: nothing served outside the caller's scope.
                let refs = generated.changeSet.changes.map { RecordRef(table: $0.table, record: $0.record) }
                    + target.foreign.flatMap { table, ids in ids.prefix(2).map { RecordRef(table: table, record: $0) } }
                let fetched = await world.service.respond(route: "/v1/fetch", authorization: "Bearer \(phone.token)",
                                                          body: try Frame.encode(.fetchRequest(FetchRequest(refs: Array(refs.prefix(WireLimits.fetchRefsMax))))))
                #expect(Self.statuses.contains(fetched.status), "fetch status \(fetched.status): \(replay)")
                if fetched.status == 200, case .fetchResponse(let response) = try Frame.decode(fetched.body) {
                    for snapshot in response.snapshots {
                        #expect(try await Self.sees(world, phone, snapshot.ref.table, snapshot.ref.record), "a fetch served a row outside the caller's scope: \(replay)")
                    }
                }
            }
            guard answer.status == 200, case .pushResponse(let response) = try Frame.decode(answer.body) else { continue }
            #expect(response.outcomes.count == generated.changeSet.changes.count, "\(replay)")
            for (change, outcome) in zip(generated.changeSet.changes, response.outcomes) {
                touched[change.table, default: []].insert(change.record)
                if outcome.result != .rejected, !(target.own[change.table] ?? []).contains(change.record), !(target.foreign[change.table] ?? []).contains(change.record) {
                    created[change.table, default: []].insert(change.record)
                    // What the phone created, it may go on writing (an order, then its lines and payments).
                    actors[step % 2].1.own[change.table, default: []].append(change.record)
                }
                results[outcome.reason ?? outcome.result.name, default: 0] += 1
                if outcome.result != .rejected, change.operation == .delete, let table = FieldSalesSchema.schema.table(change.table) {
                    // Who edits what (DOMAIN.md §3): a delete undoes every field a device writes, so only a role that writes them all may.
                    let writable = table.fields.filter { $0.access != .serverOnly }
                    #expect(!writable.isEmpty && writable.allSatisfy { $0.access.allows(phone.role) }, "a \(phone.role) deleted \(change.table): \(replay)")
                }
                guard outcome.result == .rejected else { continue }
                #expect(Self.reasons.contains(outcome.reason ?? ""), "undocumented reason \(outcome.reason ?? "nil"): \(replay)")
                if outcome.serverState != nil {
                    #expect(try await Self.sees(world, phone, change.table, change.record), "a refusal carried a row outside the caller's scope: \(replay)")
                }
            }
        }
        print("hostile traffic, seed \(seed): statuses \(statuses.sorted { $0.key < $1.key }), outcomes \(results.sorted { $0.value > $1.value })")
        // Every office read answers.
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let manager = SyncStore.OfficeUser(user: try world.users(.manager)[0], role: .manager, tenant: world.tenant)
        let now = Int64(world.clock.now())
        for office in [dispatcher, manager] {
            _ = try await world.store.board(from: now - 86_400_000, to: now + 86_400_000, user: nil, now: now, by: office)
            var next: String?
            repeat { next = try await world.store.reviews(.init(openOnly: false), limit: SyncStore.listPageMax, after: next, by: office).next } while next != nil
        }
        _ = try await world.store.team(of: manager)
        // Nothing stored out of its field's range or vocabulary; nothing created names another user as its author.
        let schema = FieldSalesSchema.schema
        for (tableName, ids) in touched {
            guard let table = schema.table(tableName) else { continue }
            for id in ids {
                guard let state = try await world.server(tableName, id) else { continue }
                for field in table.fields where field.type != .counter {
                    guard let value = state.fields[field.name]?.value, value != .null else { continue }
                    let probe = Change(id: ChangeID(RecordID.random()), table: tableName, record: id, operation: .write([FieldWrite(field.name, value)]),
                                       version: Version(clock: HLC(milliseconds: 1), replica: .server))
                    #expect(throws: Never.self, "seed \(seed): \(tableName).\(field.name) of \(id) holds \(value)") { try schema.validate(probe) }
                    if field.author == .always, created[tableName]?.contains(id) == true, case .id(let named) = value {
                        #expect(actors.contains { $0.0.user == named }, "seed \(seed): \(tableName).\(field.name) of \(id) names another user")
                    }
                }
            }
        }
    }

    /// What a phone of `user` may and may not see, from the demo data.
    static func target(_ world: HostileWorld, _ user: RecordID, _ role: Role) throws -> Target {
        func rows(_ table: String, _ keep: ([String: String?]) -> Bool) throws -> [RecordID] {
            let data = try #require(world.data[table])
            return data.rows.filter { row in keep(Dictionary(uniqueKeysWithValues: zip(data.columns, row))) }.prefix(20).map { RecordID($0[0]!)! }
        }
        let others = try #require(world.data["users"]).rows.map { RecordID($0[0]!)! }.filter { $0 != user }
        // The catalogue is everyone's.
        let catalogue = ["price_lists": try rows("price_lists") { _ in true }, "products": try rows("products") { _ in true }]
        if role == .technician {
            let orders = try rows("work_orders") { $0["assignee_id"] == user.uuidString }
            let workOrders = try #require(world.data["work_orders"])
            let customers = Set(workOrders.rows.map { Dictionary(uniqueKeysWithValues: zip(workOrders.columns, $0)) }
                .filter { $0["assignee_id"] == user.uuidString }.compactMap { $0["customer_id"] ?? nil })
            return (catalogue.merging(["work_orders": orders, "customers": try rows("customers") { customers.contains($0["id"]!!) }]) { $1 },
                    ["work_orders": try rows("work_orders") { $0["assignee_id"] != user.uuidString }, "customers": try rows("customers") { !customers.contains($0["id"]!!) }],
                    others)
        }
        let territory = try world.territory(of: user)
        let ownCustomers = Set(try rows("customers") { $0["territory_id"] == territory }.map(\.uuidString))
        return (catalogue.merging(["customers": try rows("customers") { $0["territory_id"] == territory }, "visits": try rows("visits") { $0["assignee_id"] == user.uuidString },
                                   "territories": [RecordID(territory)!]]) { $1 },
                ["customers": try rows("customers") { $0["territory_id"] != territory },
                 "visits": try rows("visits") { !ownCustomers.contains($0["customer_id"]!!) }, "work_orders": try rows("work_orders") { _ in true },
                 "users": others],
                others)
    }

    /// Whether `phone`'s user may see `table`/`id` now (a row that does not exist shows nothing).
    static func sees(_ world: HostileWorld, _ phone: HostileWorld.Phone, _ table: String, _ id: RecordID) async throws -> Bool {
        let buckets = try await world.store.buckets(user: phone.user, role: phone.role, tenant: world.tenant, at: Int64(world.clock.now()))
        return try await !world.pool.query("SELECT 1 FROM row_buckets WHERE tenant_id = $1 AND tbl = $2 AND id = $3 AND bucket = ANY($4::text[])",
                                           [world.tenant.uuidString, table, id.uuidString, PostgresArray.literal(buckets)]).isEmpty
    }
}
