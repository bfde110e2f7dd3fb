import ArgumentParser
import DemoData
import FieldModel
import FieldRules
import Foundation
import Hummingbird
import Logging
import PostgresDriver
import SyncEngine
import SyncCore
import SyncServer

/// `fieldsync-server`: what the operator runs.
@main
struct FieldSyncServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The FieldSync sync server.",
        subcommands: [Dev.self, Serve.self, Migrate.self, Import.self, Admin.self, Token.self, SchemaSQL.self]
    )
}

/// Options every serving command shares; each is also an environment variable and a key of the
/// configuration file (``ServerSettings``).
struct ListenOptions: ParsableArguments {
    @Option(help: "The address to listen on (0.0.0.0 to serve other machines; default 127.0.0.1).")
    var host: String?

    @Option(help: "The TCP port to listen on; 0 picks a free one (default 8080).")
    var port: String?

    @Option(help: "The log level: trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: "text, or json for one object a line (default text).")
    var logFormat: String?

    @Option(help: "Days the change feed keeps what some device has not read; a device away longer re-primes (default 30).")
    var retentionDays: String?

    @Option(help: "Each user's budget, in tokens a second (bursts of ten times as many); SyncProtocol/errors.md lists what requests cost (default 20).")
    var requestsPerSecond: String?

    @Option(help: "A configuration file of `key = value` lines (OPERATIONS.md lists the keys); flags and FIELDSYNC_* variables win over it.")
    var config: String?

    /// The flags given, by setting key.
    var flags: [String: String?] {
        ["host": host, "port": port, "log_level": logLevel, "log_format": logFormat, "retention_days": retentionDays, "requests_per_second": requestsPerSecond]
    }
}

extension FieldSyncServerCommand {
    struct Dev: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a private PostgreSQL, load the demo data and serve (no setup needed).",
            discussion: """
                The cluster lives under --state-directory (.fieldsync/ in the working directory) and is \
                reused on the next start, demo data and all. It stops with the server: on Ctrl-C, on \
                SIGTERM, and even when the server is killed.
                """
        )

        @OptionGroup var listen: ListenOptions

        @Option(help: "Where the development cluster keeps its files.")
        var stateDirectory = ".fieldsync"

        @Option(help: "A demo data set to load into an empty database (a directory like Fixtures/demo); without it, the demo set is generated (the same bytes as the committed one), so an installed binary needs no checkout.")
        var fixtures: String?

        func run() async throws {
            let settings = try ServerSettings(flags: listen.flags, file: listen.config)
            let logger = try settings.logger("fieldsync.server")
            let directory = URL(fileURLWithPath: stateDirectory).appendingPathComponent("postgres").standardizedFileURL
            let tokens = try await TokenAuthority(secret: try developmentSecret(in: URL(fileURLWithPath: stateDirectory)))
            let cluster = try await PostgresCluster.start(in: directory, logger: logger)
            do {
                let pool = try PostgresPool(.init(connectionString: cluster.connectionString()), logger: logger)
                try await prepare(pool, demo: try demoData(at: fixtures ?? ""), logger: logger)
                let demo = try await demoTokens(pool, tokens)
                let banner = ["PostgreSQL: \(cluster.connectionString())"] + demo.lines
                try await serve(pool, tokens: tokens, settings: settings, logger: logger, banner: banner.joined(separator: "\n"), consoleToken: demo.dispatcher)
                await pool.close()
            } catch {
                await cluster.stop()
                throw error
            }
            await cluster.stop()
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve against an existing PostgreSQL database.")

        @OptionGroup var listen: ListenOptions

        @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
        var databaseURL: String?

        @Option(help: "Load this demo data set into an empty database before serving.")
        var loadDemo: String?

        @Option(help: "The secret tokens are signed with, at least 32 bytes (or set FIELDSYNC_TOKEN_SECRET).")
        var tokenSecret: String?

        @Option(help: "The company's identity provider (OpenID Connect): its issuer, as its tokens' iss says.")
        var oidcIssuer: String?

        @Option(help: "The audience the provider's tokens are for (FieldSync's client id there).")
        var oidcAudience: String?

        @Option(help: "The tenant the provider signs people in for.")
        var oidcTenant: String?

        @Option(help: "The claim holding the user's e-mail address: email, preferred_username, upn or sub (default email).")
        var oidcUserClaim: String?

        @Option(help: "The provider's JWKS URL (its jwks_uri), read again every 10 minutes.")
        var jwksURL: String?

        @Option(help: "Or a JWKS file.")
        var jwksFile: String?

        @Flag(help: "Print every setting (secrets masked) with where its value came from, then exit.")
        var printConfig = false

        /// Every setting: flags, then the environment, then the file, then the defaults.
        func settings() throws -> ServerSettings {
            var flags = listen.flags
            for (key, value) in [("database_url", databaseURL), ("token_secret", tokenSecret), ("oidc_issuer", oidcIssuer), ("oidc_audience", oidcAudience),
                                 ("oidc_tenant", oidcTenant), ("oidc_user_claim", oidcUserClaim), ("jwks_url", jwksURL), ("jwks_file", jwksFile)] {
                flags[key] = value
            }
            return try ServerSettings(flags: flags, file: listen.config)
        }

        /// The company's sign-in, when configured.
        static func externalSignIn(_ settings: ServerSettings) throws -> ExternalSignIn? {
            let given = ["oidc_issuer", "oidc_audience", "oidc_tenant"].filter { settings[$0] != nil }.count
            guard given > 0 || settings["jwks_url"] != nil || settings["jwks_file"] != nil else { return nil }
            guard given == 3, (settings["jwks_url"] == nil) != (settings["jwks_file"] == nil),
                  let issuer = settings["oidc_issuer"], let audience = settings["oidc_audience"], let tenantText = settings["oidc_tenant"] else {
                throw ValidationError("the company's sign-in needs oidc_issuer, oidc_audience, oidc_tenant and one of jwks_url or jwks_file")
            }
            guard let tenant = RecordID(tenantText) else { throw ValidationError("oidc_tenant must be a UUID") }
            return ExternalSignIn(issuer: issuer, audience: audience, tenant: tenant, userClaim: settings["oidc_user_claim"] ?? "email",
                                  keys: settings["jwks_url"].map(ExternalSignIn.KeySource.url) ?? .file(settings["jwks_file"] ?? ""))
        }

        func run() async throws {
            let settings = try settings()
            if printConfig {
                print(settings.printed)
                return
            }
            let logger = try settings.logger("fieldsync.server")
            let tokens = try await TokenAuthority(secret: try resolveSecret(settings["token_secret"]), external: try Self.externalSignIn(settings))
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(settings["database_url"])), logger: logger)
            try await prepare(pool, demo: try loadDemo.map(demoData(at:)), logger: logger)
            try await serve(pool, tokens: tokens, settings: settings, logger: logger, banner: nil)
            await pool.close()
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue bearer tokens.", subcommands: [Issue.self])

