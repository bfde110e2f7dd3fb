import DemoData
import DeviceStore
import FieldModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresDriver
import SyncEngine
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncServer

@Suite("Sync routes")
struct SyncRoutesTests {
    static let secret = "a test secret that is long enough for HS256"

    struct Exchange: Sendable {
        let status: HTTPResponse.Status
        let message: Message?
    }

    static func post(_ client: some TestClientProtocol, _ path: String, _ message: Message, token: String?, json: Bool = false) async throws -> Exchange {
        let body = json ? Array(Frame.json(message).printed.utf8) : try Frame.encode(message)
        return try await post(client, path, bytes: body, token: token, json: json)
    }

    static func post(_ client: some TestClientProtocol, _ path: String, bytes: [UInt8], token: String?, json: Bool = false) async throws -> Exchange {
        var headers: HTTPFields = [.contentType: json ? "application/json" : "application/vnd.fieldsync.frame"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            let bytes = Array(response.body.readableBytesView)
            let message = json ? try? Frame.decode(json: bytes) : try? Frame.decode(bytes)
            return Exchange(status: response.status, message: message)
        }
    }

    /// Registers a new install of `user` and primes its store through the routes.
    static func device(_ client: some TestClientProtocol, token: String, user: RecordID, clock: ManualWallClock, in directory: URL) async throws -> DeviceStore {
        let path = directory.appendingPathComponent("\(UUID().uuidString.prefix(8)).sqlite").path
        let store = try await DeviceStore.open(path: path, options: .init(wallClock: clock))
        let installation = try await store.identity().installation
        let registered = try await post(client, "/v1/register", .registerRequest(RegisterRequest(installation: installation, appVersion: "1.0.0", platform: "test", schemaRevision: 1)), token: token)
        guard case .registerResponse(let answer)? = registered.message else { throw TestFailure("register: \(registered.status)") }
        try await store.register(replica: answer.replica, user: user, role: .rep, serverClock: answer.serverClock)
        try await store.setBuckets(answer.buckets)
        try await sync(client, store, token: token)
        return store
    }

