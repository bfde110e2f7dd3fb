import ArgumentParser
import FieldModel
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

extension FieldSyncServerCommand {
    /// `fieldsync-server admin …`: tenants, people and territories, straight into the database
    /// through the merge path (SyncProtocol/office.md, "People and tenants"). What an admin does
    /// in the office API, the operator does here for a first load.
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant; add, import and deactivate users; create and hand over territories.",
            subcommands: [TenantCreate.self, UserAdd.self, UserDeactivate.self, UsersImport.self, TerritoryCreate.self, TerritoryMove.self,
                          DeviceRevoke.self, AppVersion.self, NewGeneration.self])

        struct Database: ParsableArguments {
            @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
            var databaseURL: String?
        }

        struct Tenant: ParsableArguments {
            @Option(help: "The tenant's id.")
            var tenant: String

            func id() throws -> RecordID {
                guard let id = RecordID(tenant) else { throw ValidationError("--tenant must be a UUID") }
                return id
            }
        }

        /// Runs `body` with a store on the database; an office refusal exits 65 with its message.
        static func withStore(_ database: Database, _ body: (SyncStore) async throws -> String) async throws {
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(database.databaseURL), connectionsMax: 2))
            let outcome: Result<String, any Error>
            do {
                outcome = .success(try await body(SyncStore(pool: pool, domain: FieldSalesDomain())))
            } catch {
                outcome = .failure(error)
            }
            await pool.close()
            switch outcome {
            case .success(let line): print(line)
            case .failure(let problems as ImportProblems): refuse("nothing imported; \(problems.problems.count) problem(s):\n\(problems)")
            case .failure(let error as SyncStore.OfficeError): refuse("\(error.code.rawValue): \(error.message)")
            case .failure(let error): throw error
            }
        }

        static func refuse(_ message: String) -> Never {
            FileHandle.standardError.write(Data("\(message)\n".utf8))
            Foundation.exit(65)
        }

        static func id(_ text: String, _ what: String) throws -> RecordID {
            guard let id = RecordID(text) else { throw ValidationError("\(what) must be a UUID") }
            return id
        }

        struct TenantCreate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "tenant-create", abstract: "Create a tenant; prints its id.")
            @OptionGroup var database: Database
            @Option(help: "The company's name.") var name: String
            @Option(help: "Its IANA time zone (local days and times are its).") var timeZone: String
            @Option(help: "Its ISO 4217 currency.") var currency: String
            @Option(help: "The default geofence radius in meters.") var radius: Int64 = 150
            @Option(help: "Its id (a new one when left out).") var id: String?
            func run() async throws {
                let given = try id.map { try Admin.id($0, "--id") }
                try await Admin.withStore(database) { store in
                    "created tenant \(try await store.createTenant(name: name, timeZone: timeZone, currency: currency, geofenceRadiusMeters: radius, id: given).uuidString)"
                }
            }
        }

        struct UserAdd: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "user-add", abstract: "Add a user with their role, manager and territories; prints their id.")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Option(help: "Their name.") var name: String
            @Option(help: "Their e-mail address (their key in the tenant).") var email: String
            @Option(help: "rep, technician, dispatcher, manager or admin.") var role: String
            @Option(help: "Their phone number.") var phone: String?
            @Option(help: "Their manager's id.") var manager: String?
            @Option(help: "A territory they own from now on (its id; repeatable).") var territory: [String] = []
            func validate() throws {
                guard Role.all.contains(Role(role)) else { throw ValidationError("--role is one of \(Role.all.map(\.name).joined(separator: ", "))") }
            }
            func run() async throws {
                let user = SyncStore.NewUser(name: name, email: email, role: Role(role), phone: phone, manager: try manager.map { try Admin.id($0, "--manager") },
                                             territories: try territory.map { try Admin.id($0, "--territory") })
                let tenant = try tenant.id()
                try await Admin.withStore(database) { store in "added user \(try await store.addUser(user, tenant: tenant, by: nil).uuidString)" }
            }
        }

        struct UserDeactivate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "user-deactivate",
                                                            abstract: "Deactivate a user who left: refused from now on, their territories ended, their history kept.")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Argument(help: "The user's id.") var user: String
            func run() async throws {
                let (user, tenant) = (try Admin.id(user, "the user"), try tenant.id())
                try await Admin.withStore(database) { store in
                    try await store.deactivateUser(user, tenant: tenant, by: nil)
                    return "deactivated user \(user.uuidString)"
                }
            }
        }

        struct UsersImport: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "users-import",
                                                            abstract: "Load users from a CSV or JSON Lines file (email, name, role, phone, manager, territories, active; all or nothing).")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Argument(help: "The file: .csv, or .jsonl / .ndjson.") var file: String
            @Option(help: "The file's format, when its name does not say: csv or jsonl.") var format: String?
            func run() async throws {
                let format = try Import.format(format, file: file)
                guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                let tenant = try tenant.id()
                try await Admin.withStore(database) { store in
                    let report = try await store.importUsers(try ImportFile(Array(bytes), format: format), tenant: tenant, by: nil)
                    return "users: \(report.rows) rows; created \(report.created), updated \(report.updated), unchanged \(report.unchanged)"
                }
            }
        }

        struct TerritoryCreate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "territory-create", abstract: "Create a territory; prints its id.")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Option(help: "Its name.") var name: String
            func run() async throws {
                let tenant = try tenant.id()
                try await Admin.withStore(database) { store in "created territory \(try await store.createTerritory(name: name, tenant: tenant, by: nil).uuidString)" }
            }
        }

        struct TerritoryMove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "territory-move", abstract: "Hand a territory to a user from now (or --from): its owner then stops owning it.")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Argument(help: "The territory's id.") var territory: String
            @Option(help: "The user who owns it from then.") var to: String
            @Option(help: "When, ISO 8601 (now when left out).") var from: String?
            func run() async throws {
                let (territory, user, tenant) = (try Admin.id(territory, "the territory"), try Admin.id(to, "--to"), try tenant.id())
                var start = Int64(Date().timeIntervalSince1970 * 1_000)
                if let from {
                    guard let date = ISO8601DateFormatter().date(from: from) else { throw ValidationError("--from is an ISO 8601 time (2027-01-04T00:00:00Z)") }
                    start = Int64(date.timeIntervalSince1970 * 1_000)
                }
                try await Admin.withStore(database) { store in
                    try await store.moveTerritory(territory, to: user, from: start, tenant: tenant, by: nil)
                    return "territory \(territory.uuidString) owned by \(user.uuidString) from \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(start) / 1_000)))"
                }
            }
        }

        struct DeviceRevoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "device-revoke",
                                                            abstract: "Revoke a device: it stops syncing; with --wipe it uploads what it holds, then deletes its replica.")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Argument(help: "The device's replica number (the office's device list shows it).") var replica: UInt32
            @Flag(help: "Also wipe the device's replica.") var wipe = false
            func run() async throws {
                let tenant = try tenant.id()
                try await Admin.withStore(database) { store in
                    guard try await store.revokeDevice(ReplicaID(replica), wipe: wipe, tenant: tenant) else {
                        throw SyncStore.OfficeError(.notFound, "no device \(replica) in the tenant")
                    }
                    return "\(wipe ? "wiped" : "revoked") device \(replica)"
                }
            }
        }

        struct AppVersion: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "app-version",
                                                            abstract: "Set the oldest app version a tenant is served on a platform: older apps are told to update (stale_app_version).")
            @OptionGroup var database: Database
            @OptionGroup var tenant: Tenant
            @Option(help: "The platform, as apps name it at registration (ios, android).") var platform: String
            @Option(help: "The oldest version served (2.3.0).") var minimum: String?
            @Flag(help: "Serve every version again.") var clear = false
            func validate() throws {
                guard (minimum == nil) == clear else { throw ValidationError("give --minimum VERSION or --clear") }
                if let minimum, minimum.split(separator: ".", omittingEmptySubsequences: false).contains(where: { Int($0) == nil }) {
                    throw ValidationError("--minimum is dotted numbers, such as 2.3.0")
                }
            }
            func run() async throws {
                let tenant = try tenant.id()
                try await Admin.withStore(database) { store in
                    try await store.setMinimumAppVersion(minimum, platform: platform, tenant: tenant)
                    return minimum.map { "\(platform): apps older than \($0) are told to update" } ?? "\(platform): every app version served"
                }
            }
        }

        struct NewGeneration: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "new-generation",
                abstract: "Begin a new generation after a restore the server cannot notice (a file-system snapshot put back in place).",
                discussion: """
                    A dump loaded into a new database, a new cluster, or a point-in-time recovery changes the generation by \
                    itself. Every phone then uploads again what it has not seen answered in the new generation and re-primes \
                    (OPERATIONS.md, "Backups and restores"). Prints the new generation.
                    """)
            @OptionGroup var database: Database
            func run() async throws {
                try await Admin.withStore(database) { store in "began generation \(try await store.renewGeneration())" }
            }
        }
    }
}
