import DemoData
import Foundation
import SyncCore
import SyncTesting
import Testing

/// The example app, run as a user runs it, against `fieldsync-server dev`.
@Suite("rep-day, the example app")
struct RepDayTests {
    @Test("draws the rep's day from a live query after the first sync, with the sync status")
    func draws() throws {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-repday-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try DevServer.start(in: directory)
        defer { server.stop() }
        let data = DemoGenerator().generate()
        let rep = try #require(data["users"]?.rows.first { $0[2] == "rep" }?[0])
        let process = Process()
        process.executableURL = DevServer.built("rep-day")
        process.arguments = ["--server", server.url.absoluteString, "--token", try #require(server.tokens["rep"]), "--user", rep,
                             "--store", directory.appendingPathComponent("phone.sqlite").path, "--date", "2026-11-30", "--screens", "1"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("— My day: 20 visit(s)"), "\(text)")
        #expect(text.contains("sync: idle; 0 to send"), "\(text)")
    }
}
