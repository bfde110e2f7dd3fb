import AsyncHTTPClient
import DemoData
import Foundation
import NIOCore
import NIOHTTP1
import SyncCore
import SyncTesting
import SyncWire
import Testing

/// Issue 14, defense in depth: a change set that stops the process — the way an arithmetic trap
/// does — is judged alone on its next arrival and refused if it stops the process again, so the
/// phone's retries cannot keep the server down and the rest of its outbox goes through.
@Suite("Poison pushes")
struct PoisonPushTests {
    @Test("a change set that kills the server twice is refused on the third arrival; the others apply", .timeLimit(.minutes(30)))
    func poisonRefused() async throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-poison-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let trap = "trap-\(UUID().uuidString.prefix(8))"
        let environment = ["FIELDSYNC_TEST_TRAP_TEXT": trap]
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var server = try DevServer.start(in: directory, environment: environment)
        do {
            let token = try #require(server.tokens["rep"])
            let rep = try #require(Self.subject(of: token))
            let data = try DemoDataSet(contentsOf: Fixtures.directory.appendingPathComponent("demo"))
            let territory = try #require(data["territory_owners"]?.rows.first { $0[1] == rep.uuidString }?[0] ?? nil)
            let customers = try #require(data["customers"])
            let column = try #require(customers.columns.firstIndex(of: "territory_id"))
            let own = customers.rows.filter { $0[column] == territory }.prefix(3).map { RecordID($0[0]!)! }
            try #require(own.count == 3)

            let registered = try await Self.post(http, server, "/v1/register",
                                                 .registerRequest(RegisterRequest(installation: RecordID(high: 7, low: UInt64.random(in: 1...UInt64.max)),
                                                                                  appVersion: "1.0.0", platform: "test", schemaRevision: 1)), token: token)
            guard case .registerResponse(let registration)? = registered else { Issue.record("register: \(String(describing: registered))"); return }
            let stamp = registration.serverClock.milliseconds
            let changeSets = [("+1-212-555-0101", own[0]), (trap, own[1]), ("+1-212-555-0103", own[2])].enumerated().map { index, write in
                ChangeSet(id: ChangeID(RecordID(high: 9, low: UInt64(index) &+ stamp)), changes: [
                    Change(id: ChangeID(RecordID(high: 10, low: UInt64(index) &+ stamp)), table: "customers", record: write.1,
                           operation: .write([FieldWrite("phone", .text(write.0))]),
                           version: Version(clock: HLC(milliseconds: stamp + UInt64(index)), replica: registration.replica)),
                ])
            }
            let push = Message.pushRequest(PushRequest(batch: RecordID(high: 11, low: stamp), changeSets: changeSets))

            // Twice the push stops the process, as the trap would; twice the server is started again.
            for arrival in 1...2 {
                let answer = try? await Self.post(http, server, "/v1/push", push, token: token)
                #expect(answer == nil, "arrival \(arrival) was answered: \(String(describing: answer))")
                server.process.waitUntilExit()
                #expect(server.process.terminationReason == .uncaughtSignal, "arrival \(arrival): the server exited with \(server.process.terminationStatus)")
                server = try DevServer.start(in: directory, environment: environment)
            }
            // The third arrival: the poison is refused, the rest applies, the server lives.
            guard case .pushResponse(let response)? = try await Self.post(http, server, "/v1/push", push, token: token) else {
                Issue.record("the third arrival got no push_response"); server.stop(); try await http.shutdown(); return
            }
            #expect(response.outcomes.map(\.result) == [.applied, .rejected, .applied])
            #expect(response.outcomes[1].reason == "server_fault")
            #expect(server.process.isRunning)
            // A replay gets the same answer, and the server still lives.
            guard case .pushResponse(let replay)? = try await Self.post(http, server, "/v1/push", push, token: token) else {
                Issue.record("the replay got no push_response"); server.stop(); try await http.shutdown(); return
            }
            #expect(replay.outcomes == response.outcomes)
        } catch {
            server.stop()
            try await http.shutdown()
            throw error
        }
        server.stop()
        try await http.shutdown()
    }

    /// The user a token speaks for (its `sub`).
    static func subject(of token: String) -> RecordID? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), case .object(let members) = try? JSONValue.parse(Array(data)),
              case .string(let sub)? = members.first(where: { $0.key == "sub" })?.value else { return nil }
        return RecordID(sub)
    }

    /// Posts `message` as a frame; the decoded answer, or a thrown error when the connection dies.
    static func post(_ http: HTTPClient, _ server: DevServer, _ route: String, _ message: Message, token: String) async throws -> Message? {
        var request = HTTPClientRequest(url: server.url.absoluteString + route)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/vnd.fieldsync.frame")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(bytes: try Frame.encode(message)))
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 24)
        return try? Frame.decode(Array(body.readableBytesView))
    }
}
