import DemoData
import Foundation
import SyncTesting
import SyncWire
import Testing

/// `SyncProtocol/` is enough for a stranger (issue 15): `SyncProtocol/examples/rep_day.py`, a client
/// in another language written from the spec alone (Python's standard library, the JSON form),
/// does a rep's day against `fieldsync-server dev`: check in, an order with lines submitted, a
/// payment, the visit's task done, check out and complete; every change applied, and the server's
/// pricing and routing back through the feed.
@Suite("Example client")
struct ExampleClientTests {
    @Test("a client written from the spec alone does a rep's day", .timeLimit(.minutes(30)))
    func repDay() async throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-example-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try DevServer.start(in: directory)
        defer { server.stop() }
        let (status, text) = try run(URL(fileURLWithPath: "/usr/bin/env"), [
            "python3", Fixtures.directory.deletingLastPathComponent().appendingPathComponent("SyncProtocol/examples/rep_day.py").path,
            "--url", server.url.absoluteString, "--token", try #require(server.tokens["rep"]),
        ])
        #expect(status == 0, "\(text)")
        guard case .object(let members) = try JSONValue.parse(Array(text.utf8)) else { Issue.record("not JSON: \(text)"); return }
        let answer = Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) })
        #expect(answer["rejected"] == .array([]))
        #expect(answer["visit"] == .string("completed"))
        #expect(answer["changes"] == .number("10"))
    }
}