    /// Pushes the outbox and pulls until nothing is left.
    static func sync(_ client: some TestClientProtocol, _ store: DeviceStore, token: String) async throws {
        let pending = try await store.pendingChangeSets()
        if !pending.isEmpty {
            let pushed = try await post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: UInt64.random(in: 1...UInt64.max), low: 1), changeSets: pending)), token: token)
            guard case .pushResponse(let answer)? = pushed.message else { throw TestFailure("push: \(pushed.status)") }
            try await store.recordOutcomes(answer)
        }
        for _ in 0..<100 {
            let pulled = try await post(client, "/v1/pull", .pullRequest(PullRequest(cursors: try await store.cursors())), token: token)
            guard case .pullResponse(let answer)? = pulled.message else { throw TestFailure("pull: \(pulled.status)") }
            for page in answer.pages { try await store.apply(page, serverClock: answer.serverClock) }
            if answer.pages.allSatisfy({ $0.kind == .changes && !$0.hasMore }) && answer.pages.allSatisfy({ $0.changeSets.isEmpty }) { return }
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test("two installs of a rep sync through HTTP: priming, a check-in, a check-out, and every refusal")
    func endToEnd() async throws {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase("routes")))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = try #require(data.tenant)
        let users = try #require(data["users"])
        let reps = users.rows.filter { $0[2] == "rep" }.map { RecordID($0[0]!)! }
        let tokens = try await TokenAuthority(secret: Self.secret)
        let token = try await tokens.issue(user: reps[0], tenant: tenant, role: .rep)
        let clock = ManualWallClock(1_796_065_200_000)  // Monday 2026-11-30, 09:00 in New York
        let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: clock))

        let directory = URL(fileURLWithPath: "/tmp/fieldsync-route-devices-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await app.test(.router) { client in
            let phone = try await Self.device(client, token: token, user: reps[0], clock: clock, in: directory)
            let monday: Int64 = 1_796_014_800_000
            let visits = try await phone.visits(from: monday, to: monday + 86_400_000)
            #expect(visits.count == 20, "primed from snapshots of the rep's buckets")
            let visit = try #require(visits.first)
            _ = try await phone.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(clock.now())))
            try await Self.sync(client, phone, token: token)
            #expect(try await phone.outboxCount() == 0)
            #expect(try await phone.outcomes().allSatisfy { $0.result == "applied" })

            let tablet = try await Self.device(client, token: token, user: reps[0], clock: clock, in: directory)
            #expect(try await tablet.record("visits", visit.id)?.fields["status"]?.value == .state(StateValue("in_progress")))
            clock.advance(by: 900_000)
            _ = try await phone.checkOut(visit: visit.id, fix: Geofence.Fix(coordinate: visit.location!, accuracyMeters: 10, deviceTime: Int64(clock.now())))
            try await Self.sync(client, phone, token: token)
            // The feed serves what is older than every running transaction in the cluster, so under
            // a loaded test run the change may take a moment to become visible.
            for _ in 0..<50 {
                try await Self.sync(client, tablet, token: token)
                if try await tablet.record("visits", visit.id)?.fields["actual_end"]?.value == .timestamp(Int64(clock.now())) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await tablet.record("visits", visit.id)?.fields["actual_end"]?.value == .timestamp(Int64(clock.now())), "the change reached the other install")

            // Refusals.
            let register = Message.registerRequest(RegisterRequest(installation: RecordID(high: 9, low: 9), appVersion: "1", platform: "t", schemaRevision: 1))
            #expect(try await Self.post(client, "/v1/register", register, token: nil).message == .error(ErrorResponse(code: "unauthorized", message: "send a bearer token")))
            let bad = try await Self.post(client, "/v1/register", register, token: token + "x")
            #expect(bad.status == .unauthorized)
            let expired = try await tokens.issue(user: reps[0], tenant: tenant, role: .rep, lifetime: .seconds(60), now: Date(timeIntervalSinceNow: -3_600))
            let late = try await Self.post(client, "/v1/register", register, token: expired)
            #expect(late.status == .unauthorized)
            if case .error(let error)? = late.message { #expect(error.code == "token_expired") } else { Issue.record("expected token_expired") }
            let malformed = try await Self.post(client, "/v1/pull", bytes: [0x46, 0x53, 1, 0, 4, 0xFF], token: token)
            #expect(malformed.status == .badRequest)
            let unknown = Frame.json(register).printed.replacingOccurrences(of: "\"platform\"", with: "\"colour\": \"teal\",\n    \"platform\"")
            let unknownAnswer = try await Self.post(client, "/v1/register", bytes: Array(unknown.utf8), token: token, json: true)
            if case .error(let error)? = unknownAnswer.message { #expect(error.code == "unknown_field") } else { Issue.record("expected unknown_field") }
            let huge = try await Self.post(client, "/v1/push", bytes: [UInt8](repeating: 0, count: WireLimits.bodyBytesMax + 1), token: token)
            #expect(huge.status == .contentTooLarge)

            // A clock days ahead is refused with the server's clock to rewind to.
            let replica = try #require(try await phone.identity().replica)
            let ahead = Change(id: ChangeID(RecordID(high: 7, low: 7)), table: "customers", record: visit.customerID,
                               operation: .write([FieldWrite("phone", .text("x"))]),
                               version: Version(clock: HLC(milliseconds: clock.now() + 3 * 86_400_000), replica: replica))
            let aheadAnswer = try await Self.post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 7, low: 8), changeSets: [ChangeSet(id: ChangeID(RecordID(high: 7, low: 9)), changes: [ahead])])), token: token)
            #expect(aheadAnswer.status == .conflict)
            if case .error(let error)? = aheadAnswer.message { #expect(error.code == "clock_ahead" && error.serverClock != nil) } else { Issue.record("expected clock_ahead") }

            // A field the role may not write is rejected into quarantine; the rest of the batch applies.
            let version = Version(clock: HLC(milliseconds: clock.now()), replica: replica)
            let forbidden = ChangeSet(id: ChangeID(RecordID(high: 8, low: 1)), changes: [
                Change(id: ChangeID(RecordID(high: 8, low: 2)), table: "customers", record: visit.customerID, operation: .write([FieldWrite("credit_limit_minor", .integer(99_999_999))]), version: version),
                Change(id: ChangeID(RecordID(high: 8, low: 3)), table: "customers", record: visit.customerID, operation: .write([FieldWrite("phone", .text("+1-212-555-0177"))]), version: version),
            ])
            let pushed = try await Self.post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 8, low: 4), changeSets: [forbidden])), token: token)
            guard case .pushResponse(let outcomes)? = pushed.message else { throw TestFailure("push: \(pushed.status)") }
            #expect(outcomes.outcomes.map(\.result) == [.rejected, .applied])
            #expect(outcomes.outcomes.first?.reason == "forbidden_field")
            #expect(outcomes.outcomes.first?.serverState != nil)
            let replayed = try await Self.post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 8, low: 4), changeSets: [forbidden])), token: token)
            #expect(replayed.message == .pushResponse(PushResponse(batch: RecordID(high: 8, low: 4), serverClock: (replayed.message.flatMap { if case .pushResponse(let r) = $0 { r.serverClock } else { nil } })!, outcomes: outcomes.outcomes)))

            // Another territory's customer cannot be written by guessing its id.
            let customers = try #require(data["customers"])
            let territoryColumn = customers.columns.firstIndex(of: "territory_id")!
            let mine = try #require(customers.rows.first { RecordID($0[0]!) == visit.customerID })[territoryColumn]
            let theirs = RecordID(try #require(customers.rows.first { $0[territoryColumn] != mine })[0]!)!
            let guessed = ChangeSet(id: ChangeID(RecordID(high: 8, low: 5)), changes: [
                Change(id: ChangeID(RecordID(high: 8, low: 6)), table: "customers", record: theirs, operation: .write([FieldWrite("phone", .text("guessed"))]), version: version),
            ])
            let guessAnswer = try await Self.post(client, "/v1/push", .pushRequest(PushRequest(batch: RecordID(high: 8, low: 7), changeSets: [guessed])), token: token)
            guard case .pushResponse(let guessOutcomes)? = guessAnswer.message else { throw TestFailure("push: \(guessAnswer.status)") }
            #expect(guessOutcomes.outcomes.map(\.reason) == ["forbidden_record"])

            // Another territory's bucket is not served.
            let territories = try #require(data["territories"]).rows.map { $0[0]! }
            let foreign = try await Self.post(client, "/v1/pull", .pullRequest(PullRequest(cursors: territories.map { BucketCursor(bucket: "territory:\($0)", sequence: 0) })), token: token)
            guard case .pullResponse(let answer)? = foreign.message else { throw TestFailure("pull: \(foreign.status)") }
            #expect(answer.pages.count == 1, "only the rep's own territory")
            #expect(answer.bucketsChanged)
        }
    }
}
