import DemoData
import Foundation
import SyncTesting
import Testing

/// Issue 14: every route fuzzed from `SyncProtocol/openapi.yaml` by schemathesis, a spec-driven
/// fuzzer no part of FieldSync wrote, against `fieldsync-server dev` running as its own process:
/// with each role's token, no answer may be a 5xx, every status, content type and body must be
/// the one `openapi.yaml` documents, and the process must outlive it all.
///
/// schemathesis comes from PyPI: `.ci/run` installs it into `.build/fuzz-venv`; elsewhere set
/// `FIELDSYNC_SCHEMATHESIS` to its path or put it on `PATH`. `FIELDSYNC_FUZZ_EXAMPLES` sets the
/// examples per operation (default 10; the run is seeded, so a failure replays).
@Suite("OpenAPI fuzzing")
struct OpenAPIFuzzTests {
    static let root = Fixtures.directory.deletingLastPathComponent()

    /// The schemathesis executable, if one can be found.
    static var schemathesis: String? {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [String] = [environment["FIELDSYNC_SCHEMATHESIS"], root.appendingPathComponent(".build/fuzz-venv/bin/schemathesis").path].compactMap { $0 }
            + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/schemathesis" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("schemathesis finds no 5xx and no undocumented answer on any operation, for any role, and the server stays up", .timeLimit(.minutes(30)))
    func noServerErrors() async throws {
        let executable = try #require(Self.schemathesis, "schemathesis is not installed: run .ci/run, or pip install schemathesis==4.32.5")
        let examples = ProcessInfo.processInfo.environment["FIELDSYNC_FUZZ_EXAMPLES"] ?? "10"
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-fuzz-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A budget large enough that the fuzzer reaches the routes, not only the rate limiter.
        let server = try DevServer.start(in: directory, arguments: ["--requests-per-second", "100000"])
        defer { server.stop() }
        for (index, role) in ["rep", "technician", "dispatcher", "manager"].enumerated() {
            let token = try #require(server.tokens[role])
            let (status, text) = try run(URL(fileURLWithPath: executable), [
                "run", Self.root.appendingPathComponent("SyncProtocol/openapi.yaml").path, "--url", server.url.absoluteString,
                "-H", "Authorization: Bearer \(token)", "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples", examples, "--seed", String(index + 1), "--generation-allow-x00", "true", "--request-timeout", "30", "--no-color",
            ], in: directory)
            #expect(status == 0, "schemathesis as \(role) (seed \(index + 1)): \(text.suffix(4_000))")
            #expect(text.contains("passed"), "\(text.suffix(2_000))")
            #expect(server.process.isRunning, "the server died under the fuzzer as \(role)")
        }
    }
}
