import FieldModel
import Hummingbird
import OfficeStore
import SyncCore
import SyncEngine
import SyncWire

/// People and territories, for admins (issue 21, item 1; office.md, "People and tenants"):
/// `POST /v1/office/admin/users` (add one), `POST /v1/office/admin/users/import` (a file of them),
/// `POST /v1/office/admin/users/{id}/deactivate`, `POST /v1/office/admin/territories` and
/// `POST /v1/office/admin/territories/{id}/move`. A change to people makes this instance's
/// ``Authenticator`` ask the database again at once.
extension OfficeRoutes {
    func registerPeople(on office: RouterGroup<BasicRequestContext>) {
        office.post("admin/users") { try await self.handle($0, $1, ["name", "email", "role", "phone", "manager_id", "territories"]) { user, body, _, _ in
            let role = try body.text("role")
            guard Role.all.contains(Role(role)) else { throw SyncStore.OfficeError(.invalid, "\"role\" is one of \(Role.all.map(\.name).joined(separator: ", "))") }
            let territories = try body.array("territories").map { value -> RecordID in
                guard case .string(let text) = value, let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "\"territories\" lists territory ids") }
                return id
            }
            let added = SyncStore.NewUser(name: try body.text("name"), email: try body.text("email"), role: Role(role), phone: try body.optionalText("phone"),
                                          manager: try body.optionalID("manager_id"), territories: territories)
            let id = try await self.store.addUser(added, tenant: user.tenant, by: user)
            self.auth.forget()
            return JSONValue.fields([("id", OfficeJSON.id(id))])
        } }
        office.post("admin/users/import") { try await self.handleFile($0, $1, bytesMax: Self.importBytesMax) { user, body, request, _ in
            let report = try await self.store.importUsers(try ImportFile(body.file, format: try Self.importFormat(request)), tenant: user.tenant, by: user)
            self.auth.forget()
            return JSONValue.fields([("kind", .string("users")), ("rows", .integer(Int64(report.rows))), ("created", .integer(Int64(report.created))),
                                     ("updated", .integer(Int64(report.updated))), ("unchanged", .integer(Int64(report.unchanged)))])
        } }
        office.post("admin/users/:id/deactivate") { try await self.handle($0, $1, []) { user, _, _, context in
            try await self.store.deactivateUser(try Self.id(context), tenant: user.tenant, by: user)
            self.auth.forget()
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("admin/territories") { try await self.handle($0, $1, ["name"]) { user, body, _, _ in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.createTerritory(name: try body.text("name"), tenant: user.tenant, by: user)))])
        } }
        office.post("admin/territories/:id/move") { try await self.handle($0, $1, ["user_id", "from"]) { user, body, _, context in
            try await self.store.moveTerritory(try Self.id(context), to: try body.id("user_id"), from: try body.optionalTime("from") ?? Int64(self.wallClock.now()),
                                               tenant: user.tenant, by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
    }
}
