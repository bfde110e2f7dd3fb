import ArgumentParser
import AsyncHTTPClient
import DemoData
import Foundation
import Logging
import PostgresDriver
import SyncEngine
import ServiceLifecycle
import UnixSignals
import SyncClientHTTP
import SyncCore
import SyncServer
import FieldModel
import FleetSimulation
import Synchronization

/// `fieldsim demo`: the whole product on one machine, in about a minute. A private PostgreSQL,
/// the real server on a loopback port, and a fleet of phones working a simulated week over real
/// HTTP with a few faults — the swarm's fleet (`Swarm`) — then a reconciliation of every phone
/// against the server.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a throwaway server and run a fleet of phones through a simulated week over HTTP.",
        discussion: """
            Nothing to set up and nothing left behind: the PostgreSQL cluster, the server and the \
            phones' stores live under temporary directories that are removed at the end. Faults: \
            requests that never arrive, responses lost after the server committed, phones offline \
            for a day or two, clocks hours behind and days ahead, visits reassigned and cancelled \
            by the dispatcher. Exits 1 when the reconciliation finds a violation, printing the \
            command that replays the run.
            """
    )

    @Option(help: "How many phones (a technician in ten, the rest reps).")
    var devices = 20

    @Option(help: "How many working days, from Monday 30 November 2026.")
    var days = 5

    @Option(help: "The seed for the faults and the phones' choices.")
    var seed: UInt64 = 20_261_130

    @Flag(help: "Leave the server running on the simulated week when the fleet is done, and print a link to the office console; Ctrl-C ends it.")
    var keep = false

    func validate() throws {
        guard (1...200).contains(devices), (1...10).contains(days) else { throw ValidationError("--devices 1...200 and --days 1...10") }
    }

    func run() async throws {
        let started = ContinuousClock.now
        print("Starting PostgreSQL and the server …")
        var configuration = Swarm.Configuration(devices: devices, days: days, seed: seed,
                                                faults: [.droppedRequest, .droppedResponse, .offline, .clockSkew, .assignmentChange]) { line in
            print("  \(line)")
        }
        configuration.fullCatalog = true
        let fleet = configuration
        let (report, summary) = try await LoopbackServer.run(seed: seed) { server in
            print("FieldSync is serving at \(server.url) (PostgreSQL on a private socket); \(devices) phones, \(days) working days")
            let report = try await Swarm(fleet.over(server)).run()
            let summary = try await Self.summary(server.pool)
            if keep { try await Self.keepServing(server, summary: summary) }
            return (report, summary)
        }
        print("")
        for line in summary { print(line) }
        print("Changes made: \(report.changes); flagged by rules: \(report.flagged); quarantined: \(report.quarantined); conflicts recorded: \(report.conflicts)")
        print("Requests: \(report.requests) (\(report.retries) retried after lost requests or responses); faults: \(report.injected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        print("Bytes on the wire: \(report.bytes / 1024) KiB; sync time p50 \(report.syncP50Milliseconds) ms, p99 \(report.syncP99Milliseconds) ms over \(report.syncs) syncs")
        print("")
        print("Verdict: \(report.converged ? "converged" : "NOT converged") — divergent phones \(report.divergentDevices), lost writes \(report.lostWrites), duplicate applications \(report.duplicateApplications), rows out of scope \(report.outOfScopeRows)")
        for line in report.details { print("  \(line)") }
        print("Finished in \((ContinuousClock.now - started).components.seconds) s; the server, PostgreSQL and every file are gone.")
        if !report.converged {
            print("Replay: swift run fieldsim demo --devices \(devices) --days \(days) --seed \(seed)")
            throw ExitCode(CLIError.Kind.verdict.rawValue)
        }
    }

    /// Prints the week's summary and a console link that signs the demo dispatcher in, then waits
    /// for Ctrl-C (or SIGTERM) with the server running on the simulated week's data, its clock
    /// going on from the week's end in real time.
    static func keepServing(_ server: LoopbackServer, summary: [String]) async throws {
        let data = DemoGenerator().generate()
        guard let tenant = data.tenant, let row = data["users"]?.rows.first(where: { $0[2] == "dispatcher" }), let user = row[0].flatMap({ RecordID($0) }) else {
            throw CLIError(.usage, "the demo data has no dispatcher")
        }
        let token = try await TokenAuthority(secret: server.secret).issue(user: user, tenant: tenant, role: .dispatcher, lifetime: .seconds(7 * 86_400))
        print("")
        for line in summary { print(line) }
        print("")
        print("The server keeps running on the simulated week (its clock goes on from the week's end at the pace of real time).")
        print("Office console, signed in as \(row[3] ?? "the dispatcher"): \(server.url)/console/#token=\(token)")
        print("Press Ctrl-C to stop; the server, PostgreSQL and every file then go.")
        fflush(nil)
        // The simulated clock stood still between the fleet's steps; from here it follows real
        // time, or nothing that waits on it (the rate limits' refill, the live channel) would move.
        let ticking = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let now = ContinuousClock.now
                let elapsed = (now - last).components
                server.clock.advance(by: elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000)
                last = now
            }
        }
        defer { ticking.cancel() }
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
    }

    /// What the week left on the server: visits and orders by status, what waits for the office.
    static func summary(_ pool: PostgresPool) async throws -> [String] {
        func list(_ sql: String) async throws -> String {
            let rows = try await pool.query(sql)
            return rows.isEmpty ? "none" : try rows.map { "\(try $0.read(0, as: String?.self) ?? "none") \(try $0.read(1, as: Int64.self))" }.joined(separator: ", ")
        }
        return [
            "Visits by status: " + (try await list("SELECT status, count(*) FROM visits GROUP BY status ORDER BY count(*) DESC, status")),
            "Orders by status: " + (try await list("SELECT status, count(*) FROM sales_orders GROUP BY status ORDER BY count(*) DESC, status")),
            "Work orders by status: " + (try await list("SELECT status, count(*) FROM work_orders GROUP BY status ORDER BY count(*) DESC, status")),
            "Exceptions and refusals waiting for the office, by rule: "
                + (try await list("SELECT rule, count(*) FROM decisions WHERE review IS NOT NULL GROUP BY rule ORDER BY count(*) DESC, rule")),
        ]
    }
}
