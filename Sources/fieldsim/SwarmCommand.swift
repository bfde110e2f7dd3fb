import ArgumentParser
import Foundation
import FleetSimulation
import SyncWire

/// `fieldsim swarm`: a fleet through simulated working days under faults, and the verdict.
struct SwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm",
        abstract: "Run a fleet of phones through simulated days under faults, then reconcile every phone against the server.",
        discussion: """
            By default the run is deterministic: an in-process server on a private PostgreSQL, a simulated clock, the phones
            one after another; the same seed gives the same final state (its digest is printed). With --http the phones speak
            HTTP to the real server, started on a loopback port on the same simulated clock (the server restart is then not
            injected). A server elsewhere runs on the real clock and cannot be driven through simulated days.
            Faults: all, none, or a comma-separated list of \(SwarmFault.allCases.map(\.name).joined(separator: ", ")).
            Exit status: 0 converged; 1 a violation (the command to replay the seed is printed); 64 a usage error.
            """
    )

    @Option(help: "How many phones (a technician in ten, the rest reps).") var devices = 200
    @Option(help: "How many working days, from Monday 30 November 2026.") var days = 3
    @Option(help: "The seed of every choice.") var seed: UInt64 = 1
    @Option(help: "The faults to inject: all, none, or a list.") var faults = "all"
    @Option(help: "Visits planned for each rep each day (1 to 8).") var visits = 4
    @Flag(help: "Speak HTTP to the real server on a loopback port instead of calling it in-process.") var http = false
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard (1...2_000).contains(devices), (1...30).contains(days) else { throw ValidationError("--devices 1...2000 and --days 1...30") }
        _ = try SwarmFault.parse(faults)
    }

    func run() async throws {
        var chosen = try SwarmFault.parse(faults)
        if http { chosen.subtract([.serverRestart, .postgresRestart]) }  // the swarm does not own a server it reaches over HTTP
        let terminal = isatty(STDERR_FILENO) != 0
        var configuration = Swarm.Configuration(devices: devices, days: days, seed: seed, faults: chosen, visitsPerRep: visits)
        let started = ContinuousClock.now
        if terminal || !json {
            configuration.progress = { line in
                let seconds = (ContinuousClock.now - started).components.seconds
                FileHandle.standardError.write(Data("  [\(seconds) s] \(line)\n".utf8))
            }
        }
        let report: Swarm.Report
        if http {
            let configuration = configuration
            report = try await LoopbackServer.run(seed: seed) { server in try await Swarm(configuration.over(server)).run() }
        } else {
            report = try await Swarm(configuration).run()
        }
        if json {
            print(report.json.printed)
        } else {
            print("""
                \(devices) phones, \(days) days, seed \(seed), faults: \(chosen.isEmpty ? "none" : chosen.map(\.name).sorted().joined(separator: ", "))
                changes made \(report.changes); requests \(report.requests) (\(report.retries) retried); flagged \(report.flagged); quarantined \(report.quarantined); conflicts \(report.conflicts)
                faults injected: \(report.injected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                verdict: \(report.converged ? "converged" : "NOT converged") — divergent devices \(report.divergentDevices), lost writes \(report.lostWrites), duplicate applications \(report.duplicateApplications), rows out of scope \(report.outOfScopeRows), rows past the window \(report.heldOutsideWindow), window errors \(report.windowErrors) (\(report.retiredRows) rows retired)
                attachments \(report.attachments): bytes missing or wrong \(report.missingBlobs), still pending \(report.pendingAttachments)
                dispatch: \(report.dispatched) assigned automatically, \(report.dispatchWaiting) waiting, \(report.dispatchErrors) broken promises; maintenance \(report.maintenanceWorkOrders) work orders (\(report.meterWorkOrders) by meter, from \(report.meterReadings) readings)
                ERP: \(report.imported) records imported, \(report.erpExported) orders exported, \(report.erpInvoiced) invoices answered, \(report.pricedFromNewList) orders priced from the list that took over, \(report.erpErrors) errors
                planning: \(report.weekPlansApproved) weekly plans approved (\(report.weekPlanVisits) visits), \(report.scheduledVisits) recurring visits, \(report.shelfCounts) shelf counts, \(report.typedAnswers) typed answers, \(report.reopenedConfirmed) of \(report.ordersReopened) reopened orders confirmed, \(report.planningErrors) errors
                state digest \(report.digest)
                """)
            for line in report.details { print("  \(line)") }
        }
        if !report.converged {
            let replay = "swift run fieldsim swarm --devices \(devices) --days \(days) --seed \(seed) --faults \(faults) --visits \(visits)\(http ? " --http" : "")"
            FileHandle.standardError.write(Data("Replay: \(replay)\n".utf8))
            throw ExitCode(CLIError.Kind.verdict.rawValue)
        }
    }
}
