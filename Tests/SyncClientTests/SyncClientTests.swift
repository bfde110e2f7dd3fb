import FieldRules
import FleetSimulation
import DemoData
import DeviceStore
import FieldModel
import OfficeStore
import Foundation
import PostgresDriver
import SyncEngine
import SyncClient
import SyncCore
import SyncServer
import SyncTesting
import SyncWire
import Synchronization
import Testing

/// `SyncClient` against the real server code in-process: retries, re-stamping, tokens.
@Suite("SyncClient")
struct SyncClientTests {
    /// Delivers, or loses a request before the server sees it, or loses the answer after the server committed.
    final class ScriptedTransport: SyncTransport {
        /// `answer` stands for the server with a status and error code, without reaching it;
        /// `crash` delivers, then the app dies before it hears the answer.
        enum Fate: Equatable { case deliver, loseRequest, loseResponse, crash, answer(Int, String) }
        let inner: InProcessTransport
        let script: Mutex<[String: [Fate]]>
        let sent = Mutex<[String]>([])
        struct Lost: Error {}

        init(_ inner: InProcessTransport, script: [String: [Fate]] = [:]) {
            self.inner = inner
            self.script = Mutex(script)
        }

        func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
            sent.withLock { $0.append(route) }
            let fate = script.withLock { script -> Fate in
                guard var fates = script[route], !fates.isEmpty else { return .deliver }
                let fate = fates.removeFirst()
                script[route] = fates
                return fate
            }
            if fate == .loseRequest { throw Lost() }
            let response = try await inner.send(message, to: route, token: token)
            if fate == .loseResponse { throw Lost() }
            return response
        }

