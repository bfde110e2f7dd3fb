import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// The dispatcher's views of the field over HTTP: the board over a week with visits and work
/// orders, the map of a day, and a person's activity timeline.
@Suite("Office board, map and timeline")
struct OfficeBoardTests {
    typealias Details = OfficeDetailTests

    /// Monday 2027-03-01, 00:00 UTC (past the demo data).
    static let monday: Int64 = 1_803_859_200_000
    static let hour: Int64 = 3_600_000

    @Test("the board shows a week of visits and work orders per person with lateness; the map the day's stores and fixes; the timeline what a rep did, in order")
    func boardMapAndTimeline() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-board-week")
        let tenant = world.tenant.uuidString, rep = world.user("rep"), technician = world.user("technician")
        let place = try #require(try await world.pool.query("""
            SELECT id::text, latitude_e6, longitude_e6 FROM customers WHERE tenant_id = $1 AND latitude_e6 IS NOT NULL ORDER BY id LIMIT 1
            """, [tenant]).first)
        let customer = try place.read(0, as: String.self)
        let (latitude, longitude) = (try place.read(1, as: Int64.self), try place.read(2, as: Int64.self))
        let monday = Self.monday, hour = Self.hour
        let planned = RecordID(high: 0xB0, low: 1), completed = RecordID(high: 0xB0, low: 2), nextWeek = RecordID(high: 0xB0, low: 3)
        for (visit, start, status) in [(planned, monday + 9 * hour, "planned"), (completed, monday + 2 * 24 * hour + 9 * hour, "completed"),
                                       (nextWeek, monday + 8 * 24 * hour, "planned")] {
            _ = try await world.pool.query("""
                INSERT INTO visits (tenant_id, id, customer_id, assignee_id, visit_type, status, planned_start, planned_end, actual_start, actual_end)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'routine', $5, $6::bigint, $6::bigint + 3600000, CASE WHEN $5 = 'completed' THEN $6::bigint + 600000 END,
                        CASE WHEN $5 = 'completed' THEN $6::bigint + 3000000 END)
                """, [tenant, visit.uuidString, customer, rep.uuidString, status, start])
        }
        _ = try await world.pool.query("""
            INSERT INTO geo_events (tenant_id, id, visit_id, user_id, kind, device_time, latitude_e6, longitude_e6, accuracy_m, provider, mock_location,
                                    distance_m, verification)
            VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'check_in', $5, $6, $7, 12, 'gps', false, 40, 'verified')
            """, [tenant, RecordID(high: 0xB1, low: 1).uuidString, completed.uuidString, rep.uuidString, monday + 2 * 24 * hour + 9 * hour + 600_000,
                  latitude + 300, longitude - 200])
        let job = RecordID(high: 0xB2, low: 1)
        _ = try await world.pool.query("""
            INSERT INTO work_orders (tenant_id, id, customer_id, work_type, priority, status, assignee_id, window_start, window_end)
            VALUES ($1, $2::uuid, $3::uuid, 'repair', 'high', 'dispatched', $4::uuid, $5::bigint, $5::bigint + 7200000)
            """, [tenant, job.uuidString, customer, technician.uuidString, monday + 24 * hour + 10 * hour])
        _ = try await world.pool.query("""
            INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, order_date, status, total_minor, currency)
            VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5, 'confirmed', 12345, 'USD')
            """, [tenant, RecordID(high: 0xB3, low: 1).uuidString, customer, rep.uuidString, monday + 2 * 24 * hour + 9 * hour + 1_200_000])
        _ = try await world.pool.query("""
            INSERT INTO payments (tenant_id, id, order_id, amount_minor, method, receipt_number, collected_by, collected_at)
            VALUES ($1, $2::uuid, $3::uuid, 5000, 'cash', 'R-9', $4::uuid, $5)
            """, [tenant, RecordID(high: 0xB4, low: 1).uuidString, RecordID(high: 0xB3, low: 1).uuidString, rep.uuidString,
                  monday + 2 * 24 * hour + 9 * hour + 1_500_000])
        // A contact record's time is its id's (UUIDv7).
        let written = monday + 2 * 24 * hour + 9 * hour + 1_800_000
        _ = try await world.pool.query("""
            INSERT INTO contact_records (tenant_id, id, customer_id, author_id, channel, notes) VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'visit', 'Wants the <new> range')
            """, [tenant, RecordID(high: UInt64(written) << 16 | 0x7000, low: 0x8000_0000_0000_0001).uuidString, customer, rep.uuidString])
        let clock = ManualWallClock(UInt64(monday + 3 * 24 * hour))
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: clock, requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let week = try await OfficeRoutesTests.call(client, .get, "/v1/office/board?day=2027-03-01&days=7", token: world.dispatcher)
            #expect(week.status == .ok, "\(week.json?.printed ?? "")")
            guard case .array(let rows)? = week.json else { Issue.record("no rows"); return }
            let lanes = rows.map { Details.object($0) }
            let repLane = try #require(lanes.first { OfficeRoutesTests.text($0["user"]) == rep.uuidString })
            #expect(Details.array(repLane["visits"]).map { OfficeRoutesTests.text($0["visit"]) } == [planned.uuidString, completed.uuidString],
                    "the week's two visits, not next week's")
            #expect(OfficeRoutesTests.text(repLane["role"]) == "rep")
            let technicianLane = try #require(lanes.first { OfficeRoutesTests.text($0["user"]) == technician.uuidString })
            let orders = Details.array(technicianLane["work_orders"])
            #expect(orders.map { OfficeRoutesTests.text($0["work_order"]) } == [job.uuidString])
            // Due Tuesday 10:00, not started on Thursday 00:00: 38 hours late.
            #expect(Details.number(orders.first?["late_minutes"]) == "2280")
            let day = try await OfficeRoutesTests.call(client, .get, "/v1/office/board?day=2027-03-01", token: world.dispatcher)
            #expect(day.json?.printed.contains(completed.uuidString) == false, "one day by default")
            for bad in ["day=2027-03-01&days=8", "day=2027-03-01&days=0", "day=2027-03-01&days=two", "days=2"] {
                #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/board?\(bad)", token: world.dispatcher).status == .badRequest, "\(bad)")
            }

            let map = try await OfficeRoutesTests.call(client, .get, "/v1/office/map?day=2027-03-03", token: world.manager)
            #expect(map.status == .ok, "\(map.json?.printed ?? "")")
            let stores = Details.array(map.member("stores"))
            #expect(stores.map { OfficeRoutesTests.text($0["customer"]) } == [customer])
            #expect(Details.number(stores.first?["latitude_e6"]) == String(latitude) && Details.number(stores.first?["geofence_radius_m"]) != nil)
            let fixes = Details.array(map.member("fixes"))
            #expect(fixes.count == 1 && OfficeRoutesTests.text(fixes.first?["verification"]) == "verified")
            #expect(Details.number(fixes.first?["latitude_e6"]) == String(latitude + 300) && Details.number(fixes.first?["distance_m"]) == "40")
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/map?day=2027-03-02", token: world.manager).json?.printed.contains(customer) == false)

            let timeline = try await OfficeRoutesTests.call(client, .get,
                                                            "/v1/office/people/\(rep.uuidString)/activity?from=2027-03-01T00:00:00Z&to=2027-03-08T00:00:00Z",
                                                            token: world.manager)
            #expect(timeline.status == .ok, "\(timeline.json?.printed ?? "")")
            let events = Details.array(timeline.member("events"))
            #expect(events.map { OfficeRoutesTests.text($0["kind"]) } == ["check_in", "order", "payment", "contact_record", "visit_completed"])
            #expect(events.map { OfficeRoutesTests.text($0["customer"]) }.allSatisfy { $0 == customer })
            #expect(OfficeRoutesTests.text(events[1]["summary"]) == "confirmed, 123.45 USD" && OfficeRoutesTests.text(events[0]["summary"]) == "verified, 40 m from the store")
            let technicians = try await OfficeRoutesTests.call(client, .get, "/v1/office/people/\(technician.uuidString)/activity?from=2027-03-01T00:00:00Z",
                                                               token: world.dispatcher)
            #expect(Details.array(technicians.member("events")).isEmpty && technicians.status == .ok)
            let outsider = try await world.pool.query("""
                SELECT id::text FROM users WHERE tenant_id = $1 AND role = 'rep' AND id <> $2::uuid AND (manager_id IS NULL OR manager_id <> $3::uuid) LIMIT 1
                """, [tenant, rep.uuidString, world.user("manager").uuidString]).first.map { try $0.read(0, as: String.self) }
            if let outsider {
                #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/people/\(outsider)/activity", token: world.manager).status == .forbidden)
            }
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/people/\(RecordID(high: 0xEE, low: 1).uuidString)/activity",
                                                     token: world.dispatcher).status == .notFound)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/people/\(rep.uuidString)/activity?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z",
                                                     token: world.dispatcher).status == .badRequest)
            #expect(try await OfficeRoutesTests.call(client, .get, "/v1/office/people/\(rep.uuidString)/activity", token: world.rep).status == .forbidden)
        }
    }
}
