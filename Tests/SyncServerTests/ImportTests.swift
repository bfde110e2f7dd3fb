import DemoData
import DeviceStore
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

/// Master data in (issue 20, item 1): files read exactly (CSV with its quoting, JSON Lines), and
/// imports against a real PostgreSQL — upserts by the ERP's key through the merge path, so a
/// rep's phone sees an imported customer on its next sync; the same file twice changes nothing;
/// two loads at once create each record once; a file with problems is refused whole, every
/// problem by line and column; the office route answers the same.
@Suite("Imports")
struct ImportTests {
    typealias W = StoryWorld

    @Test("CSV: header, quotes around commas, quotes and line breaks, CRLF, a byte-order mark, blank lines; JSON Lines: strings, numbers, booleans, null")
    func files() throws {
        let csv = "\u{FEFF}erp_reference,name,city\r\nC-1,\"Bar \"\"Luna\"\", Centro\",Madrid\r\n\r\nC-2,\"Two\nlines\",\nC-3,,Sevilla"
        let parsed = try ImportFile(Array(csv.utf8), format: .csv)
        #expect(parsed.columns == ["erp_reference", "name", "city"])
        #expect(parsed.rows.map(\.line) == [2, 4, 6])
        #expect(parsed.rows[0].cells == ["erp_reference": "C-1", "name": "Bar \"Luna\", Centro", "city": "Madrid"])
        #expect(parsed.rows[1].cells == ["erp_reference": "C-2", "name": "Two\nlines"])
        #expect(parsed.rows[2].cells == ["erp_reference": "C-3", "city": "Sevilla"])
        let lines = #"{"erp_reference": "P-1", "tax_rate_percent": 8.875, "active": false, "category": null}"# + "\n\n" + #"{"erp_reference": "P-2"}"#
        let json = try ImportFile(Array(lines.utf8), format: .jsonl)
        #expect(json.columns == ["erp_reference", "tax_rate_percent", "active", "category"])
        #expect(json.rows.map(\.line) == [1, 3] && json.rows[0].cells == ["erp_reference": "P-1", "tax_rate_percent": "8.875", "active": "false"])
        // What cannot be read is reported at its line.
        func problems(_ text: String, _ format: ImportFile.Format) -> [String] {
            do {
                _ = try ImportFile(Array(text.utf8), format: format)
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problems("a,b\n1,2\n\"open,3", .csv) == ["line 3: a quoted field is not closed"])
        #expect(problems("a,b\n1,2,3", .csv) == ["line 2: 3 fields, but the header names 2 columns"])
        #expect(problems("a,a\n1,2", .csv) == ["line 1, column a: the column is named twice"])
        #expect(problems("", .csv) == ["line 1: the file is empty: a CSV file starts with its header row"])
        #expect(problems("{\"a\": 1}\n[1]\n{\"b\": {\"c\": 1}}", .jsonl) == ["line 2: not a JSON object", "line 3, column b: a cell is a string, a number, a boolean or null"])
        #expect(throws: ImportProblems.self) { _ = try ImportFile([0x61, 0x0A, 0xFF], format: .csv) }
        // Decimals are exact: no more places than the field's scale.
        #expect(ImportKind.decimal("8.875", scale: 3) == 8_875 && ImportKind.decimal("-3.5", scale: 6) == -3_500_000 && ImportKind.decimal("7", scale: 3) == 7_000)
        #expect(ImportKind.decimal("8.8755", scale: 3) == nil && ImportKind.decimal("8.", scale: 3) == nil && ImportKind.decimal("1e3", scale: 3) == nil)
    }

    @Test("products, price lists, customers, contacts and balances upsert by the ERP's key; a rep's phone gets the new customer; twice is a no-op; at once, one record each")
    func masterData() async throws {
        try await W.run("imports") { world in
            let manager = try world.office(.manager)
            let rep = try world.users(.rep)[0]
            let territory = try await world.pool.query("""
                SELECT t.name FROM territory_owners o JOIN territories t ON t.tenant_id = o.tenant_id AND t.id = o.territory_id
                WHERE o.tenant_id = $1 AND o.user_id = $2::uuid AND NOT o._deleted ORDER BY t.name LIMIT 1
                """, [world.tenant.uuidString, rep.uuidString])[0].read(0, as: String.self)
            func load(_ kind: ImportKind, _ text: String, _ format: ImportFile.Format = .csv) async throws -> SyncStore.ImportReport {
                try await world.store.importMasterData(kind, try ImportFile(Array(text.utf8), format: format), by: manager)
            }
            let products = "erp_reference,sku,name,category,unit,tax_rate_percent\nERP-P1,SKU-1,Cola 33cl,drinks,can,8.875\nERP-P2,SKU-2,Water 1l,drinks,bottle,0\n"
            // Two loads at once: each product is created once.
            async let first = load(.products, products)
            async let second = load(.products, products)
            let reports = try await [first, second]
            #expect(reports.map(\.rows) == [2, 2], "\(reports)")
            let count = try await world.pool.query("SELECT count(*) FROM products WHERE tenant_id = $1 AND erp_reference LIKE 'ERP-P%'", [world.tenant.uuidString])[0]
            #expect(try count.read(0, as: Int64.self) == 2)
            #expect(try await load(.products, products) == SyncStore.ImportReport(rows: 2, unchanged: 2))
            #expect(try await load(.products, products.replacingOccurrences(of: "Water 1l", with: "Water 1.5l")) == SyncStore.ImportReport(rows: 2, updated: 1, unchanged: 1))
            let prices = "price_list,name,currency,customer_group,product,unit_price_minor\nPL-ES,Spain 2027,EUR,horeca,ERP-P1,95\nPL-ES,Spain 2027,EUR,horeca,ERP-P2,60\n"
            #expect(try await load(.priceLists, prices) == SyncStore.ImportReport(rows: 2, created: 3))
            #expect(try await load(.priceLists, prices.replacingOccurrences(of: ",60", with: ",65")) == SyncStore.ImportReport(rows: 2, updated: 1, unchanged: 2))
            let customers = """
                {"erp_reference": "ERP-C1", "name": "Bar Luna", "territory": "\(territory)", "city": "Madrid", "latitude": 40.4168, "longitude": -3.7038, "price_list": "PL-ES", "credit_limit_minor": 500000}
                {"erp_reference": "ERP-C2", "name": "Café Sol", "territory": "\(territory)", "status": "blocked"}
                """
            #expect(try await load(.customers, customers, .jsonl) == SyncStore.ImportReport(rows: 2, created: 2))
            #expect(try await load(.contacts, "erp_reference,customer,name,phone\nERP-K1,ERP-C1,Ana Ruiz,+34 600 000 001\n") == SyncStore.ImportReport(rows: 1, created: 1))
            #expect(try await load(.balances, "customer,outstanding_minor\nERP-C1,12500\n") == SyncStore.ImportReport(rows: 1, updated: 1))
            // A partial file for a known customer leaves out what only a new one needs; a new one may not.
            #expect(try await load(.customers, "erp_reference,phone\nERP-C2,+34 600 000 002\n") == SyncStore.ImportReport(rows: 1, updated: 1))
            await #expect(throws: ImportProblems.self) { _ = try await load(.customers, "erp_reference,phone\nERP-C3,+34 600 000 003\n") }
            let luna = SyncStore.importedID(tenant: world.tenant, table: "customers", key: "ERP-C1")
            let stored = try await world.server("customers", luna)
            #expect(stored.text("name") == "Bar Luna" && stored.integer("latitude_e6") == 40_416_800 && stored.integer("outstanding_minor") == 12_500)
            #expect(stored.text("normalized_name") == "bar luna" && stored.text("status") == "active" && stored.text("erp_reference") == "ERP-C1")
            // The rep's phone sees the imported customers of its territory, with the contact, on its next sync.
            let phone = try await world.phone(rep, role: .rep)
            _ = try await phone.sync()
            let seen = try await phone.store.customers(search: "Luna")
            #expect(seen.map(\.id) == [luna], "\(seen)")
            let detail = try #require(try await phone.store.read(.customer(luna)))
            #expect(detail.contacts.map(\.name) == ["Ana Ruiz"])
            // The same customers again: nothing written, nothing in the feed.
            let feed = try await world.pool.query("SELECT count(*) FROM change_log WHERE tenant_id = $1", [world.tenant.uuidString])[0].read(0, as: Int64.self)
            #expect(try await load(.customers, customers, .jsonl) == SyncStore.ImportReport(rows: 2, unchanged: 2))
            #expect(try await world.pool.query("SELECT count(*) FROM change_log WHERE tenant_id = $1", [world.tenant.uuidString])[0].read(0, as: Int64.self) == feed)
        }
    }

    @Test("stock counts set a location's levels: the server adds the difference to the counter, with a ledger line; twice is a no-op; the van's phone sees the count; unknown locations and negative counts are refused")
    func stock() async throws {
        try await W.run("imports-stock") { world in
            let manager = try world.office(.manager)
            let technician = try world.users(.technician)[0]
            // The technician's van (the demo has no stock locations).
            let location = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0011), vanName = "Van 7, north"
            let seeded = Version(clock: HLC(milliseconds: UInt64(W.monday)), replica: .server)
            try await world.store.seed([("stock_locations", location, RecordState(fields: [
                "kind": FieldState(value: .text("van"), version: seeded), "name": FieldState(value: .text(vanName), version: seeded),
                "owner_id": FieldState(value: .id(technician), version: seeded)]))], tenant: world.tenant)
            func load(_ kind: ImportKind, _ text: String) async throws -> SyncStore.ImportReport {
                try await world.store.importMasterData(kind, try ImportFile(Array(text.utf8), format: .csv), by: manager)
            }
            _ = try await load(.products, "erp_reference,sku,name\nERP-S1,SKU-S1,Filter\nERP-S2,SKU-S2,Belt\n")
            let counts = "location,product,quantity\n\"\(vanName)\",ERP-S1,40\n\(location.uuidString),ERP-S2,7\n"
            #expect(try await load(.stock, counts) == SyncStore.ImportReport(rows: 2, created: 2))
            #expect(try await load(.stock, counts) == SyncStore.ImportReport(rows: 2, unchanged: 2))
            let filter = SyncStore.importedID(tenant: world.tenant, table: "products", key: "ERP-S1")
            let level = SyncStore.importedID(tenant: world.tenant, table: "stock_levels", key: "\(location.uuidString)|\(filter.uuidString)")
            func quantity() async throws -> Int64? {
                guard case .counter(let counter)? = try await world.server("stock_levels", level).fields["quantity"]?.value else { return nil }
                return counter.sum
            }
            #expect(try await quantity() == 40)
            // The technician uses two filters offline; the ERP's recount says 25: the level is 25 less
            // what the phone used after the count was taken, once both are in.
            let phone = try await world.phone(technician, role: .technician)
            _ = try await phone.sync()
            let orders = try #require(world.data["work_orders"])
            let workOrder = RecordID(try #require(orders.rows.first { $0[orders.columns.firstIndex(of: "assignee_id")!] == technician.uuidString })[0]!)!
            _ = try await phone.store.recordPartUsed(workOrder: workOrder, product: filter, quantity: 2, from: location, at: W.at(9))
            #expect(try await load(.stock, "location,product,quantity\n\"\(vanName)\",ERP-S1,25\n") == SyncStore.ImportReport(rows: 1, updated: 1))
            _ = try await phone.sync()
            _ = try await phone.sync()
            #expect(try await quantity() == 23)
            guard case .counter(let onPhone)? = try await phone.store.record("stock_levels", level)?.fields["quantity"]?.value else {
                Issue.record("the van's phone has no level")
                return
            }
            #expect(onPhone.sum == 23)
            let ledger = try await world.pool.query("""
                SELECT delta FROM stock_ledger WHERE tenant_id = $1 AND product_id = $2::uuid AND reason = 'erp_count' ORDER BY delta DESC
                """, [world.tenant.uuidString, filter.uuidString]).map { try $0.read(0, as: Int64.self) }
            #expect(ledger == [40, -15])
            for (file, problem) in [("location,product,quantity\n\"\(vanName)\",ERP-S2,-1\n", "line 2, column quantity: “-1” is not a count from 0 to 1000000000"),
                                    ("location,product,quantity\nNo such van,ERP-S1,3\n", "line 2, column location: no stock location “No such van”")] {
                do {
                    _ = try await load(.stock, file)
                    Issue.record("a bad stock file was imported")
                } catch let error as ImportProblems {
                    #expect(error.problems.map(\.description) == [problem], "\(error)")
                }
            }
            #expect(try await quantity() == 23)
        }
    }

    @Test("a file with problems is refused whole, each problem at its line and column; only managers and admins import; the office route answers the same")
    func refusals() async throws {
        let world = try await OfficeRoutesTests.OfficeWorld.make("imports-refused")
        let manager = SyncStore.OfficeUser(user: world.user("manager"), role: .manager, tenant: world.tenant)
        let store = SyncStore(pool: world.pool, domain: FieldSalesDomain())
        let bad = """
            erp_reference,sku,name,tax_rate_percent,colour
            ERP-B1,SKU-B1,Good one,10
            ERP-B2,,No sku,10
            ERP-B3,SKU-B3,Bad tax,ten
            ERP-B4,SKU-B4,Too much tax,250
            ERP-B1,SKU-B5,Twice,10
            """
        do {
            _ = try await store.importMasterData(.products, try ImportFile(Array(bad.utf8), format: .csv), by: manager)
            Issue.record("a bad file was imported")
        } catch let error as ImportProblems {
            #expect(error.problems.map(\.description) == [
                "line 1, column colour: no such column for products; the columns are erp_reference, sku, name, category, unit, tax_rate_percent, active",
                "line 3, column sku: a value is required for a new record",
                "line 4, column tax_rate_percent: “ten” is not a number with at most 3 decimals",
                "line 5, column tax_rate_percent: products.tax_rate_percent runs from 0 to 100000",
                "line 6, column erp_reference: “ERP-B1” is already on line 2",
            ], "\(error)")
        }
        let count = try await world.pool.query("SELECT count(*) FROM products WHERE tenant_id = $1 AND erp_reference LIKE 'ERP-B%'", [world.tenant.uuidString])[0]
        #expect(try count.read(0, as: Int64.self) == 0)
        // A contact of a customer the ERP never sent; a balance of one FieldSync does not know.
        await #expect(throws: ImportProblems.self) {
            _ = try await store.importMasterData(.contacts, try ImportFile(Array("erp_reference,customer,name\nK-9,NOPE,Someone\n".utf8), format: .csv), by: manager)
        }
        await #expect(throws: ImportProblems.self) {
            _ = try await store.importMasterData(.balances, try ImportFile(Array("customer,outstanding_minor\nNOPE,5\n".utf8), format: .csv), by: manager)
        }
        let dispatcher = SyncStore.OfficeUser(user: world.user("dispatcher"), role: .dispatcher, tenant: world.tenant)
        await #expect(throws: SyncStore.OfficeError.self) {
            _ = try await store.importMasterData(.products, try ImportFile(Array("erp_reference,sku,name\nX,Y,Z\n".utf8), format: .csv), by: dispatcher)
        }
        let app = Application(router: FieldSyncServer.makeRouter(pool: world.pool, tokens: world.tokens, wallClock: ManualWallClock(1_803_859_200_000), requestsPerSecond: 10_000))
        try await app.test(.router) { client in
            let refused = try await OfficeRoutesTests.call(client, .post, "/v1/office/imports/products", bad, token: world.manager, contentType: "text/csv")
            #expect(refused.status == .badRequest)
            if case .array(let listed)? = refused.member("problems") {
                #expect(listed.count == 5 && listed[1]["line"]?.printed.hasPrefix("3") == true && listed[1]["column"] == .string("sku"), "\(listed)")
            } else {
                Issue.record("no problems listed: \(refused.json?.printed ?? "")")
            }
            let good = try await OfficeRoutesTests.call(client, .post, "/v1/office/imports/products?format=jsonl", #"{"erp_reference": "ERP-J1", "sku": "J1", "name": "Juice"}"#,
                                                        token: world.manager)
            #expect(good.status == .ok && good.member("created")?.printed.hasPrefix("1") == true, "\(good.json?.printed ?? "")")
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/imports/products", "erp_reference,sku,name\nX,Y,Z\n", token: world.dispatcher, contentType: "text/csv").status == .forbidden)
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/imports/planets", "a\n1\n", token: world.manager, contentType: "text/csv").status == .notFound)
        }
    }

    @Test("the operator's command: fieldsync-server import KIND FILE loads a file, again changes nothing, and a bad file exits 65 with its problems")
    func command() async throws {
        let url = try await TestPostgres.makeDatabase("imports-command")
        let pool = try PostgresPool(.init(connectionString: url))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = try #require(data.tenant)
        await pool.close()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ name: String, _ content: String) throws -> (status: Int32, output: String, error: String) {
            let file = directory.appendingPathComponent(name)
            try Data(content.utf8).write(to: file)
            return try ServerCommandTests.run(["import", "products", file.path, "--tenant", tenant.uuidString, "--database-url", url])
        }
        let products = #"{"erp_reference": "CLI-1", "sku": "C1", "name": "Lemonade"}"# + "\n" + #"{"erp_reference": "CLI-2", "sku": "C2", "name": "Tonic", "tax_rate_percent": 21}"#
        let first = try run("products.jsonl", products)
        #expect(first.status == 0 && first.output == "products: 2 rows; created 2, updated 0, unchanged 0\n", "\(first)")
        #expect(try run("products.jsonl", products).output == "products: 2 rows; created 0, updated 0, unchanged 2\n")
        let bad = try run("bad.csv", "erp_reference,sku,name\nCLI-3,C3,Cola\nCLI-4,,Soda\n")
        #expect(bad.status == 65 && bad.error.contains("line 3, column sku: a value is required"), "\(bad)")
        #expect(try run("products.txt", products).status == 64)
    }
}