        struct Issue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a signed token for a user.")

            @Option(help: "The user's id.")
            var user: String

            @Option(help: "The user's role: rep, technician, dispatcher, manager or admin.")
            var role: String

            @Option(help: "The user's tenant id (default: the demo tenant).")
            var tenant: String?

            @Option(help: "How long the token is valid, in hours.")
            var ttl: Int = 12

            @Option(help: "The signing secret (or FIELDSYNC_TOKEN_SECRET; default: the development server's).")
            var tokenSecret: String?

            @Option(help: "The development server's state directory, for its secret.")
            var stateDirectory = ".fieldsync"

            func run() async throws {
                guard let user = RecordID(user) else { throw ValidationError("--user must be a UUID") }
                guard Role.all.contains(Role(role)) else { throw ValidationError("--role must be rep, technician, dispatcher, manager or admin") }
                guard let tenant = RecordID(tenant ?? DemoGenerator().generate().tenant!.uuidString) else { throw ValidationError("--tenant must be a UUID") }
                guard (1...24 * 30).contains(ttl) else { throw ValidationError("--ttl runs from 1 to 720 hours") }
                let secret = try tokenSecret ?? ProcessInfo.processInfo.environment["FIELDSYNC_TOKEN_SECRET"]
                    ?? developmentSecret(in: URL(fileURLWithPath: stateDirectory), create: false)
                let tokens = try await TokenAuthority(secret: secret)
                print(try await tokens.issue(user: user, tenant: tenant, role: Role(role), lifetime: .seconds(ttl * 3600)))
            }
        }
    }

    struct SchemaSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema-sql",
            abstract: "Print the SQL the current field model derives (the starting point of a new migration)."
        )

        func run() {
            print(ServerSchema(FieldSalesSchema.schema).creationSQL, terminator: "")
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring a database's schema to this build's revision, then exit.")

        @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
        var databaseURL: String?

        func run() async throws {
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(databaseURL), connectionsMax: 1))
            let applied = try await Migrator.migrate(pool)
            let revision = try await Migrator.currentRevision(pool)
            print(applied.isEmpty ? "schema already at revision \(revision)" : "applied revisions \(applied.map(String.init).joined(separator: ", ")); schema at revision \(revision)")
            await pool.close()
        }
    }
}

