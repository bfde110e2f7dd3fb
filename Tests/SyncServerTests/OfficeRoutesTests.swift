import DemoData
import FieldModel
import FieldRules
import OfficeStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// The office API over HTTP: JSON in and out, strict bodies, roles, and every error code it documents.
@Suite("Office routes")
struct OfficeRoutesTests {
    struct Answer {
        var status: HTTPResponse.Status
        var json: JSONValue?
        var bytes: [UInt8]
        func member(_ key: String) -> JSONValue? {
            guard case .object(let members)? = json else { return nil }
            return members.first { $0.key == key }?.value
        }
    }

    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String?,
                     contentType: String = "application/json", bytes: [UInt8]? = nil) async throws -> Answer {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        let payload = bytes ?? body.map { Array($0.utf8) }
        return try await client.execute(uri: path, method: method, headers: headers, body: payload.map { ByteBuffer(bytes: $0) }) { response in
            let bytes = Array(response.body.readableBytesView)
            return Answer(status: response.status, json: try? JSONValue.parse(bytes), bytes: bytes)
        }
    }

    /// A new database with the schema and the demo data.
    /// A string member's text.
    static func text(_ value: JSONValue?) -> String? { if case .string(let text)? = value { text } else { nil } }

    /// The objects of a list answer's array `key`, as dictionaries.
    static func rows(_ answer: Answer, _ key: String) -> [[String: JSONValue]] {
        guard case .array(let rows)? = answer.member(key) else { return [] }
        return rows.compactMap { row in if case .object(let members) = row { Dictionary(members.map { ($0.key, $0.value) }) { first, _ in first } } else { nil } }
    }

    /// Every row of a list, `size` at a time by its cursor: the `id` (else `installation`) of each.
    static func pageThrough(_ client: some TestClientProtocol, _ path: String, _ key: String, size: Int, token: String) async throws -> [String] {
        var seen: [String] = []
        var next: String? = nil
        repeat {
            let page = try await call(client, .get, path + (path.contains("?") ? "&" : "?") + "limit=\(size)" + (next.map { "&after=\($0)" } ?? ""), token: token)
            #expect(page.status == .ok, "\(path): \(page.json?.printed ?? "")")
            seen += rows(page, key).compactMap { text($0["id"] ?? $0["installation"] ?? nil) }
            next = text(page.member("next"))
        } while next != nil && seen.count < 10_000
        return seen
    }

    /// The demo database with a dispatcher's, a manager's and a rep's tokens.
    struct OfficeWorld {
        let pool: PostgresPool, data: DemoDataSet, tenant: RecordID, tokens: TokenAuthority
        let dispatcher: String, manager: String, rep: String

        /// The first demo user with `role`.
        func user(_ role: String) -> RecordID { RecordID(data["users"]!.rows.first { $0[2] == role }![0]!)! }

        static func make(_ name: String) async throws -> OfficeWorld {
            let (pool, data, tenant) = try await OfficeRoutesTests.demoDatabase(name)
            let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
            func user(_ role: String) -> RecordID { RecordID(data["users"]!.rows.first { $0[2] == role }![0]!)! }
            return OfficeWorld(pool: pool, data: data, tenant: tenant, tokens: tokens,
                               dispatcher: try await tokens.issue(user: user("dispatcher"), tenant: tenant, role: .dispatcher),
                               manager: try await tokens.issue(user: user("manager"), tenant: tenant, role: .manager),
                               rep: try await tokens.issue(user: user("rep"), tenant: tenant, role: .rep))
        }
    }

    static func demoDatabase(_ name: String) async throws -> (PostgresPool, DemoDataSet, RecordID) {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name)))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        return (pool, data, try #require(data.tenant))
    }

    @Test("the office lists orders newest first, filtered and paged with a cursor; a manager sees their team's; bad filters answer 400")
    func orderList() async throws {
        let (pool, data, tenant) = try await Self.demoDatabase("office-orders")
        let users = try #require(data["users"]).rows
        @Sendable func user(_ role: String) -> RecordID { RecordID(users.first { $0[2] == role }![0]!)! }
        let customers = try #require(data["customers"]).rows.prefix(2).map { $0[0]! }
        // Five orders the first rep took, a day apart, and one by someone outside the manager's team.
        let outsider = RecordID(high: 0xAB, low: 1)
        for index in 0..<6 {
            _ = try await pool.query("""
                INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, order_date, status, total_minor, currency)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 'USD')
                """, [tenant.uuidString, RecordID(high: 0xA0, low: UInt64(index)).uuidString, customers[index % 2],
                      (index == 5 ? outsider : user("rep")).uuidString, Int64(1_796_014_800_000 + Int64(index) * 86_400_000),
                      index % 2 == 0 ? "submitted" : "confirmed", Int64(1_000 * (index + 1))])
        }
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let dispatcher = try await tokens.issue(user: user("dispatcher"), tenant: tenant, role: .dispatcher)
        let manager = try await tokens.issue(user: user("manager"), tenant: tenant, role: .manager)
        let rep = try await tokens.issue(user: user("rep"), tenant: tenant, role: .rep)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: ManualWallClock(1_796_050_800_000)))
        @Sendable func text(_ value: JSONValue?) -> String? { if case .string(let text)? = value { text } else { nil } }
        @Sendable func ids(_ answer: Answer) -> [String] {
            guard case .array(let orders)? = answer.member("orders") else { return [] }
            return orders.compactMap { order in if case .object(let members) = order { text(members.first { $0.key == "id" }?.value) } else { nil } }
        }
        try await app.test(.router) { client in
            // Every page in turn, by the cursor.
            var seen: [String] = []
            var path = "/v1/office/orders?limit=2"
            for _ in 0..<5 {
                let page = try await Self.call(client, .get, path, token: dispatcher)
                #expect(page.status == .ok, "\(page.json?.printed ?? "")")
                seen += ids(page)
                guard let next = text(page.member("next")) else { break }
                path = "/v1/office/orders?limit=2&after=\(next)"
            }
            #expect(seen == (0..<6).reversed().map { RecordID(high: 0xA0, low: UInt64($0)).uuidString }, "newest first, each once")

            let confirmed = try await Self.call(client, .get, "/v1/office/orders?status=confirmed", token: dispatcher)
            #expect(ids(confirmed).count == 3 && confirmed.json?.printed.contains("\"submitted\"") == false)
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders?rep=\(user("rep").uuidString)", token: dispatcher)).count == 5)
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders?customer=\(customers[0])", token: dispatcher)).count == 3)
            let window = try await Self.call(client, .get, "/v1/office/orders?from=2026-12-01T00:00:00Z&to=2026-12-03T05:00:00Z", token: dispatcher)
            #expect(ids(window).count == 2, "\(window.json?.printed ?? "")")

            // A manager sees their team's orders; a rep none.
            #expect(ids(try await Self.call(client, .get, "/v1/office/orders", token: manager)).count == 5)
            #expect(try await Self.call(client, .get, "/v1/office/orders", token: rep).status == .forbidden)
            for bad in ["status=shipped", "limit=0", "limit=501", "limit=ten", "after=nonsense", "rep=not-a-uuid", "from=yesterday"] {
                let answer = try await Self.call(client, .get, "/v1/office/orders?\(bad)", token: dispatcher)
                #expect(answer.status == .badRequest && text(answer.member("error")) == "invalid", "\(bad)")
            }
        }
    }

    @Test("the office lists work orders, customers (searched) and devices, paged with a cursor, each limited to a manager's team; bad filters answer 400")
    func moreLists() async throws {
        let world = try await OfficeWorld.make("office-lists")
        let (pool, tenant, tokens, dispatcher, manager, rep) = (world.pool, world.tenant, world.tokens, world.dispatcher, world.manager, world.rep)
        @Sendable func user(_ role: String) -> RecordID { world.user(role) }
        // A customer whose name holds LIKE's wildcards and markup, and two phones.
        let territory = try #require(try await pool.query("SELECT territory_id::text FROM customers WHERE tenant_id = $1 LIMIT 1", [tenant.uuidString]).first)
            .read(0, as: String.self)
        _ = try await pool.query("""
            INSERT INTO customers (tenant_id, id, name, territory_id, phone, status) VALUES ($1, $2, '100% <b>Juice</b>_Bar', $3, '+1-555-0199', 'active')
            """, [tenant.uuidString, RecordID(high: 0xC0, low: 1).uuidString, territory])
        // And one in a territory nobody owns: no manager's.
        _ = try await pool.query("INSERT INTO customers (tenant_id, id, name, territory_id, status) VALUES ($1, $2, 'Orphan Store', $3, 'active')",
                                 [tenant.uuidString, RecordID(high: 0xC0, low: 2).uuidString, RecordID(high: 0xC0, low: 3).uuidString])
        for (n, owner) in [(1, user("rep")), (2, RecordID(high: 0xAB, low: 1))] {
            _ = try await pool.query("INSERT INTO devices (tenant_id, installation, user_id, platform, app_version) VALUES ($1, $2, $3, 'ios', '1.4.2')",
                                     [tenant.uuidString, RecordID(high: 0xD0, low: UInt64(n)).uuidString, owner.uuidString])
        }
        // Paging through every list a few rows at a time is more reads than a user's budget allows.
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: ManualWallClock(1_796_050_800_000), requestsPerSecond: 10_000))
        @Sendable func text(_ value: JSONValue?) -> String? { Self.text(value) }
        @Sendable func items(_ answer: Answer, _ key: String) -> [[String: JSONValue]] { Self.rows(answer, key) }
        @Sendable func all(_ client: some TestClientProtocol, _ path: String, _ key: String, token: String) async throws -> [String] {
            try await Self.pageThrough(client, path, key, size: 7, token: token)
        }
        @Sendable func column(_ sql: String, _ values: [String] = []) async throws -> [String] {
            try await pool.query(sql, [tenant.uuidString] + values.map { $0 as any PostgresBindable }).map { try $0.read(0, as: String.self) }
        }
        try await app.test(.router) { client in
            // Work orders: every one once, latest window first; filters; a manager's team.
            let workOrders = try await all(client, "/v1/office/work-orders", "work_orders", token: dispatcher)
            #expect(workOrders == (try await column("SELECT id::text FROM work_orders WHERE tenant_id = $1 ORDER BY coalesce(window_start, 0) DESC, id DESC")))
            #expect(!workOrders.isEmpty)
            let unassigned = try await all(client, "/v1/office/work-orders?unassigned=true", "work_orders", token: dispatcher)
            #expect(Set(unassigned) == Set(try await column("SELECT id::text FROM work_orders WHERE tenant_id = $1 AND assignee_id IS NULL")))
            let technician = user("technician")
            let theirs = try await all(client, "/v1/office/work-orders?assignee=\(technician.uuidString)", "work_orders", token: dispatcher)
            #expect(Set(theirs) == Set(try await column("SELECT id::text FROM work_orders WHERE tenant_id = $1 AND assignee_id = $2", [technician.uuidString])))
            let team = try await column("""
                WITH RECURSIVE subtree(id) AS (SELECT id FROM users WHERE tenant_id = $1 AND manager_id = $2
                    UNION SELECT u.id FROM users u JOIN subtree s ON u.manager_id = s.id WHERE u.tenant_id = $1)
                SELECT id::text FROM subtree
                """, [user("manager").uuidString])
            let managers = try await all(client, "/v1/office/work-orders", "work_orders", token: manager)
            #expect(Set(managers) == Set(try await column("SELECT id::text FROM work_orders WHERE tenant_id = $1 AND assignee_id::text = ANY($2::text[])",
                                                          [PostgresArray.literal(team)])))

            // Customers: by name, each once; the search is a substring in any case, wildcards and all.
            let customers = try await all(client, "/v1/office/customers", "customers", token: dispatcher)
            #expect(customers == (try await column("SELECT id::text FROM customers WHERE tenant_id = $1 AND NOT _deleted AND merged_into IS NULL ORDER BY name, id")))
            let found = try await Self.call(client, .get, "/v1/office/customers?search=100%25", token: dispatcher)
            #expect(items(found, "customers").compactMap { text($0["name"] ?? nil) } == ["100% <b>Juice</b>_Bar"], "markup comes back as text, as stored")
            #expect(items(try await Self.call(client, .get, "/v1/office/customers?search=JUICE%3C/B%3E_bar", token: dispatcher), "customers").count == 1)
            #expect(items(try await Self.call(client, .get, "/v1/office/customers?search=555-0199", token: dispatcher), "customers").count == 1)
            #expect(items(try await Self.call(client, .get, "/v1/office/customers?search=_", token: dispatcher), "customers").count == 1, "_ matches itself")
            let managed = try await all(client, "/v1/office/customers", "customers", token: manager)
            #expect(Set(managed) == Set(try await column("""
                SELECT c.id::text FROM customers c JOIN territory_owners o ON o.tenant_id = c.tenant_id AND o.territory_id = c.territory_id
                WHERE c.tenant_id = $1 AND o.user_id::text = ANY($2::text[]) AND o.valid_from <= $3::bigint AND (o.valid_to IS NULL OR o.valid_to > $3::bigint)
                """, [PostgresArray.literal(team), "1796050800000"])))
            #expect(customers.contains(RecordID(high: 0xC0, low: 2).uuidString) && !managed.contains(RecordID(high: 0xC0, low: 2).uuidString))

            // Devices: the tenant's for a dispatcher, the team's for a manager.
            let devices = try await all(client, "/v1/office/devices", "devices", token: dispatcher)
            #expect(Set(devices) == Set([1, 2].map { RecordID(high: 0xD0, low: $0).uuidString }))
            #expect(try await all(client, "/v1/office/devices", "devices", token: manager) == [RecordID(high: 0xD0, low: 1).uuidString])

            for path in ["/v1/office/work-orders", "/v1/office/customers", "/v1/office/devices"] {
                #expect(try await Self.call(client, .get, path, token: rep).status == .forbidden, "\(path)")
            }
            for bad in ["work-orders?status=lost", "work-orders?unassigned=yes", "work-orders?after=nonsense", "work-orders?assignee=x", "customers?status=gone",
                        "customers?after=nonsense", "customers?limit=0", "customers?territory=x", "devices?after=1", "devices?limit=501"] {
                let answer = try await Self.call(client, .get, "/v1/office/\(bad)", token: dispatcher)
                #expect(answer.status == .badRequest && text(answer.member("error")) == "invalid", "\(bad): \(answer.json?.printed ?? "")")
            }
        }
    }

    @Test("the office lists visits, payments, shelf counts and contact records with their comments, paged with a cursor, each limited to a manager's team")
    func historyLists() async throws {
        let world = try await OfficeWorld.make("office-history")
        let (pool, tenant) = (world.pool, world.tenant)
        let rep = world.user("rep"), outsider = RecordID(high: 0xAB, low: 1)
        let customer = try #require(world.data["customers"]).rows[0][0]!
        // An order with three payments, one collected by someone outside the manager's team.
        let order = RecordID(high: 0xE0, low: 1)
        _ = try await pool.query("INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, status, currency) VALUES ($1, $2, $3, $4, 'confirmed', 'USD')",
                                 [tenant.uuidString, order.uuidString, customer, rep.uuidString])
        for n in 0..<3 {
            _ = try await pool.query("""
                INSERT INTO payments (tenant_id, id, order_id, amount_minor, method, receipt_number, collected_by, collected_at)
                VALUES ($1, $2, $3, $4, 'cash', $5, $6, $7)
                """, [tenant.uuidString, RecordID(high: 0xE1, low: UInt64(n)).uuidString, order.uuidString, Int64(1_000 * (n + 1)), "R-\(n)",
                      (n == 2 ? outsider : rep).uuidString, Int64(1_796_014_800_000 + Int64(n) * 3_600_000)])
        }
        // Three contact records a day apart (their ids carry the time), comments on the last.
        func idAt(_ milliseconds: Int64, _ n: UInt64) -> RecordID { RecordID(high: UInt64(milliseconds) << 16 | 0x7000, low: 0x8000_0000_0000_0000 | n) }
        let day: Int64 = 86_400_000, start: Int64 = 1_796_014_800_000
        for n in 0..<3 {
            _ = try await pool.query("INSERT INTO contact_records (tenant_id, id, customer_id, author_id, channel, notes) VALUES ($1, $2, $3, $4, 'phone', $5)",
                                     [tenant.uuidString, idAt(start + Int64(n) * day, UInt64(n)).uuidString, customer, (n == 0 ? outsider : rep).uuidString, "note \(n)"])
        }
        for n in 0..<2 {
            _ = try await pool.query("INSERT INTO manager_comments (tenant_id, id, contact_record_id, author_id, body) VALUES ($1, $2, $3, $4, $5)",
                                     [tenant.uuidString, idAt(start + 3 * day + Int64(n) * 1_000, 10 + UInt64(n)).uuidString, idAt(start + 2 * day, 2).uuidString,
                                      world.user("manager").uuidString, "comment \(n)"])
        }
        // Shelf counts on two visits: the rep's, and one assigned to the outsider.
        let product = try #require(world.data["products"]).rows[0][0]!
        for (n, assignee) in [(0, rep), (1, outsider)] {
            let visit = RecordID(high: 0xE2, low: UInt64(n))
            _ = try await pool.query("INSERT INTO visits (tenant_id, id, customer_id, assignee_id, status, visit_type) VALUES ($1, $2, $3, $4, 'completed', 'routine')",
                                     [tenant.uuidString, visit.uuidString, customer, assignee.uuidString])
            _ = try await pool.query("INSERT INTO shelf_stock_counts (tenant_id, id, visit_id, product_id, quantity, counted_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                     [tenant.uuidString, RecordID(high: 0xE3, low: UInt64(n)).uuidString, visit.uuidString, product, Int64(7 + n),
                                      Int64(start + Int64(n) * day)])
        }
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_050_800_000), requestsPerSecond: 10_000))
        @Sendable func text(_ value: JSONValue?) -> String? { Self.text(value) }
        @Sendable func rows(_ answer: Answer, _ key: String) -> [[String: JSONValue]] { Self.rows(answer, key) }
        @Sendable func ids(_ client: some TestClientProtocol, _ path: String, _ key: String, token: String) async throws -> [String] {
            try await Self.pageThrough(client, path, key, size: 5, token: token)
        }
        try await app.test(.router) { client in
            // Visits: all of them once, latest planned first; a status; a manager's team.
            let visits = try await ids(client, "/v1/office/visits", "visits", token: world.dispatcher)
            let expected = try await pool.query("SELECT id::text FROM visits WHERE tenant_id = $1 ORDER BY coalesce(planned_start, 0) DESC, id DESC", [tenant.uuidString])
                .map { try $0.read(0, as: String.self) }
            #expect(visits == expected && !visits.isEmpty)
            let planned = try await ids(client, "/v1/office/visits?status=planned&assignee=\(rep.uuidString)", "visits", token: world.dispatcher)
            #expect(Set(planned) == Set(try await pool.query("SELECT id::text FROM visits WHERE tenant_id = $1 AND status = 'planned' AND assignee_id = $2",
                                                             [tenant.uuidString, rep.uuidString]).map { try $0.read(0, as: String.self) }))
            #expect(try await Self.call(client, .get, "/v1/office/visits?status=lost", token: world.dispatcher).status == .badRequest)

            // Payments: newest first; the manager does not see the outsider's.
            #expect(try await ids(client, "/v1/office/payments?order=\(order.uuidString)", "payments", token: world.dispatcher)
                    == (0..<3).reversed().map { RecordID(high: 0xE1, low: UInt64($0)).uuidString })
            #expect(try await ids(client, "/v1/office/payments?order=\(order.uuidString)", "payments", token: world.manager).count == 2)
            let paid = try await Self.call(client, .get, "/v1/office/payments?rep=\(rep.uuidString)&from=2026-11-30T06:00:00Z", token: world.dispatcher)
            #expect(rows(paid, "payments").compactMap { text($0["receipt_number"] ?? nil) } == ["R-1"], "\(paid.json?.printed ?? "")")

            // Contact records: newest first, with comments oldest first; a time range by the ids' time.
            let records = try await Self.call(client, .get, "/v1/office/contact-records?customer=\(customer)", token: world.dispatcher)
            let listed = rows(records, "contact_records")
            #expect(listed.compactMap { text($0["notes"] ?? nil) } == ["note 2", "note 1", "note 0"])
            if case .array(let comments)? = listed.first?["comments"] {
                #expect(comments.compactMap { comment in if case .object(let members) = comment { text(members.first { $0.key == "body" }?.value) } else { nil } }
                        == ["comment 0", "comment 1"])
            } else {
                Issue.record("no comments: \(records.json?.printed ?? "")")
            }
            let window = try await Self.call(client, .get, "/v1/office/contact-records?customer=\(customer)&from=2026-12-01T04:00:00Z&to=2026-12-02T04:00:00Z",
                                             token: world.dispatcher)
            #expect(rows(window, "contact_records").compactMap { text($0["notes"] ?? nil) } == ["note 1"], "\(window.json?.printed ?? "")")
            #expect(try await ids(client, "/v1/office/contact-records?customer=\(customer)", "contact_records", token: world.manager).count == 2)
            #expect(try await ids(client, "/v1/office/contact-records?customer=\(customer)", "contact_records", token: world.dispatcher).count == 3)
            // Shelf counts: latest first, with the store and product; the manager sees the team's.
            let counts = try await Self.call(client, .get, "/v1/office/shelf-counts?product=\(product)", token: world.dispatcher)
            #expect(Self.rows(counts, "shelf_counts").compactMap { text($0["id"] ?? nil) } == [1, 0].map { RecordID(high: 0xE3, low: $0).uuidString })
            #expect(Self.rows(counts, "shelf_counts").first?["quantity"] == .integer(8))
            #expect(try await ids(client, "/v1/office/shelf-counts?product=\(product)", "shelf_counts", token: world.manager)
                    == [RecordID(high: 0xE3, low: 0).uuidString])
            for path in ["visits", "payments", "contact-records", "shelf-counts"] {
                #expect(try await Self.call(client, .get, "/v1/office/\(path)", token: world.rep).status == .forbidden)
                #expect(try await Self.call(client, .get, "/v1/office/\(path)?after=nonsense", token: world.dispatcher).status == .badRequest)
            }
        }
    }

    @Test("a manager's review queue holds their team's items even behind more than a page of other teams' items")
    func managersQueueBehindOthers() async throws {
        let world = try await OfficeWorld.make("office-review-scope")
        let outsider = RecordID(high: 0xAB, low: 1)
        // 250 open exceptions by someone outside the manager's team, then one by the manager's rep.
        _ = try await world.pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, server_time, review)
            SELECT $1, 'visits', gen_random_uuid(), 'outside_geofence', 'applied_with_exception', 'far', $2, 'rep', 1, 'open' FROM generate_series(1, 250)
            """, [world.tenant.uuidString, outsider.uuidString])
        _ = try await world.pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, server_time, review)
            VALUES ($1, 'visits', gen_random_uuid(), 'outside_geofence', 'applied_with_exception', 'mine', $2, 'rep', 1, 'open')
            """, [world.tenant.uuidString, world.user("rep").uuidString])
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain())
        let manager = SyncStore.OfficeUser(user: world.user("manager"), role: .manager, tenant: world.tenant)
        let items = try await store.reviews(limit: SyncStore.listPageMax, by: manager).items
        #expect(items.map(\.message) == ["mine"], "the manager sees their rep's exception and none of the others")
    }

    @Test("reports are computed in PostgreSQL over a period, limited to a manager's team, as JSON or CSV (quoted, formulas defused); bad periods and groupings answer 400")
    func reports() async throws {
        let world = try await OfficeWorld.make("office-reports")
        let (pool, tenant) = (world.pool, world.tenant)
        let rep = world.user("rep"), technician = world.user("technician"), outsider = RecordID(high: 0xAB, low: 1)
        let product = try #require(world.data["products"]).rows[0][0]!, other = try #require(world.data["products"]).rows[1][0]!
        // January 2030: nothing of the demo's, only these.
        let hour: Int64 = 3_600_000, jan = Int64(1_893_456_000_000)  // 2030-01-01T00:00:00Z
        let customer = RecordID(high: 0xF0, low: 1)
        _ = try await pool.query("INSERT INTO customers (tenant_id, id, name, territory_id, status) VALUES ($1, $2, '=HYPERLINK(\"x\"), \"Ltd\"', $3, 'active')",
                                 [tenant.uuidString, customer.uuidString, RecordID(high: 0xF0, low: 2).uuidString])
        func insert(_ sql: String, _ values: [any PostgresBindable]) async throws { _ = try await pool.query(sql, [tenant.uuidString] + values) }
        let visits: [(status: String, late: Bool, assignee: RecordID)] = [("completed", false, rep), ("completed", true, rep), ("missed", false, rep), ("cancelled", false, rep),
                                                                          ("completed", false, outsider)]
        for (n, visit) in visits.enumerated() {
            let start = jan + Int64(n) * 24 * hour
            try await insert("""
                INSERT INTO visits (tenant_id, id, customer_id, assignee_id, status, visit_type, planned_start, planned_end, actual_start)
                VALUES ($1, $2, $3, $4, $5, 'routine', $6, $7, $8)
                """, [RecordID(high: 0xF1, low: UInt64(n)).uuidString, customer.uuidString, visit.assignee.uuidString, visit.status, start, start + hour,
                      visit.status == "completed" ? start + (visit.late ? 20 * 60_000 : 0) : nil as Int64?])
        }
        try await insert("""
            INSERT INTO geo_events (tenant_id, id, visit_id, user_id, kind, device_time, verification) VALUES ($1, $2, $3, $4, 'check_in', $5, 'outside_radius')
            """, [RecordID(high: 0xF2, low: 1).uuidString, RecordID(high: 0xF1, low: 1).uuidString, rep.uuidString, jan + 24 * hour])
        // Orders: two sold by the rep (one with lines), a draft, one sold by the outsider; a payment.
        let orders: [(status: String, by: RecordID, total: Int64)] = [("confirmed", rep, 10_887), ("invoiced", rep, 5_000), ("draft", rep, 999), ("confirmed", outsider, 700)]
        for (n, order) in orders.enumerated() {
            try await insert("""
                INSERT INTO sales_orders (tenant_id, id, customer_id, created_by, status, order_date, subtotal_minor, tax_minor, total_minor, currency)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'USD')
                """, [RecordID(high: 0xF3, low: UInt64(n)).uuidString, customer.uuidString, order.by.uuidString, order.status, jan + Int64(n) * hour,
                      order.total * 100 / 110, order.total - order.total * 100 / 110, order.total])
        }
        for (n, line) in [(product, Int64(3), Int64(6_000)), (other, Int64(1), Int64(3_897))].enumerated() {
            try await insert("""
                INSERT INTO order_lines (tenant_id, id, order_id, product_id, quantity, line_total_minor, tax_rate_percent) VALUES ($1, $2, $3, $4, $5, $6, 10000)
                """, [RecordID(high: 0xF4, low: UInt64(n)).uuidString, RecordID(high: 0xF3, low: 0).uuidString, line.0, line.1, line.2])
        }
        try await insert("INSERT INTO payments (tenant_id, id, order_id, amount_minor, method, receipt_number, collected_by, collected_at) VALUES ($1, $2, $3, 4000, 'cash', 'R1', $4, $5)",
                         [RecordID(high: 0xF5, low: 1).uuidString, RecordID(high: 0xF3, low: 0).uuidString, rep.uuidString, jan + 5 * hour])
        // Shelf counts at the customer: the product ran out and came back; the other ran out last.
        for (n, count) in [(product, Int64(0)), (other, Int64(3)), (product, Int64(5)), (other, Int64(0))].enumerated() {
            try await insert("INSERT INTO shelf_stock_counts (tenant_id, id, visit_id, product_id, quantity, counted_at) VALUES ($1, $2, $3, $4, $5, $6)",
                             [RecordID(high: 0xF6, low: UInt64(n)).uuidString, RecordID(high: 0xF1, low: 0).uuidString, count.0, count.1, jan + Int64(n) * hour])
        }
        // Work orders of the technician: a first-time fix of 90 minutes, one after a failed visit to the same asset, one overdue.
        let asset = RecordID(high: 0xF7, low: 9)
        let workOrders: [(status: String, start: Int64, end: Int64?, windowEnd: Int64)] = [
            ("completed", jan + 2 * hour, jan + 2 * hour + 90 * 60_000, jan + 3 * hour), ("cannot_complete", jan + 30 * hour, jan + 31 * hour, jan + 32 * hour),
            ("completed", jan + 50 * hour, jan + 50 * hour + 30 * 60_000, jan + 51 * hour), ("scheduled", 0, nil, jan + 60 * hour),
        ]
        for (n, order) in workOrders.enumerated() {
            try await insert("""
                INSERT INTO work_orders (tenant_id, id, customer_id, asset_id, assignee_id, status, work_type, priority, actual_start, actual_end, window_end)
                VALUES ($1, $2, $3, $4, $5, $6, 'repair', 'high', $7, $8, $9)
                """, [RecordID(high: 0xF7, low: UInt64(n)).uuidString, customer.uuidString, n == 0 ? nil as String? : asset.uuidString, technician.uuidString,
                      order.status, order.end == nil ? nil as Int64? : order.start, order.end, order.windowEnd])
        }
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: world.tokens, wallClock: ManualWallClock(UInt64(jan + 31 * 24 * hour)),
                                                                 requestsPerSecond: 10_000))
        let period = "from=2030-01-01T00:00:00Z&to=2030-02-01T00:00:00Z"
        try await app.test(.router) { client in
            func rows(_ path: String, token: String? = nil) async throws -> [[String: JSONValue]] {
                let answer = try await Self.call(client, .get, "/v1/office/reports/\(path)", token: token ?? world.dispatcher)
                #expect(answer.status == .ok, "\(path): \(answer.json?.printed ?? "")")
                return Self.rows(answer, "rows")
            }
            let compliance = try await rows("visit-compliance?\(period)")
            let mine = try #require(compliance.first { $0["rep"] == .string(rep.uuidString) })
            #expect(mine["planned"] == .integer(4) && mine["completed"] == .integer(2) && mine["missed"] == .integer(1) && mine["cancelled"] == .integer(1))
            #expect(mine["late"] == .integer(1) && mine["outside_geofence"] == .integer(1))
            #expect(compliance.count == 2)
            #expect(try await rows("visit-compliance?\(period)", token: world.manager).count == 1, "the manager's team only")

            let byRep = try await rows("sales?\(period)&by=rep")
            #expect(byRep.first { $0["rep"] == .string(rep.uuidString) }?["total_minor"] == .integer(15_887), "confirmed and invoiced, not the draft")
            #expect(byRep.first { $0["rep"] == .string(rep.uuidString) }?["orders"] == .integer(2))
            let byProduct = try await rows("sales?\(period)&by=product")
            #expect(byProduct.first { $0["product"] == .string(product) }?["quantity"] == .integer(3))
            #expect(byProduct.first { $0["product"] == .string(product) }?["tax_minor"] == .integer(600))
            #expect(try await rows("sales?\(period)&by=day").count == 1)
            #expect(try await rows("sales?\(period)&by=customer").first?["total_minor"] == .integer(16_587))

            let collections = try await rows("collections?\(period)", token: world.manager)
            #expect(collections.first?["ordered_minor"] == .integer(15_887) && collections.first?["collected_minor"] == .integer(4_000)
                    && collections.first?["open_minor"] == .integer(11_887))

            let empty = try await rows("out-of-stock?\(period)")
            #expect(empty.map { $0["product"] } == [.string(other)], "only the product whose latest count was 0")

            let service = try await rows("service?\(period)")
            let tech = try #require(service.first { $0["technician"] == .string(technician.uuidString) })
            #expect(tech["completed"] == .integer(2) && tech["first_time_fixes"] == .integer(1) && tech["mean_minutes_on_site"] == .integer(60))
            // Overdue counts every open work order past its window now, the demo's too.
            let overdue = try await pool.query("""
                SELECT count(*) FROM work_orders WHERE tenant_id = $1 AND assignee_id = $2 AND window_end < $3
                  AND status IN ('new', 'scheduled', 'on_hold', 'dispatched', 'en_route', 'on_site')
                """, [tenant.uuidString, technician.uuidString, jan + 31 * 24 * hour])[0].read(0, as: Int64.self)
            #expect(tech["overdue"] == .integer(overdue) && overdue >= 1)

            // CSV: a header, quoted fields, a formula defused.
            let csv = try await Self.call(client, .get, "/v1/office/reports/sales?\(period)&by=customer&format=csv", token: world.dispatcher)
            let text = String(decoding: csv.bytes, as: UTF8.self)
            #expect(csv.status == .ok)
            #expect(text.hasPrefix("customer,name,orders,subtotal_minor,tax_minor,total_minor\r\n"))
            #expect(text.contains(",\"'=HYPERLINK(\"\"x\"\"), \"\"Ltd\"\"\",3,"), "\(text)")

            for bad in ["sales?from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z", "sales?by=region", "sales?format=xml",
                        "sales?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"] {
                #expect(try await Self.call(client, .get, "/v1/office/reports/\(bad)", token: world.dispatcher).status == .badRequest, "\(bad)")
            }
            #expect(try await Self.call(client, .get, "/v1/office/reports/weather", token: world.dispatcher).status == .notFound)
            #expect(try await Self.call(client, .get, "/v1/office/reports/sales", token: world.rep).status == .forbidden)
        }
    }

    /// Every office list, for every role: the field's roles are refused, the office's answered.
    /// `{rep}` stands for the manager's first rep, `{customer}` for a customer of that rep's territory.
    static let listRoutes = ["orders", "work-orders", "visits", "customers", "payments", "shelf-counts", "contact-records", "devices", "reviews", "team",
                             "reports/visit-compliance", "reports/sales", "reports/collections", "reports/out-of-stock", "reports/service",
                             "board?day=2026-12-01&days=7", "map?day=2026-12-01", "people/{rep}/activity", "customers/{customer}"]

    @Test("the authorization matrix of the office's reads: reps and technicians get 403 on every list, dispatchers, managers and admins 200", arguments: listRoutes)
    func listMatrix(route: String) async throws {
        let world = try await OfficeWorld.make("office-matrix")
        let admin = RecordID(high: 0xAD, low: 1)
        _ = try await world.pool.query("INSERT INTO users (tenant_id, id, role, name, email) VALUES ($1, $2, 'admin', 'Ada Admin', 'ada@example.com')",
                                       [world.tenant.uuidString, admin.uuidString])
        let tokens: [(Role, String)] = [
            (.rep, world.rep), (.dispatcher, world.dispatcher), (.manager, world.manager),
            (.technician, try await world.tokens.issue(user: world.user("technician"), tenant: world.tenant, role: .technician)),
            (.admin, try await world.tokens.issue(user: admin, tenant: world.tenant, role: .admin)),
        ]
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_796_050_800_000),
                                                                 requestsPerSecond: 10_000))
        let customer = try await world.pool.query("""
            SELECT c.id::text FROM customers c JOIN territory_owners o ON o.tenant_id = c.tenant_id AND o.territory_id = c.territory_id
            WHERE c.tenant_id = $1 AND o.user_id = $2::uuid ORDER BY c.id LIMIT 1
            """, [world.tenant.uuidString, world.user("rep").uuidString])[0].read(0, as: String.self)
        let path = "/v1/office/" + route.replacingOccurrences(of: "{rep}", with: world.user("rep").uuidString).replacingOccurrences(of: "{customer}", with: customer)
        try await app.test(.router) { client in
            for (role, token) in tokens {
                let answer = try await Self.call(client, .get, path, token: token)
                let expected: HTTPResponse.Status = [.rep, .technician].contains(role) ? .forbidden : .ok
                #expect(answer.status == expected, "\(role.name) on \(route): \(answer.status) \(answer.json?.printed.prefix(300) ?? "")")
            }
        }
    }

    @Test("a dispatcher plans through JSON; the board shows it; strict bodies, roles and states answer with their codes")
    func officeSurface() async throws {
        let (pool, data, tenant) = try await Self.demoDatabase("office-routes")
        let users = try #require(data["users"]).rows
        @Sendable func user(_ role: String) -> RecordID { RecordID(users.first { $0[2] == role }![0]!)! }
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let dispatcher = try await tokens.issue(user: user("dispatcher"), tenant: tenant, role: .dispatcher)
        let manager = try await tokens.issue(user: user("manager"), tenant: tenant, role: .manager)
        let rep = try await tokens.issue(user: user("rep"), tenant: tenant, role: .rep)
        let customer = try #require(data["customers"]).rows[0][0]!
        let clock = ManualWallClock(1_796_050_800_000)  // Monday 2026-11-30 09:00 in New York
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock))
        try await app.test(.router) { client in
            let plan = try await Self.call(client, .post, "/v1/office/visit-plans", """
                {"rep_id": "\(user("rep").uuidString)", "name": "Extra week", "period_start": "2026-11-30T00:00:00Z", "period_end": "2026-12-05T00:00:00Z"}
                """, token: dispatcher)
            #expect(plan.status == .ok)
            guard case .string(let planID)? = plan.member("id") else { Issue.record("no plan id: \(plan.json?.printed ?? "")"); return }
            let visit = try await Self.call(client, .post, "/v1/office/visits", """
                {"plan_id": "\(planID)", "customer_id": "\(customer)", "assignee_id": "\(user("rep").uuidString)", "visit_type": "audit",
                 "planned_start": "2026-11-30T13:00:00Z", "planned_end": "2026-11-30T13:30:00Z", "tasks": [{"task_type": "photo", "required": true}]}
                """, token: dispatcher)
            #expect(visit.status == .ok)
            guard case .string(let visitID)? = visit.member("id") else { Issue.record("no visit id: \(visit.json?.printed ?? "")"); return }
            let board = try await Self.call(client, .get, "/v1/office/board?day=2026-11-30&user=\(user("rep").uuidString)", token: dispatcher)
            #expect(board.status == .ok)
            #expect(board.json?.printed.contains(visitID) == true)
            #expect(board.json?.printed.contains("late_minutes") == true)

            // Strict bodies.
            let unknown = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/assign", #"{"assignee_id": "\#(user("rep").uuidString)", "urgent": true}"#, token: dispatcher)
            #expect(unknown.status == .badRequest)
            #expect(unknown.member("error") == .string("invalid"))
            #expect(unknown.member("message").map { $0.printed.contains("urgent") } == true)
            let badTime = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/reschedule", #"{"planned_start": "Monday 9am", "planned_end": 1}"#, token: dispatcher)
            #expect(badTime.status == .badRequest)
            let malformed = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", "{", token: dispatcher)
            #expect(malformed.status == .badRequest)
            // Roles.
            #expect(try await Self.call(client, .get, "/v1/office/reviews", token: rep).status == .forbidden)
            #expect(try await Self.call(client, .get, "/v1/office/reviews", token: nil).status == .unauthorized)
            let managerAssigns = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/assign", #"{"assignee_id": "\#(user("rep").uuidString)"}"#, token: manager)
            #expect(managerAssigns.status == .conflict)
            #expect(managerAssigns.member("error") == .string("rejected"))
            // States.
            #expect(try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", token: dispatcher).status == .ok)
            let again = try await Self.call(client, .post, "/v1/office/visits/\(visitID)/cancel", token: dispatcher)
            #expect(again.status == .conflict)
            #expect(again.member("error") == .string("invalid_state"))
            #expect(try await Self.call(client, .post, "/v1/office/visits/0190f000-0000-7000-8000-000000000099/cancel", token: dispatcher).status == .notFound)
            #expect(try await Self.call(client, .get, "/v1/office/team", token: manager).status == .ok)

            // Blobs: the name must be the bytes' SHA-256.
            let bytes = Array("signature strokes".utf8)
            let digest = try await pool.query("SELECT encode(sha256($1::bytea), 'hex')", [bytes])[0].read(0, as: String.self)
            let wrong = try await Self.call(client, .put, "/v1/blobs/\(String(repeating: "0", count: 64))", token: rep, contentType: "image/png", bytes: bytes)
            #expect(wrong.status == .badRequest)
            #expect(try await Self.call(client, .put, "/v1/blobs/\(digest)", token: rep, contentType: "image/png", bytes: bytes).status == .ok)
            let fetched = try await Self.call(client, .get, "/v1/blobs/\(digest)", token: dispatcher)
            #expect(fetched.status == .ok)
            #expect(fetched.bytes == bytes)
        }
    }
}
