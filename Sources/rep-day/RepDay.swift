import ArgumentParser
import DeviceStore
import Foundation
import SyncClient
import SyncClientHTTP
import SyncCore

/// An example app: a rep's "my day" screen built on FieldSync's device SDK, as an app developer
/// would wire it. A terminal stands in for the UI; each redraw is what a SwiftUI view would show.
///
/// 1. Open the replica and a sync client (the app's sign-in gives the token, user and role).
/// 2. Sync once at launch, then in the background: again whenever the server has news.
/// 3. Draw the screen from two live queries: the day's visits and the sync status. Each yields
///    when a commit changes it (a pulled page, a local action), and only then.
@main
struct RepDay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rep-day", abstract: "An example app: a rep's day screen on typed reads, live queries and the sync status.")

    @Option(help: "The server, for example http://127.0.0.1:8080.") var server: String
    @Option(help: "The bearer token from the sign-in.") var token: String
    @Option(help: "The signed-in user's id.") var user: String
    @Option(help: "The signed-in user's role.") var role = "rep"
    @Option(help: "The replica's file.") var store = FileManager.default.temporaryDirectory.appendingPathComponent("rep-day.sqlite").path
    @Option(help: "The day to show, YYYY-MM-DD (UTC).") var date: String
    @Option(help: "Redraws before exiting; 0 runs until interrupted.") var screens = 0

    func run() async throws {
        guard let user = RecordID(user) else { throw ValidationError("--user is a UUID") }
        guard let day = ISO8601DateFormatter().date(from: date + "T00:00:00Z") else { throw ValidationError("--date is YYYY-MM-DD") }
        let start = Int64(day.timeIntervalSince1970 * 1000)

        // 1. The replica and its sync client.
        let replica = try await DeviceStore.open(path: store)
        let client = SyncClient(store: replica, transport: HTTPTransport(baseURL: server),
                                credentials: .init(token: token, user: user, role: Role(role)))

        // 2. Sync at launch (a first launch primes the working set), then in the background.
        _ = try? await client.sync()
        let background = Task {
            while !Task.isCancelled {
                _ = try? await client.waitForNews()
                _ = try? await client.sync()
            }
        }
        defer { background.cancel() }

        // 3. The screen, redrawn from two live queries.
        let screen = Screen(limit: screens)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await visits in replica.observe(.visits(from: start, to: start + 86_400_000)) {
                    if await screen.show(visits: visits) { return }
                }
            }
            group.addTask {
                for try await status in replica.observe(.syncStatus) {
                    if await screen.show(status: status) { return }
                }
            }
            // The first task to reach the limit ends the screen.
            try await group.next()
            group.cancelAll()
        }
    }
}

/// What the screen shows, redrawn whenever either live query yields.
actor Screen {
    let limit: Int
    var visits: [DeviceStore.VisitSummary]?
    var status: DeviceStore.SyncStatus?
    var drawn = 0

    init(limit: Int) { self.limit = limit }

    /// Returns whether the screen has drawn its last redraw.
    func show(visits: [DeviceStore.VisitSummary]) -> Bool {
        self.visits = visits
        return draw()
    }

    func show(status: DeviceStore.SyncStatus) -> Bool {
        self.status = status
        return draw()
    }

    private func draw() -> Bool {
        guard let visits, let status else { return false }  // both queries have answered once
        var lines = ["— My day: \(visits.count) visit(s), \(visits.filter { $0.status == "completed" }.count) done —"]
        for visit in visits {
            let time = visit.plannedStart.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(date: .omitted, time: .shortened) } ?? "--:--"
            lines.append("  \(time)  \(visit.customerName)  [\(visit.status)]")
        }
        let sync = status.reachable == false ? "offline" : status.activity.rawValue
        lines.append("  sync: \(sync); \(status.pendingChangeSets) to send, \(status.pendingAttachments) photo(s) to upload")
        if let attention = status.attention { lines.append("  ⚠ \(attention.table): \(attention.reason ?? attention.findings)") }
        print(lines.joined(separator: "\n"))
        drawn += 1
        return limit > 0 && drawn >= limit
    }
}
