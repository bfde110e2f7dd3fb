import DemoData
import FieldModel
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

/// A tenant for clients our own phone never imitates: the demo data on a fresh PostgreSQL
/// database, the protocol served by ``SyncService`` (the very code behind the HTTP routes), and
/// hand-made change sets sent as raw frames — any table, any field, any value, any clock.
struct HostileWorld: Sendable {
    let store: SyncStore
    let service: SyncService
    let pool: PostgresPool
    let data: DemoDataSet
    let tenant: RecordID
    let tokens: TokenAuthority
    let clock: ManualWallClock

    /// Monday 2026-11-30, 14:00 UTC: the first day of the demo's visit plans.
    static let now: UInt64 = 1_796_047_200_000

    static func make(_ name: String, pushBatchMax: Int = SyncStore.batchChangeSetsMax) async throws -> HostileWorld {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name)))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let clock = ManualWallClock(now)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret)
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock), pushBatchMax: pushBatchMax)
        return HostileWorld(store: store, service: SyncService(store: store, tokens: tokens, wallClock: clock), pool: pool, data: data,
                            tenant: try #require(data.tenant), tokens: tokens, clock: clock)
    }

    // MARK: - Who and what

    /// The demo users with `role`, in the data set's order.
    func users(_ role: Role) throws -> [RecordID] {
        try #require(data["users"]).rows.filter { $0[2] == role.name }.map { RecordID($0[0]!)! }
    }

    /// The first rep, whose phone the tests play.
    var rep: RecordID { get throws { try users(.rep)[0] } }

    /// A row of `table` whose `column` is `value`.
    func row(_ table: String, where column: String, is value: String) throws -> RecordID {
        let table = try #require(data[table])
        let index = try #require(table.columns.firstIndex(of: column))
        return RecordID(try #require(table.rows.first { $0[index] == value })[0]!)!
    }

    /// A row of `table` whose `column` is not `value`, and not `and`.
    func row(_ table: String, where column: String, isNot value: String, andNot other: String? = nil) throws -> RecordID {
        let table = try #require(data[table])
        let index = try #require(table.columns.firstIndex(of: column))
        return RecordID(try #require(table.rows.first { $0[index] != value && $0[index] != other })[0]!)!
    }

    /// The first rep's territory.
    func territory(of rep: RecordID) throws -> String {
        let owners = try #require(data["territory_owners"])
        return try #require(owners.rows.first { $0[1] == rep.uuidString }?[0] ?? nil)
    }

    /// A customer in `rep`'s territory, and one in another.
    func customers(of rep: RecordID) throws -> (own: RecordID, other: RecordID) {
        let territory = try territory(of: rep)
        return (try row("customers", where: "territory_id", is: territory), try row("customers", where: "territory_id", isNot: territory))
    }

    // MARK: - A hostile phone

    /// A phone: a registered installation of `user`, whose change sets are made by hand.
    struct Phone: Sendable {
        let world: HostileWorld
        let user: RecordID
        let role: Role
        let token: String
        let replica: ReplicaID
        /// The buckets the registration answered.
        let buckets: [Bucket]

        /// One change: `fields` written to `table`/`record`, stamped `at` (the world's clock by default).
        func change(_ table: String, _ record: RecordID, _ fields: [(String, FieldValue)], at milliseconds: UInt64? = nil) -> Change {
            Change(id: ChangeID(RecordID.random()), table: table, record: record, operation: .write(fields.map { FieldWrite($0.0, $0.1) }),
                   version: Version(clock: HLC(milliseconds: milliseconds ?? world.clock.now()), replica: replica))
        }

        /// Pushes `changes` as one change set and returns the outcomes.
        func push(_ changes: [Change]) async throws -> [ChangeOutcome] {
            let answer = try await world.send("/v1/push", .pushRequest(PushRequest(batch: RecordID.random(), changeSets: [ChangeSet(id: ChangeID(RecordID.random()), changes: changes)])),
                                              token: token)
            guard case .pushResponse(let response) = answer.message else { throw HostileFailure("push answered \(answer.status): \(answer.message)") }
            return response.outcomes
        }

        /// Pushes one change and returns its outcome.
        func push(_ table: String, _ record: RecordID, _ fields: [(String, FieldValue)], at milliseconds: UInt64? = nil) async throws -> ChangeOutcome {
            try await push([change(table, record, fields, at: milliseconds)])[0]
        }
    }

    /// Registers a new installation of `user`.
    func phone(_ user: RecordID, _ role: Role, installation: RecordID = RecordID.random()) async throws -> Phone {
        let token = try await tokens.issue(user: user, tenant: tenant, role: role)
        let answer = try await send("/v1/register", .registerRequest(RegisterRequest(installation: installation, appVersion: "1.0.0", platform: "test", schemaRevision: 1)),
                                    token: token)
        guard case .registerResponse(let response) = answer.message else { throw HostileFailure("register answered \(answer.status): \(answer.message)") }
        return Phone(world: self, user: user, role: role, token: token, replica: response.replica, buckets: response.buckets)
    }

    /// Sends `message` to `route` as a binary frame; the status and the decoded answer.
    func send(_ route: String, _ message: Message, token: String?) async throws -> (status: Int, message: Message) {
        try await send(route, bytes: try Frame.encode(message), token: token)
    }

    /// Sends raw bytes to `route`. Any answer but a documented one fails the test.
    func send(_ route: String, bytes: [UInt8], token: String?, json: Bool = false) async throws -> (status: Int, message: Message) {
        let answer = await service.respond(route: route, authorization: token.map { "Bearer \($0)" }, body: bytes, json: json)
        #expect(answer.status < 500, "\(route) answered \(answer.status)")
        return (answer.status, json ? try Frame.decode(json: answer.body) : try Frame.decode(answer.body))
    }

    /// A record as the server holds it, if any.
    func server(_ table: String, _ id: RecordID) async throws -> RecordState? {
        try? await store.record(table, id, tenant: tenant)
    }

    /// Writes as the server itself (no author, no rules): the state a test starts from.
    func seed(_ table: String, _ id: RecordID, _ fields: [(String, FieldValue)]) async throws {
        try await store.edit([SyncStore.OfficeEdit(table, id, fields)], by: nil, tenant: tenant, judging: false)
    }
}

struct HostileFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension RecordID {
    /// A random id (tests only).
    static func random() -> RecordID { RecordID(high: UInt64.random(in: 1...UInt64.max), low: UInt64.random(in: 1...UInt64.max)) }
}

/// The seeds of a seeded suite: `<prefix>_SEED=n` replays seed n alone, `<prefix>_SEEDS=k` runs
/// seeds 1…k (`count` by default).
func seeds(_ prefix: String, default count: Int) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let one = environment["\(prefix)_SEED"].flatMap(UInt64.init) { return [one] }
    return (1...UInt64(environment["\(prefix)_SEEDS"].flatMap(Int.init) ?? count)).map { $0 }
}

/// Runs a program to its end: its exit status and everything it printed, both streams.
func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}
