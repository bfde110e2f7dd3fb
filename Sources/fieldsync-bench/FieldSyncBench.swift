import ArgumentParser
import Foundation

/// `fieldsync-bench`: FieldSync measured against raw SQLite, raw PostgreSQL and two other CRDT
/// engines (Loro and Yrs), every baseline in the same run on the same machine (issue 8).
///
/// Run it from a release build: `swift run -c release fieldsync-bench`. Results go to standard
/// output (a table, or JSON with `--json`); progress goes to standard error.
@main
struct FieldSyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-bench",
        abstract: "Measure FieldSync against raw SQLite, raw PostgreSQL, Loro and Yrs, in one run.",
        discussion: """
            Starts a private PostgreSQL and the real server on a loopback port, seeds a realistic rep, and measures:
            device apply, server ingest (store layer and HTTP), priming, incremental round trips, server capacity,
            the evening rush, wire size and the merge kernel. Each figure has its baseline measured in the same run and the ratio.
            The Loro and Yrs baselines need Python 3 and PyPI (Benchmarks/peers/run.sh installs them into
            .build/peers-venv); without them those figures say why they are missing.
            """,
        subcommands: [Run.self, PrimeChild.self],
        defaultSubcommand: Run.self
    )
}

extension FieldSyncBench {
    /// The benchmark run.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the benchmarks (the default).")

        @Flag(help: "Tiny sizes, to prove the suite runs (under a minute).")
        var quick = false

        @Flag(help: "Print one JSON array of figures (name, value, baseline, ratio, unit, target, met, note).")
        var json = false

        @Option(help: "Only these groups, comma-separated: \(BenchGroup.allCases.map(\.rawValue).joined(separator: ",")).")
        var only: String?

        @Flag(help: "Skip the Loro and Yrs baselines (no Python, no PyPI).")
        var noPeers = false

        @Option(help: "Server instances the evening rush spreads its phones over (more than one starts `fieldsync-server serve` processes from this build on the same database).")
        var instances = 1

        @Option(help: "Seconds over which the evening rush's phones arrive (default: 600, or 5 with --quick); a short window measures how fast the server drains a queue.")
        var rushWindow: Double?

        func run() async throws {
            var groups = Set(BenchGroup.allCases)
            if let only {
                groups = []
                for name in only.split(separator: ",") {
                    guard let group = BenchGroup(rawValue: String(name)) else {
                        throw ValidationError("unknown group '\(name)'; the groups are \(BenchGroup.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    groups.insert(group)
                }
            }
            var scale = quick ? Scale.quick : Scale.full
            if let rushWindow {
                guard rushWindow >= 0 else { throw ValidationError("--rush-window is seconds, at least 0") }
                scale.rushWindow = rushWindow
            }
            let started = ContinuousClock.now
            guard instances >= 1 else { throw ValidationError("--instances is at least 1") }
            let figures = try await Bench(scale: scale, groups: groups, peers: !noPeers, instances: instances).run()
            if json {
                print(Figure.json(figures))
            } else {
                print(Figure.table(figures))
                print("\n\(scale.name) run, \(Bench.seconds(ContinuousClock.now - started).formatted(.number.precision(.fractionLength(0)))) s; \(Machine.describe())")
            }
        }
    }
}

/// A group of figures, selectable with `--only`.
enum BenchGroup: String, CaseIterable, Sendable {
    case apply, sqlite, ingest, priming, window, roundtrip, capacity, rush, wire, kernel, dispatch, imports
}
