import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Tenants and people (issue 21, item 1): the operator creates a tenant; an admin adds users with
/// their role, manager and territories, deactivates one who leaves, and hands a territory to
/// another rep; a CSV of users makes the first load. Every write goes through the merge path as
/// the server's, on the admin's request, so phones see it in their next sync. A user's id is
/// derived from the tenant and the e-mail address, so loading the same people twice, or on two
/// instances at once, makes each once.
///
/// A deactivated user keeps the history that names them; their tokens are refused on every
/// request (`user_deactivated`, checked at most ``Authenticator`` lifetime late on another
/// instance), and the territories they own end now, so the customers leave their phones.
extension SyncStore {
    /// A person to add.
    public struct NewUser: Sendable, Hashable {
        /// Their name, e-mail address (their key in the tenant), role and phone number.
        public var name: String, email: String, role: Role, phone: String?
        /// Their manager, and the territories they own from now on.
        public var manager: RecordID?, territories: [RecordID]

        /// A person.
        public init(name: String, email: String, role: Role, phone: String? = nil, manager: RecordID? = nil, territories: [RecordID] = []) {
            self.name = name
            self.email = email
            self.role = role
            self.phone = phone
            self.manager = manager
            self.territories = territories
        }
    }

    /// The id of the user with `email` in `tenant`: the same on every load and instance.
    public static func userID(tenant: RecordID, email: String) -> RecordID {
        RecordID.derived(from: "\(tenant.uuidString)|users|\(email.lowercased())")
    }

