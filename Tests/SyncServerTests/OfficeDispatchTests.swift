import DemoData
import FieldModel
import FieldRules
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// Technicians' resources and automatic dispatch against a real PostgreSQL, through the office
/// API (issue 19, items 1 and 2): a dispatcher sets up a work type and three technicians, the
/// server assigns the qualified one and says why, a work order no one is free for waits with its
/// reason, the dispatcher accepts, overrides and turns dispatch off per work order; the tenant's
/// switch lets the job take the rest; the technician's phone bucket carries their resources.
@Suite("Office: technicians and automatic dispatch")
struct OfficeDispatchTests {
    typealias Call = OfficeRoutesTests
    /// Monday 2027-03-01 07:00 in New York (12:00 UTC), a week the demo leaves empty.
    static let now: UInt64 = 1_803_859_200_000 + 12 * 3_600_000
    static let localMorning = "2027-03-01T14:00:00Z"  // 09:00 in New York

    static func text(_ value: JSONValue?) -> String? { if case .string(let text)? = value { text } else { nil } }
    static func member(_ value: JSONValue?, _ key: String) -> JSONValue? {
        guard case .object(let members)? = value else { return nil }
        return members.first { $0.key == key }?.value
    }
    static func items(_ answer: OfficeRoutesTests.Answer, _ key: String) -> [JSONValue] {
        if case .array(let items)? = answer.member(key) { items } else { [] }
    }

