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

/// The review queue over HTTP: filtered by kind and table, paged with a cursor, and a manager's
/// conflicts limited to their team's records.
@Suite("Office review queue")
struct OfficeReviewTests {
    @Test("the review queue pages flagged and refused changes, then conflicts, each once; filters by kind and table; a manager sees conflicts on their team's records only")
    func pagedAndFiltered() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("office-review-pages")
        let tenant = world.tenant.uuidString
        let customer = try await world.pool.query("SELECT id::text FROM customers WHERE tenant_id = $1 ORDER BY id LIMIT 1", [tenant])[0].read(0, as: String.self)
        let mine = RecordID(high: 0xF0, low: 1), theirs = RecordID(high: 0xF0, low: 2)
        for (visit, assignee) in [(mine, world.user("rep")), (theirs, RecordID(high: 0xAB, low: 1))] {
            _ = try await world.pool.query("""
                INSERT INTO visits (tenant_id, id, customer_id, assignee_id, visit_type, status, planned_start, planned_end)
                VALUES ($1, $2::uuid, $3::uuid, $4::uuid, 'routine', 'planned', 1796014800000, 1796018400000)
                """, [tenant, visit.uuidString, customer, assignee.uuidString])
        }
        _ = try await world.pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, server_time, review)
            SELECT $1, CASE WHEN n <= 5 THEN 'visits' ELSE 'order_lines' END, gen_random_uuid(), 'rule_' || n,
                   CASE WHEN n <= 5 THEN 'applied_with_exception' ELSE 'rejected' END, 'item ' || n, $2::uuid, 'rep', n, 'open'
            FROM generate_series(1, 7) n
            """, [tenant, world.user("rep").uuidString])
        for (record, table) in [(mine.uuidString, "visits"), (theirs.uuidString, "visits"), (customer, "customers")] {
            _ = try await world.pool.query("""
                INSERT INTO conflicts (tenant_id, tbl, record, field, winner, loser, winner_replica, loser_replica)
                VALUES ($1, $2, $3::uuid, 'instructions', '\\x00'::bytea, '\\x00'::bytea, 0, 1)
                """, [tenant, table, record])
        }
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_050_800_000),
                                                                 requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let all = try await OfficeRoutesTests.pageThrough(client, "/v1/office/reviews", "reviews", size: 3, token: world.dispatcher)
            #expect(all.count == 10 && Set(all).count == 10, "\(all)")
            #expect(all.prefix(7).allSatisfy { $0.hasPrefix("decision:") } && all.suffix(3).allSatisfy { $0.hasPrefix("conflict:") })
            func ids(_ query: String, token: String) async throws -> [String] {
                try await OfficeRoutesTests.pageThrough(client, "/v1/office/reviews?\(query)", "reviews", size: 2, token: token)
            }
            #expect(try await ids("kind=rejection", token: world.dispatcher).count == 2)
            #expect(try await ids("kind=exception", token: world.dispatcher).count == 5)
            #expect(try await ids("kind=conflict", token: world.dispatcher).count == 3)
            #expect(try await ids("table=visits", token: world.dispatcher).count == 7)
            #expect(try await ids("table=visits&kind=conflict", token: world.dispatcher).count == 2)
            // The manager: every change their rep wrote, the conflict on their rep's visit and on a customer of their territories.
            let managers = try await ids("kind=conflict", token: world.manager)
            #expect(managers.count == 2, "\(managers)")
            let onCustomer = all.last { $0.hasPrefix("conflict:") }!
            #expect(!managers.contains(all[8]), "the conflict on another team's visit is not the manager's")
            #expect(managers.contains(onCustomer), "the conflict on a customer of their territories is")
            let resolve = try await OfficeRoutesTests.call(client, .post, "/v1/office/reviews/\(all[8])/resolve", #"{"action": "accept"}"#, token: world.manager)
            #expect(resolve.status == .notFound, "a manager cannot resolve what they cannot see")
            for bad in ["kind=warning", "table=nope", "after=decision:x", "after=7", "limit=0", "limit=501", "state=closed"] {
                let answer = try await OfficeRoutesTests.call(client, .get, "/v1/office/reviews?\(bad)", token: world.dispatcher)
                #expect(answer.status == .badRequest, "\(bad): \(answer.status)")
            }
        }
    }
}