    /// Creates a tenant: its settings row (name, IANA time zone, ISO currency, default geofence
    /// radius), as the operator's command does; returns its id.
    public func createTenant(name: String, timeZone: String, currency: String, geofenceRadiusMeters: Int64 = 150, id: RecordID? = nil) async throws -> RecordID {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw OfficeError(.invalid, "a tenant has a name") }
        guard TimeZone(identifier: timeZone) != nil else { throw OfficeError(.invalid, "“\(timeZone)” is not an IANA time zone (e.g. Europe/Madrid)") }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else { throw OfficeError(.invalid, "a currency is an ISO 4217 code (EUR)") }
        let tenant = id ?? newID()
        guard try await pool.query("SELECT 1 FROM tenants WHERE tenant_id = $1", [tenant.uuidString]).isEmpty else {
            throw OfficeError(.invalidState, "tenant \(tenant.uuidString) exists")
        }
        try await edit([OfficeEdit("tenants", tenant, [("name", .text(name)), ("time_zone", .text(timeZone)), ("currency", .text(currency)),
                                                       ("geofence_radius_m", .integer(geofenceRadiusMeters))])], by: nil, tenant: tenant)
        return tenant
    }

    /// Adds a user (an admin's request, or the operator's with `nil`); returns their id.
    ///
    /// - Throws: ``OfficeError`` — `forbidden` for anyone but an admin, `invalidState` for an
    ///   e-mail address the tenant already has, `notFound` for a manager or territory it has not.
    public func addUser(_ user: NewUser, tenant: RecordID, by office: OfficeUser?) async throws -> RecordID {
        try requireAdmin(office)
        try await requireTenant(tenant)
        let id = Self.userID(tenant: tenant, email: user.email)
        guard try await pool.query("SELECT 1 FROM users WHERE tenant_id = $1 AND lower(email) = lower($2) AND NOT _deleted", [tenant.uuidString, user.email]).isEmpty else {
            throw OfficeError(.invalidState, "the tenant already has a user with the address \(user.email)")
        }
        try Self.check(user)
        if let manager = user.manager { _ = try await record("users", manager, tenant: tenant) }
        for territory in user.territories { _ = try await record("territories", territory, tenant: tenant) }
        let now = Int64(clock.milliseconds)
        try await edit([Self.userEdit(id, user)] + user.territories.map { Self.ownership($0, id, from: now, newID: newID()) }, by: nil, tenant: tenant)
        return id
    }

    /// Deactivates a user: refused from now on, their territories ended now. A user deactivated
    /// already is left as they are.
    public func deactivateUser(_ user: RecordID, tenant: RecordID, by office: OfficeUser?) async throws {
        try requireAdmin(office)
        let state = try await record("users", user, tenant: tenant)
        guard state.bool("active") != false else { return }
        if let office, office.user == user { throw OfficeError(.invalid, "an admin does not deactivate themselves") }
        let now = Int64(clock.milliseconds)
        var edits = [OfficeEdit("users", user, [("active", .bool(false))])]
        edits += try await openOwnerships(tenant: tenant, user: user, territory: nil, at: now).map { OfficeEdit("territory_owners", $0, [("valid_to", .timestamp(now))]) }
        try await edit(edits, by: nil, tenant: tenant)
    }

    /// Hands `territory` to `user` from `from` (ms): whoever owns it then stops owning it at that time.
    public func moveTerritory(_ territory: RecordID, to user: RecordID, from: Int64, tenant: RecordID, by office: OfficeUser?) async throws {
        try requireAdmin(office)
        _ = try await record("territories", territory, tenant: tenant)
        let owner = try await record("users", user, tenant: tenant)
        guard owner.bool("active") != false else { throw OfficeError(.invalidState, "the user was deactivated") }
        var edits = try await openOwnerships(tenant: tenant, user: nil, territory: territory, at: from).map {
            OfficeEdit("territory_owners", $0, [("valid_to", .timestamp(from))])
        }
        edits.append(Self.ownership(territory, user, from: from, newID: newID()))
        try await edit(edits, by: nil, tenant: tenant)
    }

    /// Creates a territory named `name`; returns its id (the same for the same name).
    public func createTerritory(name: String, tenant: RecordID, by office: OfficeUser?) async throws -> RecordID {
        try requireAdmin(office)
        try await requireTenant(tenant)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= 200 else { throw OfficeError(.invalid, "a territory's name has 1 to 200 bytes") }
        let id = RecordID.derived(from: "\(tenant.uuidString)|territories|\(name)")
        try await edit([OfficeEdit("territories", id, [("name", .text(name))])], by: nil, tenant: tenant)
        return id
    }

    /// Loads people from a file (CSV or JSON Lines; the columns in `SyncProtocol/imports.md`,
    /// "users"): keyed by `email`, with `name`, `role`, `phone`, `manager` (an e-mail address, in
    /// the file or the tenant), `territories` (names separated by `;`, created when new) and
    /// `active`. All or nothing: every problem reported by line and column; loading it again
    /// writes nothing. A user gains the territories the file names that they do not own now (none
    /// while deactivated); it takes none away (``moveTerritory(_:to:from:tenant:by:)`` does).
    public func importUsers(_ file: ImportFile, tenant: RecordID, by office: OfficeUser?) async throws -> ImportReport {
        try requireAdmin(office)
        try await requireTenant(tenant)
        let known = Set(["email", "name", "role", "phone", "manager", "territories", "active"])
        var problems = file.columns.filter { !known.contains($0) }.map {
            ImportFile.Problem(line: 1, column: $0, "no such column for users; the columns are email, name, role, phone, manager, territories, active")
        }
        var existing: [String: (id: RecordID, state: RecordState)] = [:]
        let stored = try await pool.query("SELECT lower(email), id::text FROM users WHERE tenant_id = $1 AND NOT _deleted", [tenant.uuidString])
            .compactMap { row -> (String, RecordID)? in
                guard let email = try row.read(0, as: String?.self), let id = RecordID(try row.read(1, as: String.self)) else { return nil }
                return (email, id)
            }
        let states = try await pool.withConnection { db in try await self.tables.read(try self.tables.table("users"), stored.map(\.1), tenant: tenant, on: db) }
        for (email, id) in stored { if let state = states[id] { existing[email] = (id, state) } }
        var territories = Dictionary(try await pool.query("SELECT name, id::text FROM territories WHERE tenant_id = $1 AND NOT _deleted", [tenant.uuidString])
            .compactMap { row -> (String, RecordID)? in
                guard let name = try row.read(0, as: String?.self), let id = RecordID(try row.read(1, as: String.self)) else { return nil }
                return (name, id)
            },
            uniquingKeysWith: { first, _ in first })
        let inFile = Set(file.rows.compactMap { $0.cells["email"]?.lowercased().trimmingCharacters(in: .whitespaces) })
        var seen: [String: Int] = [:]
        var parsed: [(line: Int, user: NewUser, manager: String?, territoryNames: [String], active: Bool?)] = []
        for row in file.rows {
            let cell = { (name: String) in row.cells[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
            guard let email = cell("email")?.lowercased() else { problems.append(.init(line: row.line, column: "email", "the key is missing")); continue }
            if let earlier = seen[email] { problems.append(.init(line: row.line, column: "email", "“\(email)” is already on line \(earlier)")); continue }
            seen[email] = row.line
            let current = existing[email]?.state
            let name = cell("name") ?? current?.text("name")
            let role = cell("role") ?? current?.text("role")
            if name == nil { problems.append(.init(line: row.line, column: "name", "a value is required for a new user")) }
            guard let roleName = role, Role.all.contains(Role(roleName)) else {
                problems.append(.init(line: row.line, column: "role", "the role is one of \(Role.all.map(\.name).joined(separator: ", "))"))
                continue
            }
            let manager = cell("manager")?.lowercased()
            if let manager, !inFile.contains(manager), existing[manager] == nil { problems.append(.init(line: row.line, column: "manager", "no user “\(manager)”")) }
            if manager == email { problems.append(.init(line: row.line, column: "manager", "a user does not manage themselves")) }
            var active: Bool?
            if let text = cell("active") {
                switch text.lowercased() {
                case "true", "1", "yes": active = true
                case "false", "0", "no": active = false
                default: problems.append(.init(line: row.line, column: "active", "“\(text)” is not true or false"))
                }
            }
            let user = NewUser(name: name ?? "", email: email, role: Role(roleName), phone: cell("phone") ?? current?.text("phone"))
            do { try Self.check(user) } catch let error as OfficeError { problems.append(.init(line: row.line, column: nil, error.message)) }
            let names = (cell("territories") ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            parsed.append((row.line, user, manager, names, active))
        }
        if !problems.isEmpty { throw ImportProblems(problems) }
        let now = Int64(clock.milliseconds)
        var report = ImportReport(rows: file.rows.count)
        var edits: [OfficeEdit] = []
        // New territories first, by name.
        for name in Set(parsed.flatMap(\.territoryNames)).sorted() where territories[name] == nil {
            let id = RecordID.derived(from: "\(tenant.uuidString)|territories|\(name)")
            territories[name] = id
            edits.append(OfficeEdit("territories", id, [("name", .text(name))]))
        }
        let owned = try await pool.query("""
            SELECT user_id::text, territory_id::text FROM territory_owners WHERE tenant_id = $1 AND NOT _deleted AND (valid_to IS NULL OR valid_to > $2)
            """, [tenant.uuidString, now]).map { "\(try $0.read(0, as: String.self))|\(try $0.read(1, as: String.self))" }
        let owning = Set(owned)
        for entry in parsed {
            let id = existing[entry.user.email]?.id ?? Self.userID(tenant: tenant, email: entry.user.email)
            var user = entry.user
            user.manager = entry.manager.map { existing[$0]?.id ?? Self.userID(tenant: tenant, email: $0) }
            var fields = Self.userEdit(id, user).fields
            if let active = entry.active { fields.append(("active", .bool(active))) }
            var changed = fields
            if let current = existing[entry.user.email]?.state {
                changed = fields.filter { field, value in
                    let held = current.fields[field]?.value ?? .null
                    return held != value && !(field == "active" && value == .bool(true) && held == .null)
                }
            }
            // A user who is (or stays) deactivated owns nothing.
            let active = entry.active ?? (existing[entry.user.email]?.state.bool("active") ?? true)
            let ownerships = !active ? [] : entry.territoryNames.compactMap { territories[$0] }.filter { !owning.contains("\(id.uuidString)|\($0.uuidString)") }
            if changed.isEmpty && ownerships.isEmpty { report.unchanged += 1; continue }
            if existing[entry.user.email] == nil { report.created += 1 } else { report.updated += 1 }
            if !changed.isEmpty { edits.append(OfficeEdit("users", id, changed)) }
            edits += ownerships.map { Self.ownership($0, id, from: now, newID: RecordID.derived(from: "\(id.uuidString)|owns|\($0.uuidString)|\(now)")) }
        }
        for start in stride(from: 0, to: edits.count, by: Self.importChangeSetMax) {
            try await edit(Array(edits[start..<min(start + Self.importChangeSetMax, edits.count)]), by: nil, tenant: tenant)
        }
        return report
    }

    // MARK: - Helpers

    static func check(_ user: NewUser) throws {
        guard !user.name.trimmingCharacters(in: .whitespaces).isEmpty, user.name.utf8.count <= 200 else { throw OfficeError(.invalid, "a user's name has 1 to 200 bytes") }
        let parts = user.email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), user.email.utf8.count <= 200, !user.email.contains(" ") else {
            throw OfficeError(.invalid, "“\(user.email)” is not an e-mail address")
        }
        if let phone = user.phone, phone.utf8.count > 40 { throw OfficeError(.invalid, "a phone number has at most 40 bytes") }
    }

    static func userEdit(_ id: RecordID, _ user: NewUser) -> OfficeEdit {
        OfficeEdit("users", id, [("role", .text(user.role.name)), ("name", .text(user.name)), ("email", .text(user.email.lowercased())),
                                 ("phone", user.phone.map(FieldValue.text) ?? .null), ("manager_id", user.manager.map(FieldValue.id) ?? .null)])
    }

    static func ownership(_ territory: RecordID, _ user: RecordID, from: Int64, newID: RecordID) -> OfficeEdit {
        OfficeEdit("territory_owners", newID, [("territory_id", .id(territory)), ("user_id", .id(user)), ("valid_from", .timestamp(from)), ("valid_to", .null)])
    }

    /// The ownerships of `user` (or of `territory`) still open at `time`.
    func openOwnerships(tenant: RecordID, user: RecordID?, territory: RecordID?, at time: Int64) async throws -> [RecordID] {
        try await pool.query("""
            SELECT id::text FROM territory_owners WHERE tenant_id = $1 AND NOT _deleted AND ($2 = '' OR user_id::text = $2) AND ($3 = '' OR territory_id::text = $3)
              AND (valid_to IS NULL OR valid_to > $4) ORDER BY id
            """, [tenant.uuidString, user?.uuidString ?? "", territory?.uuidString ?? "", time]).compactMap { RecordID(try $0.read(0, as: String.self)) }
    }

    /// Refuses an office user who is not an admin (`nil` is the operator, at the command line).
    func requireAdmin(_ office: OfficeUser?) throws {
        if let office, office.role != .admin { throw OfficeError(.forbidden, "only admins manage people and territories") }
    }

    /// Refuses a tenant with no settings row.
    func requireTenant(_ tenant: RecordID) async throws {
        guard try await !pool.query("SELECT 1 FROM tenants WHERE tenant_id = $1 AND NOT _deleted", [tenant.uuidString]).isEmpty else {
            throw OfficeError(.notFound, "no tenant \(tenant.uuidString): create it first")
        }
    }
}