    @Test("the qualified, free technician is assigned with the reason; a wait says why; accept, override, manual mode and the tenant's switch work as documented")
    func dispatchStory() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-dispatch")
        let tenant = world.tenant.uuidString
        let admin = RecordID(high: 0xAD, low: 7)
        _ = try await world.pool.query("INSERT INTO users (tenant_id, id, role, name, email) VALUES ($1, $2, 'admin', 'Ada Admin', 'ada@example.com')", [tenant, admin.uuidString])
        let adminToken = try await world.tokens.issue(user: admin, tenant: world.tenant, role: .admin)
        // Three technicians: the demo's two and one more.
        var technicians = world.data["users"]!.rows.filter { $0[2] == "technician" }.map { RecordID($0[0]!)! }
        let third = RecordID(high: 0x7E, low: 3)
        _ = try await world.pool.query("INSERT INTO users (tenant_id, id, role, name, email) VALUES ($1, $2, 'technician', 'Theo Third', 'theo@example.com')", [tenant, third.uuidString])
        technicians.append(third)
        let (expert, novice, elsewhere) = (technicians[0], technicians[1], technicians[2])
        // A customer with a place, its territory and another.
        let customerRow = try await world.pool.query("""
            SELECT id::text, territory_id::text, latitude_e6, longitude_e6 FROM customers WHERE tenant_id = $1 AND latitude_e6 IS NOT NULL ORDER BY id LIMIT 1
            """, [tenant])[0]
        let customer = try customerRow.read(0, as: String.self), territory = try customerRow.read(1, as: String.self)
        let other = try await world.pool.query("SELECT id::text FROM territories WHERE tenant_id = $1 AND id <> $2::uuid ORDER BY id LIMIT 1", [tenant, territory])[0].read(0, as: String.self)
        let (latitude, longitude) = (try customerRow.read(2, as: Int64.self), try customerRow.read(3, as: Int64.self))
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(Self.now), requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String? = nil) async throws -> OfficeRoutesTests.Answer {
                try await Call.call(client, method, "/v1/office/" + path, body, token: token ?? world.dispatcher)
            }
            // The work type and the resources.
            let type = try await call(.post, "work-order-types", #"{"code": "boiler_repair", "name": "Boiler repair", "duration_minutes": 90, "signature_required": true, "skills": {"boiler": 2}}"#)
            #expect(type.status == .ok, "\(type.json?.printed ?? "")")
            for (technician, level, serves) in [(expert, 3, territory), (novice, 1, territory), (elsewhere, 2, other)] {
                let profile = try await call(.post, "technicians/\(technician.uuidString)/profile", """
                    {"start_latitude_e6": \(latitude + 10_000), "start_longitude_e6": \(longitude), "workday_start_minute": 480, "workday_end_minute": 1020,
                     "working_days": 31, "daily_capacity": 5}
                    """)
                #expect(profile.status == .ok, "\(profile.json?.printed ?? "")")
                #expect(try await call(.post, "technicians/\(technician.uuidString)/skills", #"{"skills": {"boiler": \#(level), "gas": 1}}"#).status == .ok)
                #expect(try await call(.post, "technicians/\(technician.uuidString)/territories", #"{"territories": ["\#(serves)"]}"#).status == .ok)
            }
            // Setting the skills again replaces them.
            #expect(try await call(.post, "technicians/\(expert.uuidString)/skills", #"{"skills": {"boiler": 3}}"#).status == .ok)
            let listed = try await call(.get, "technicians")
            let expertListed = Self.items(listed, "technicians").first { Self.text(Self.member($0, "id")) == expert.uuidString }
            #expect(Self.member(expertListed, "skills")?.printed.filter { !$0.isWhitespace } == #"{"boiler":3}"#)
            // Bad input: a level out of range, a non-technician, an hour out of range, a manager.
            #expect(try await call(.post, "technicians/\(expert.uuidString)/skills", #"{"skills": {"boiler": 9}}"#).status == .badRequest)
            #expect(try await call(.post, "technicians/\(world.user("rep").uuidString)/skills", #"{"skills": {"boiler": 1}}"#).status == .badRequest)
            #expect(try await call(.post, "technicians/\(expert.uuidString)/profile", #"{"workday_start_minute": 480, "workday_end_minute": 2000, "working_days": 31, "daily_capacity": 5}"#).status == .badRequest)
            #expect(try await call(.get, "technicians", token: world.manager).status == .forbidden)
            #expect(try await call(.post, "dispatch/run", "{}", token: world.manager).status == .forbidden)

            // A work order in the customer's territory: the expert, at 09:00 local, with the reason.
            let first = try #require(Self.text(try await call(.post, "work-orders", """
                {"customer_id": "\(customer)", "work_type": "boiler_repair", "priority": "high", "window_start": "\(Self.localMorning)", "window_end": "2027-03-01T22:00:00Z"}
                """).member("id")))
            let run = try await call(.post, "dispatch/run", #"{"work_orders": ["\#(first)"]}"#)
            #expect(run.status == .ok, "\(run.json?.printed ?? "")")
            let decision = try #require(Self.items(run, "decisions").first)
            #expect(Self.text(Self.member(decision, "technician")) == expert.uuidString)
            #expect(Self.text(Self.member(decision, "slot_start")) == "2027-03-01T14:00:00Z")
            let reason = Self.text(Self.member(decision, "reason")) ?? ""
            #expect(reason.hasPrefix("skills: boiler L2; 1.1 km from the start location; 0 of 5 slots used; 1 qualified"), "\(reason)")
            let stored = try await world.pool.query("SELECT assignee_id::text, status, scheduled_start, dispatch_reason FROM work_orders WHERE tenant_id = $1 AND id = $2::uuid", [tenant, first])[0]
            #expect(try stored.read(0, as: String.self) == expert.uuidString && stored.read(1, as: String.self) == "dispatched")
            #expect(try stored.read(2, as: Int64.self) == 1_803_859_200_000 + 14 * 3_600_000 && stored.read(3, as: String.self) == reason)
            // The technician's phone gets the work order and their own resources in their bucket.
            let bucket = try await world.pool.query("SELECT tbl FROM row_buckets WHERE tenant_id = $1 AND bucket = $2 ORDER BY tbl", [tenant, "user:\(expert.uuidString)"])
                .map { try $0.read(0, as: String.self) }
            #expect(Set(["work_orders", "technician_profiles", "technician_skills", "service_territories"]).isSubset(of: Set(bucket)), "\(Set(bucket))")

            // The expert is away the whole day: the next work order waits, and says why.
            #expect(try await call(.post, "technicians/\(expert.uuidString)/absences", #"{"starts_at": "2027-03-01T00:00:00Z", "ends_at": "2027-03-02T05:00:00Z", "reason": "training"}"#).status == .ok)
            let second = try #require(Self.text(try await call(.post, "work-orders", """
                {"customer_id": "\(customer)", "work_type": "boiler_repair", "window_start": "\(Self.localMorning)", "window_end": "2027-03-01T22:00:00Z"}
                """).member("id")))
            let waits = Self.items(try await call(.post, "dispatch/run", #"{"work_orders": ["\#(second)"]}"#), "decisions")
            #expect(Self.text(Self.member(waits.first, "outcome")) == "waiting")
            #expect(Self.text(Self.member(waits.first, "reason")) == "waiting: 1 qualified technician is not free for 90 min before the window ends")
            // Run again: nothing new to say, nothing recorded twice.
            #expect(Self.items(try await call(.post, "dispatch/run", #"{"work_orders": ["\#(second)"]}"#), "decisions").isEmpty)

            // Review: accept the first, accept again is a conflict; the second is overridden by hand.
            let open = Self.items(try await call(.get, "dispatch/decisions?review=open"), "decisions")
            #expect(open.count == 2)
            let number = try #require(open.first { Self.text(Self.member($0, "work_order")) == first }.flatMap { Self.member($0, "id")?.printed.filter(\.isNumber) })
            #expect(try await call(.post, "dispatch/decisions/\(number)/accept").status == .ok)
            #expect(try await call(.post, "dispatch/decisions/\(number)/accept").status == .conflict)
            #expect(try await call(.post, "work-orders/\(second)/assign", #"{"assignee_id": "\#(novice.uuidString)"}"#).status == .ok)
            let reviewed = Self.items(try await call(.get, "dispatch/decisions?work_order=\(second)"), "decisions")
            #expect(Self.text(Self.member(reviewed.first, "review")) == "overridden")

            // The tenant's switch (admins only) and a work order kept manual.
            #expect(try await call(.post, "settings/auto-dispatch", #"{"enabled": true}"#).status == .forbidden)
            #expect(try await call(.post, "settings/auto-dispatch", #"{"enabled": true}"#, token: adminToken).status == .ok)
            var later: [String] = []
            for _ in 0..<2 {
                later.append(try #require(Self.text(try await call(.post, "work-orders", """
                    {"customer_id": "\(customer)", "work_type": "boiler_repair", "window_start": "2027-03-02T14:00:00Z", "window_end": "2027-03-02T22:00:00Z"}
                    """).member("id"))))
            }
            #expect(try await call(.post, "work-orders/\(later[1])/dispatch-mode", #"{"mode": "manual"}"#).status == .ok)
            #expect(try await call(.post, "work-orders/\(later[1])/dispatch-mode", #"{"mode": "sometimes"}"#).status == .badRequest)
        }
        // The job: every tenant that dispatches automatically; the manual one stays unassigned.
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: ManualWallClock(Self.now)))
        #expect(try await store.tenantsDispatchingAutomatically() == [world.tenant])
        let decisions = try await store.autoDispatch(tenant: world.tenant, now: Int64(Self.now))
        let assignees = try await world.pool.query("SELECT id::text, assignee_id::text FROM work_orders WHERE tenant_id = $1 AND window_start = $2 ORDER BY dispatch_mode NULLS FIRST",
                                                   [tenant, Int64(1_803_859_200_000 + 38 * 3_600_000)]).map { (try $0.read(0, as: String.self), try $0.read(1, as: String?.self)) }
        #expect(assignees.count == 2)
        #expect(assignees[0].1 == expert.uuidString && assignees[1].1 == nil, "\(assignees)")
        #expect(decisions.allSatisfy { $0.workOrder.uuidString != assignees[1].0 })
        // Twice is once.
        #expect(try await store.autoDispatch(tenant: world.tenant, now: Int64(Self.now)).isEmpty)
    }
}
