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

/// Tenants and people from an empty database (issue 21, item 1), against a real PostgreSQL: the
/// operator creates a tenant and loads its people from a CSV file (again changes nothing; a bad
/// file is refused whole, by line and column); tokens are honoured only for active users of the
/// tenant; an admin adds a user, hands a territory over and deactivates a rep, whose next request
/// is refused with `user_deactivated` and whose territories end; only admins do any of it.
@Suite("People and tenants")
struct PeopleTests {
    static let people = """
        email,name,role,manager,territories,phone
        ana.boss@example.com,Ana Boss,manager,,,
        rui.rep@example.com,Rui Rep,rep,ana.boss@example.com,North;South,+34 600 000 001
        eva.rep@example.com,Eva Rep,rep,ana.boss@example.com,East,
        dan.desk@example.com,Dan Desk,dispatcher,,,
        ida.admin@example.com,Ida Admin,admin,,,
        """

    @Test("a tenant and its people from an empty database: the CSV loaded once, a bad one refused whole; tokens honoured only for active users; deactivation refuses the next request")
    func fromEmpty() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("people")))
        try await Migrator.migrate(pool)
        let clock = ManualWallClock(1_803_859_200_000)
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
        await #expect(throws: SyncStore.OfficeError.self) { _ = try await store.createTenant(name: "Acme", timeZone: "Mars/Olympus", currency: "EUR") }
        let tenant = try await store.createTenant(name: "Acme Iberia", timeZone: "Europe/Madrid", currency: "EUR")
        let file = try ImportFile(Array(Self.people.utf8), format: .csv)
        #expect(try await store.importUsers(file, tenant: tenant, by: nil) == SyncStore.ImportReport(rows: 5, created: 5))
        #expect(try await store.importUsers(file, tenant: tenant, by: nil) == SyncStore.ImportReport(rows: 5, unchanged: 5))
        // A bad file: every problem, nothing written.
        do {
            _ = try await store.importUsers(try ImportFile(Array("""
                email,name,role,manager,colour
                new.one@example.com,New One,wizard,,
                other@example.com,Other,rep,nobody@example.com,
                rui.rep@example.com,Rui,rep,rui.rep@example.com,
                rui.rep@example.com,Rui,rep,,
                bad-address,Bad,rep,,
                """.utf8), format: .csv), tenant: tenant, by: nil)
            Issue.record("a bad file of people was loaded")
        } catch let error as ImportProblems {
            #expect(error.problems.map(\.description) == [
                "line 1, column colour: no such column for users; the columns are email, name, role, phone, manager, territories, active",
                "line 2, column role: the role is one of rep, technician, dispatcher, manager, admin",
                "line 3, column manager: no user “nobody@example.com”",
                "line 4, column manager: a user does not manage themselves",
                "line 5, column email: “rui.rep@example.com” is already on line 4",
                "line 6: “bad-address” is not an e-mail address",
            ], "\(error)")
        }
        let rui = SyncStore.userID(tenant: tenant, email: "rui.rep@example.com"), ana = SyncStore.userID(tenant: tenant, email: "ana.boss@example.com")
        let stored = try await store.record("users", rui, tenant: tenant)
        #expect(stored.id("manager_id") == ana && stored.text("role") == "rep" && stored.text("phone") == "+34 600 000 001")
        let owned = try await pool.query("""
            SELECT t.name FROM territory_owners o JOIN territories t ON t.tenant_id = o.tenant_id AND t.id = o.territory_id
            WHERE o.tenant_id = $1 AND o.user_id = $2::uuid AND o.valid_to IS NULL ORDER BY t.name
            """, [tenant.uuidString, rui.uuidString]).map { try $0.read(0, as: String.self) }
        #expect(owned == ["North", "South"])

        // Over HTTP: an imported rep registers; a token for a user the tenant never had does not.
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock, requestsPerSecond: 10_000))
        let admin = try await tokens.issue(user: SyncStore.userID(tenant: tenant, email: "ida.admin@example.com"), tenant: tenant, role: .admin)
        let manager = try await tokens.issue(user: ana, tenant: tenant, role: .manager)
        let repToken = try await tokens.issue(user: rui, tenant: tenant, role: .rep)
        let stranger = try await tokens.issue(user: RecordID.random(), tenant: tenant, role: .rep)
        try await app.test(.router) { client in
            func register(_ token: String, installation: RecordID = RecordID.random()) async throws -> SyncRoutesTests.Exchange {
                try await SyncRoutesTests.post(client, "/v1/register", .registerRequest(RegisterRequest(installation: installation, appVersion: "1.0.0", platform: "test",
                                                                                                       schemaRevision: 1)), token: token)
            }
            #expect(try await register(repToken).status == .ok)
            // An admin revokes one of Rui's phones (a manager may not): it registers no more.
            let phone = RecordID.random()
            guard case .registerResponse(let registered)? = try await register(repToken, installation: phone).message else { Issue.record("no registration"); return }
            let revoke = "/v1/office/devices/\(registered.replica.rawValue)/revoke"
            #expect(try await OfficeRoutesTests.call(client, .post, revoke, #"{"wipe": false}"#, token: manager).status == .forbidden)
            #expect(try await OfficeRoutesTests.call(client, .post, revoke, #"{"wipe": false}"#, token: admin).status == .ok)
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/devices/999999/revoke", "{}", token: admin).status == .notFound)
            let again = try await register(repToken, installation: phone)
            #expect(again.status == .forbidden && again.message == .error(ErrorResponse(code: "device_revoked", message: "an admin revoked this device: it stops syncing")), "\(again)")
            let refused = try await register(stranger)
            #expect(refused.status == .unauthorized, "\(refused)")
            // The admin adds a technician and hands East to Rui; a manager may not.
            let added = try await OfficeRoutesTests.call(client, .post, "/v1/office/admin/users",
                                                         #"{"name": "Tom Tech", "email": "tom.tech@example.com", "role": "technician", "manager_id": "\#(ana.uuidString)"}"#, token: admin)
            #expect(added.status == .ok && OfficeRoutesTests.text(added.member("id")) == SyncStore.userID(tenant: tenant, email: "tom.tech@example.com").uuidString,
                    "\(added.json?.printed ?? "")")
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/admin/users", #"{"name": "Tom", "email": "TOM.tech@example.com", "role": "technician"}"#,
                                                    token: admin).status == .conflict)
            #expect(try await OfficeRoutesTests.call(client, .post, "/v1/office/admin/users", #"{"name": "X", "email": "x@example.com", "role": "rep"}"#,
                                                    token: manager).status == .forbidden)
            let east = try #require(try await pool.query("SELECT id::text FROM territories WHERE tenant_id = $1 AND name = 'East'", [tenant.uuidString]).first
                .flatMap { RecordID(try $0.read(0, as: String.self)) })
            let moved = try await OfficeRoutesTests.call(client, .post, "/v1/office/admin/territories/\(east.uuidString)/move", #"{"user_id": "\#(rui.uuidString)"}"#, token: admin)
            #expect(moved.status == .ok, "\(moved.json?.printed ?? "")")
            let eastOwners = try await pool.query("SELECT user_id::text FROM territory_owners WHERE tenant_id = $1 AND territory_id = $2::uuid AND valid_to IS NULL",
                                                  [tenant.uuidString, east.uuidString]).map { try $0.read(0, as: String.self) }
            #expect(eastOwners == [rui.uuidString])
            // Rui leaves: the next request is refused at once on this instance, with the code that stops the app.
            let deactivated = try await OfficeRoutesTests.call(client, .post, "/v1/office/admin/users/\(rui.uuidString)/deactivate", "{}", token: admin)
            #expect(deactivated.status == .ok, "\(deactivated.json?.printed ?? "")")
            let after = try await register(repToken)
            #expect(after.status == .forbidden && after.message == .error(ErrorResponse(code: "user_deactivated", message: "the user was deactivated: this app stops syncing")),
                    "\(after)")
            let open = try await pool.query("SELECT count(*) FROM territory_owners WHERE tenant_id = $1 AND user_id = $2::uuid AND valid_to IS NULL",
                                            [tenant.uuidString, rui.uuidString])[0].read(0, as: Int64.self)
            #expect(open == 0)
            // The people file again: Rui stays deactivated and owns nothing (the file says nothing of
            // it); Eva gets East back beside Rui, as the file says.
            #expect(try await store.importUsers(file, tenant: tenant, by: nil) == SyncStore.ImportReport(rows: 5, updated: 1, unchanged: 4))
            #expect(try await store.record("users", rui, tenant: tenant).bool("active") == false)
        }
        await pool.close()
    }

    @Test("the operator's commands: fieldsync-server admin tenant-create, users-import, user-add, territory-move, user-deactivate; refusals exit 65")
    func commands() async throws {
        let url = try await TestPostgres.makeDatabase("people-command")
        let pool = try PostgresPool(.init(connectionString: url))
        try await Migrator.migrate(pool)
        await pool.close()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-people-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
            try ServerCommandTests.run(["admin"] + arguments + ["--database-url", url])
        }
        let created = try run(["tenant-create", "--name", "Acme", "--time-zone", "America/New_York", "--currency", "USD"])
        #expect(created.status == 0 && created.output.hasPrefix("created tenant "), "\(created)")
        let tenant = String(created.output.dropFirst("created tenant ".count).prefix(36))
        let file = directory.appendingPathComponent("people.csv")
        try Data(Self.people.utf8).write(to: file)
        let imported = try run(["users-import", file.path, "--tenant", tenant])
        #expect(imported.status == 0 && imported.output == "users: 5 rows; created 5, updated 0, unchanged 0\n", "\(imported)")
        let territory = try run(["territory-create", "--name", "West", "--tenant", tenant])
        #expect(territory.status == 0, "\(territory)")
        let added = try run(["user-add", "--name", "Zoe Rep", "--email", "zoe@example.com", "--role", "rep", "--tenant", tenant,
                             "--territory", String(territory.output.dropFirst("created territory ".count).prefix(36))])
        #expect(added.status == 0 && added.output.hasPrefix("added user "), "\(added)")
        let zoe = String(added.output.dropFirst("added user ".count).prefix(36))
        #expect(try run(["user-add", "--name", "Zoe", "--email", "zoe@example.com", "--role", "rep", "--tenant", tenant]).status == 65)
        #expect(try run(["user-add", "--name", "Zoe", "--email", "z@example.com", "--role", "wizard", "--tenant", tenant]).status == 64)
        #expect(try run(["user-deactivate", zoe, "--tenant", tenant]).output == "deactivated user \(zoe)\n")
        #expect(try run(["users-import", file.path, "--tenant", RecordID.random().uuidString]).status == 65, "no such tenant")
        #expect(try run(["app-version", "--platform", "ios", "--minimum", "2.3.0", "--tenant", tenant]).output == "ios: apps older than 2.3.0 are told to update\n")
        #expect(try run(["app-version", "--platform", "ios", "--minimum", "two", "--tenant", tenant]).status == 64)
        #expect(try run(["device-revoke", "4242", "--tenant", tenant]).status == 65, "no such device")
    }
}