func resolveDatabaseURL(_ option: String?) throws -> String {
    guard let url = option ?? ProcessInfo.processInfo.environment["FIELDSYNC_DATABASE_URL"], !url.isEmpty else {
        throw ValidationError("give --database-url or set FIELDSYNC_DATABASE_URL (or run `fieldsync-server dev` for a private database)")
    }
    return url
}

/// The demo data set in `directory` (a `tables.txt` and its files), or the generated one (the
/// same bytes as the committed `Fixtures/demo/`) when `directory` holds none.
func demoData(at directory: String) throws -> DemoDataSet {
    let url = URL(fileURLWithPath: directory)
    return FileManager.default.fileExists(atPath: url.appendingPathComponent("tables.txt").path) ? try DemoDataSet(contentsOf: url) : DemoGenerator().generate()
}

/// Migrates, loads `demo` into an empty database when given, and reads the database's
/// generation, beginning it when it is new (a restore: OPERATIONS.md, "Backups and restores").
func prepare(_ pool: PostgresPool, demo data: DemoDataSet?, logger: Logger) async throws {
    try await Migrator.migrate(pool, logger: logger)
    if let data, try await data.load(into: pool) {
        logger.info("loaded the demo data set", metadata: ["rows": "\(data.tables.reduce(0) { $0 + $1.rows.count })"])
    }
    let start = try await SyncStore(pool: pool, domain: FieldSalesDomain()).refreshGeneration()
    if start.carriedOver {
        logger.warning("the database was restored or failed over: began a new generation; every phone uploads again what it has not seen answered in it, then re-primes",
                       metadata: ["generation": "\(start.generation)"])
    } else {
        logger.info("serving generation \(start.generation)", metadata: ["generation": "\(start.generation)", "began": "\(start.began)"])
    }
}

/// The secret from the option or the environment.
func resolveSecret(_ option: String?) throws -> String {
    guard let secret = option ?? ProcessInfo.processInfo.environment["FIELDSYNC_TOKEN_SECRET"], secret.utf8.count >= 32 else {
        throw ValidationError("give --token-secret or set FIELDSYNC_TOKEN_SECRET: at least 32 bytes")
    }
    return secret
}

/// The development server's token secret, made on first start and kept in the state directory.
func developmentSecret(in directory: URL, create: Bool = true) throws -> String {
    let file = directory.appendingPathComponent("token-secret")
    if let secret = try? String(contentsOf: file, encoding: .utf8), secret.utf8.count >= 32 { return secret }
    guard create else { throw ValidationError("no development token secret in \(directory.path): start `fieldsync-server dev` first, or give --token-secret") }
    var random = SystemRandomNumberGenerator()
    let secret = (0..<32).map { _ in String(random.next() % 36, radix: 36) }.joined()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: file.path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
        throw ValidationError("could not write \(file.path)")
    }
    return secret
}

/// Tokens for the demo's first rep, technician, dispatcher and manager, to paste into `fieldsim`,
/// and the dispatcher's, for the console link.
func demoTokens(_ pool: PostgresPool, _ tokens: TokenAuthority) async throws -> (lines: [String], dispatcher: String?) {
    let data = DemoGenerator().generate()
    guard let tenant = data.tenant, let users = data["users"] else { return ([], nil) }
    var lines: [String] = []
    var dispatcher: String?
    for role in ["rep", "technician", "dispatcher", "manager"] {
        guard let row = users.rows.first(where: { $0[2] == role }), let id = row[0].flatMap({ RecordID($0) }) else { continue }
        let token = try await tokens.issue(user: id, tenant: tenant, role: Role(role))
        if role == "dispatcher" { dispatcher = token }
        lines.append("Token for \(row[3] ?? role) (\(role)): \(token)")
    }
    return (lines, dispatcher)
}

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
///
/// - Parameter consoleToken: A token to sign the console link's user in (the demo dispatcher's).
func serve(_ pool: PostgresPool, tokens: TokenAuthority, settings: ServerSettings, logger: Logger, banner: String?, consoleToken: String? = nil) async throws {
    let host = settings["host"] ?? "127.0.0.1"
    let app = FieldSyncServer.makeApplication(
        pool: pool, tokens: tokens, configuration: .init(host: host, port: try settings.number("port", Int.self)),
        retention: .seconds(max(try settings.number("retention_days", Int.self), 1) * 86_400),
        requestsPerSecond: max(try settings.number("requests_per_second", Double.self), 0.1), logger: logger
    ) { port in
        print("FieldSync \(FieldSyncServer.version) is serving at http://\(host):\(port)")
        if let banner { print(banner) }
        print("Office console: http://\(host):\(port)/console/" + (consoleToken.map { "#token=\($0)   (signs the demo dispatcher in)" } ?? ""))
        print("Press Ctrl-C to stop.")
        fflush(nil)  // all streams: a script or test may be waiting for these lines
    }
    try await app.runService()
}