        /// Blob requests are scripted by method: `HEAD`, `PUT`, `GET`.
        func blob(_ request: BlobRequest, token: String) async throws -> BlobResponse {
            sent.withLock { $0.append(request.method) }
            let fate = script.withLock { script -> Fate in
                guard var fates = script[request.method], !fates.isEmpty else { return .deliver }
                let fate = fates.removeFirst()
                script[request.method] = fates
                return fate
            }
            switch fate {
            case .loseRequest: throw Lost()
            case .answer(let status, let code):
                return BlobResponse(status: status, body: Array(#"{"error": "\#(code)", "message": "scripted"}"#.utf8), mediaType: "application/json")
            default: break
            }
            let response = try await inner.blob(request, token: token)
            if fate == .loseResponse { throw Lost() }
            if fate == .crash { throw CancellationError() }
            return response
        }

        func count(_ route: String) -> Int { sent.withLock { $0.filter { $0 == route }.count } }
    }

    struct World {
        let pool: PostgresPool
        let service: SyncService
        let tokens: TokenAuthority
        let clock: ManualWallClock
        let tenant: RecordID
        let rep: RecordID
        let directory: URL
    }

    static func world(_ name: String) async throws -> World {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name)))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        let tenant = try #require(data.tenant)
        let rep = RecordID(try #require(data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let clock = ManualWallClock(1_796_050_800_000)  // Monday 2026-11-30 09:00 in New York
        let tokens = try await TokenAuthority(secret: String(repeating: "k", count: 40))
        let store = SyncStore(pool: pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: clock))
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-client-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return World(pool: pool, service: SyncService(store: store, tokens: tokens, wallClock: clock), tokens: tokens, clock: clock, tenant: tenant, rep: rep,
                     directory: directory)
    }

    static func phone(_ world: World, clock: any WallClock, transport: any SyncTransport, token: String? = nil, seed: UInt64 = 7) async throws -> (DeviceStore, SyncClient) {
        let store = try await DeviceStore.open(path: world.directory.appendingPathComponent("\(UUID().uuidString.prefix(8)).sqlite").path,
                                               options: .init(wallClock: clock, seed: seed))
        var options = SyncClient.Options()
        options.sleep = { _ in }
        var issued = token
        if issued == nil { issued = try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep) }
        let credentials = SyncClient.Credentials(token: issued!, user: world.rep, role: .rep)
        return (store, SyncClient(store: store, transport: transport, credentials: credentials, options: options))
    }

    @Test("a lost request and a lost response are retried; the retried push is the same batch and applies once")
    func retries() async throws {
        let world = try await Self.world("client-retries")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let transport = ScriptedTransport(InProcessTransport(world.service), script: ["/v1/push": [.loseRequest, .loseResponse]])
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: transport)
        _ = try await client.sync()
        let visit = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first)
        _ = try await store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(world.clock.now())))
        let report = try await client.sync()
        #expect(report.retries == 2)
        #expect(try await store.outboxCount() == 0)
        #expect(transport.sent.withLock { $0.filter { $0 == "/v1/push" }.count } == 3)
        let outcomes = try await store.outcomes()
        #expect(outcomes.count == 2)  // the check-in event and the visit's move
        let applied = try await world.pool.query("SELECT count(*) FROM geo_events WHERE visit_id = $1", [visit.id.uuidString])[0].read(0, as: Int.self)
        #expect(applied == 1)
    }

    @Test("the phone's window: a visit completed 31 days ago leaves the phone at its next sync; opening it fetches it with its check-in; two days later it is released")
    func phoneWindow() async throws {
        let world = try await Self.world("client-window")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let phoneClock = ManualWallClock(world.clock.now())
        let (store, client) = try await Self.phone(world, clock: phoneClock, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let visit = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first)
        let fix = Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(phoneClock.now()))
        _ = try await store.checkIn(visit: visit.id, fix: fix)
        _ = try await store.completeVisit(visit: visit.id)
        _ = try await client.sync()
        let ref = RecordRef(table: "visits", record: visit.id)
        #expect(try await store.heldRows().contains(ref))

        let month: Int64 = 31 * 86_400_000
        world.clock.advance(by: month)
        phoneClock.advance(by: month)
        let server = SyncStore(pool: world.pool, domain: FieldSalesDomain(), clock: ServerClock(wallClock: world.clock))
        #expect(try await server.retireAged(at: Int64(world.clock.now())) > 0)
        _ = try await client.sync()
        #expect(try await store.record("visits", visit.id) == nil, "past its window, the visit has left the phone")
        let held = try await store.heldRows()
        #expect(!held.contains(ref))

        let fetched = try await client.fetch([ref])
        #expect(fetched.missing.isEmpty)
        #expect(fetched.snapshots.contains { $0.ref.table == "geo_events" }, "with its check-in")
        #expect(try await store.record("visits", visit.id)?.state()?.name == "completed")
        _ = try await client.sync()
        #expect(try await store.record("visits", visit.id) != nil, "kept through a sync the day it was fetched")
        phoneClock.advance(by: 2 * 86_400_000)
        world.clock.advance(by: 2 * 86_400_000)
        _ = try await client.sync()
        #expect(try await store.record("visits", visit.id) == nil, "released a day after it was fetched")
        #expect(try await store.fetchedRows().isEmpty)
    }

    @Test("a phone a day ahead is told clock_ahead, re-stamps its unacknowledged changes and pushes again")
    func clockAhead() async throws {
        let world = try await Self.world("client-clock")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let ahead = ManualWallClock(world.clock.now() + 86_400_000)
        let (store, client) = try await Self.phone(world, clock: ahead, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let customer = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first).customerID
        _ = try await store.correctCustomer(customer, ["phone": .text("+1-212-555-0199")])
        let report = try await client.sync()
        #expect(report.restamps >= 1)
        #expect(try await store.outboxCount() == 0)
        let clock = try await world.pool.query("SELECT phone__clock FROM customers WHERE id = $1", [customer.uuidString])[0].read(0, as: Int64.self)
        #expect(HLC(rawValue: UInt64(clock)).milliseconds <= world.clock.now() + 300_000, "the stored version is within the drift the server allows")
    }

    @Test("an expired token ends the sync with token_expired, the outbox waits, and a new token resumes")
    func expiredToken() async throws {
        let world = try await Self.world("client-token")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let customer = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first).customerID
        _ = try await store.correctCustomer(customer, ["phone": .text("+1-212-555-0142")])
        await client.setToken(try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep, lifetime: .seconds(60), now: Date().addingTimeInterval(-3_600)))
        await #expect { try await client.sync() } throws: { ($0 as? SyncClientError)?.code == .tokenExpired }
        #expect(try await store.outboxCount() == 1)
        await client.setToken(try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep))
        _ = try await client.sync()
        #expect(try await store.outboxCount() == 0)
    }

    // MARK: Attachments

    /// A phone with a check-in photo in its outbox, and the bytes.
    static func phoneWithPhoto(_ world: World, _ transport: ScriptedTransport, seed: UInt64 = 7, visit index: Int = 0) async throws -> (DeviceStore, SyncClient, AttachmentFile) {
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: transport, seed: seed)
        _ = try await client.sync()
        let visits = try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000)
        let visit = try #require(visits.dropFirst(index).first)
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let photo = AttachmentFile(bytes: bytes, mediaType: "image/png", kind: .photo)
        _ = try await store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(world.clock.now())),
                                    photos: [photo])
        return (store, client, photo)
    }

    func storedOnServer(_ world: World, _ photo: AttachmentFile) async throws -> Bool {
        try await world.pool.query("SELECT count(*) FROM blobs WHERE sha256 = $1 AND encode(sha256(bytes), 'hex') = $1", [photo.sha256])[0].read(0, as: Int.self) == 1
    }

    @Test("an upload cut by the app's death after the server stored it is never sent again: the next sync asks, and the server knows the hash")
    func uploadResumesWithoutResending() async throws {
        let world = try await Self.world("client-upload-crash")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let transport = ScriptedTransport(InProcessTransport(world.service), script: ["PUT": [.crash]])
        let (store, client, photo) = try await Self.phoneWithPhoto(world, transport)
        await #expect(throws: CancellationError.self) { try await client.sync() }
        #expect(try await storedOnServer(world, photo), "the server stored the bytes before the app died")
        #expect(try await store.dueUploads().count == 1, "the phone did not hear so")
        // The app starts again.
        let restarted = SyncClient(store: store, transport: transport, credentials: .init(token: try await world.tokens.issue(user: world.rep, tenant: world.tenant, role: .rep),
                                                                                           user: world.rep, role: .rep))
        let report = try await restarted.sync()
        #expect(report.alreadyUploaded == 1 && report.uploaded == 0)
        #expect(transport.count("PUT") == 1, "the bytes went up once")
        #expect(try await store.dueUploads().isEmpty)
        #expect(try await store.attachments().map(\.status) == [.uploaded])
        let state = try await world.pool.query("SELECT upload_state FROM attachments WHERE sha256 = $1", [photo.sha256])[0].read(0, as: String.self)
        #expect(state == "complete")
    }

    @Test("uploads retry a lost request, a 503 and a rate limit; a refusal for good is kept with its reason; a full quota waits an hour")
    func uploadFailures() async throws {
        let world = try await Self.world("client-upload-failures")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let transport = ScriptedTransport(InProcessTransport(world.service),
                                          script: ["HEAD": [.loseRequest], "PUT": [.answer(503, "unavailable"), .answer(429, "rate_limited"), .loseResponse]])
        let (_, client, photo) = try await Self.phoneWithPhoto(world, transport)
        let report = try await client.sync()
        #expect(report.uploaded == 0 && report.alreadyUploaded == 1, "the lost answer's bytes were stored; the retry asked first")
        #expect(report.retries >= 4)
        #expect(try await storedOnServer(world, photo))

        // Refused for good: kept on the phone with the reason, not sent again.
        let refusing = ScriptedTransport(InProcessTransport(world.service), script: ["PUT": [.answer(413, "body_too_large")]])
        let (store2, client2, _) = try await Self.phoneWithPhoto(world, refusing, seed: 8, visit: 1)
        let other: [UInt8] = Array("%PDF-1.7 another document".utf8)
        let visit = try #require(try await store2.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).dropFirst(2).first)
        _ = try await store2.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: try #require(visit.location), accuracyMeters: 10, deviceTime: Int64(world.clock.now())),
                                     photos: [AttachmentFile(bytes: other, mediaType: "application/pdf", kind: .photo)])
        let refused = try await client2.sync()
        #expect(refused.uploadsRefused == 1 && refused.alreadyUploaded == 1)
        let statuses = try await store2.attachments().map(\.status)
        #expect(statuses.contains { if case .refused(let reason) = $0 { reason.hasPrefix("body_too_large") } else { false } })
        _ = try await client2.sync()
        #expect(refusing.count("PUT") == 1, "a refusal for good is not retried")

        // A full quota: put off for an hour of the phone's clock.
        let full = ScriptedTransport(InProcessTransport(world.service), script: ["PUT": [.answer(429, "quota_exceeded")]])
        let clock = ManualWallClock(world.clock.now())
        let (store3, client3) = try await Self.phone(world, clock: clock, transport: full, seed: 9)
        _ = try await client3.sync()
        let third = try #require(try await store3.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).dropFirst(3).first)
        _ = try await store3.checkIn(visit: third.id, fix: Geofence.Fix(coordinate: try #require(third.location), accuracyMeters: 10, deviceTime: Int64(clock.now())),
                                     photos: [AttachmentFile(bytes: Array("%PDF-1.7 a third document".utf8), mediaType: "application/pdf", kind: .photo)])
        #expect(try await client3.sync().uploadsPutOff == 1)
        _ = try await client3.sync()
        #expect(full.count("PUT") == 1, "not before the hour is up")
        clock.set(clock.now() + 3_600_001)
        #expect(try await client3.sync().uploaded == 1)
    }

    // MARK: Live queries

    @Test("a live query on the phone sees the office's reschedule arrive during a sync, while the rep acts at the same time")
    func liveQueryDuringSync() async throws {
        let world = try await Self.world("client-live")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: InProcessTransport(world.service))
        _ = try await client.sync()
        let day = DeviceQuery.visits(from: 1_796_014_800_000, to: 1_796_101_200_000)
        let visits = try await store.read(day)
        let moved = try #require(visits.last), other = try #require(visits.first)
        let newStart = try #require(moved.plannedStart) + 1_800_000
        let watcher = Task {
            var seen = 0
            for try await list in store.observe(day) {
                seen += 1
                if list.first(where: { $0.id == moved.id })?.plannedStart == newStart { return seen }
            }
            return seen
        }
        let dispatcher = RecordID(DemoGenerator().generate()["users"]!.rows.first { $0[2] == "dispatcher" }![0]!)!
        try await world.service.store.rescheduleVisit(moved.id, from: newStart, to: newStart + 1_800_000,
                                                      by: .init(user: dispatcher, role: .dispatcher, tenant: world.tenant))
        async let synced = client.sync()
        _ = try await store.correctCustomer(other.customerID, ["phone": .text("+1-212-555-0177")])
        _ = try await synced
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            watcher.cancel()
        }
        let seen = try await watcher.value
        timeout.cancel()
        #expect(try await store.read(day).first { $0.id == moved.id }?.plannedStart == newStart)
        #expect(seen >= 2, "the first value, then the reschedule")
    }

    @Test("the sync status: idle after a sync with its times; offline with the reason and the outbox counted when no server answers; the flagged change the rep must see")
    func syncStatus() async throws {
        let world = try await Self.world("client-status")
        defer { try? FileManager.default.removeItem(at: world.directory) }
        let transport = ScriptedTransport(InProcessTransport(world.service))
        let (store, client) = try await Self.phone(world, clock: world.clock, transport: transport)
        let before = try await store.syncStatus()
        #expect(before.activity == .idle && before.reachable == nil && before.lastPushAt == nil)
        _ = try await client.sync()
        let synced = try await store.syncStatus()
        #expect(synced.activity == .idle && synced.reachable == true && synced.lastError == nil)
        #expect(synced.lastPushAt == Int64(world.clock.now()) && synced.lastPullAt == Int64(world.clock.now()))

        // A check-in 2 km from the store: the server flags it, and the status says so.
        let visit = try #require(try await store.visits(from: 1_796_014_800_000, to: 1_796_101_200_000).first)
        var far = try #require(visit.location)
        far.latitudeE6 += 18_000
        _ = try await store.checkIn(visit: visit.id, fix: Geofence.Fix(coordinate: far, accuracyMeters: 10, deviceTime: Int64(world.clock.now())))
        #expect(try await store.syncStatus().pendingChangeSets == 1)
        _ = try await client.sync()
        let flagged = try await store.syncStatus()
        #expect(flagged.pendingChangeSets == 0)
        #expect(flagged.attention?.result == "applied_with_exception" && flagged.attention?.findings.contains("outside_geofence") == true)

        // No server: offline, with the reason, the outbox kept.
        _ = try await store.correctCustomer(visit.customerID, ["phone": .text("+1-212-555-0123")])
        transport.script.withLock { $0["/v1/push"] = Array(repeating: .loseRequest, count: 6) }
        await #expect(throws: SyncClientError.self) { try await client.sync() }
        let offline = try await store.syncStatus()
        #expect(offline.reachable == false && offline.activity == .idle && offline.pendingChangeSets == 1)
        #expect(offline.lastError?.contains("offline") == true)
        #expect(offline.lastPushAt == synced.lastPushAt, "the last successful push stays")
    }
}
