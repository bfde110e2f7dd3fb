import DemoData
import Foundation
import SyncClient
import SyncCore
import FleetSimulation

/// The benchmark run: one private PostgreSQL, the real server on a loopback port, one seeded
/// world; each group adds its figures.
struct Bench: Sendable {
    let scale: Scale
    let groups: Set<BenchGroup>
    let peers: Bool
    /// Server instances the evening rush spreads its phones over.
    var instances = 1

    func run() async throws -> [Figure] {
        Self.log("starting PostgreSQL and the server")
        return try await LoopbackServer.run(seed: 8, connections: 16) { server in
            // The server's clock: Monday 30 November 2026, 06:00 in New York, moving with real time.
            let start = UInt64(BenchWorld.monday.epochSeconds * 1000) + 11 * 3_600_000
            server.clock.set(start)
            let began = ContinuousClock.now
            let ticker = Task {
                while !Task.isCancelled {
                    server.clock.set(start + UInt64(Self.seconds(ContinuousClock.now - began) * 1000))
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
            defer { ticker.cancel() }
            Self.log("seeding the rep's working set (\(scale.name) scale)")
            let world = try await BenchWorld.make(server, scale: scale)
            let result: Result<[Figure], any Error>
            do {
                result = .success(try await measure(world))
            } catch {
                result = .failure(error)
            }
            // The phones are released once `measure` returns; their files go when SQLite has let go of them.
            await ScratchDirectory.remove(world.directory)
            return try result.get()
        }
    }

    /// Every selected group, against `world`.
    func measure(_ world: BenchWorld) async throws -> [Figure] {
        Self.log("\(world.seededRows) rows in the rep's buckets; priming the phone that makes the change mix")
        let phone = try await world.phone("mix")
        try await phone.client.sync()
        let (mixA, mixB) = try await ChangeMix.make(on: phone, visits: 2 * scale.mixVisits, products: world.products)
        Self.log("change mix: \(mixA.changes) + \(mixB.changes) changes in \(mixA.changeSets.count) + \(mixB.changeSets.count) change sets")

        var figures: [Figure] = []
        if groups.contains(.apply) { figures += try await deviceApply(mixA, world) }
        if groups.contains(.sqlite) { figures += try await sqliteLayer(mixA, world) }
        if groups.contains(.wire) || groups.contains(.kernel) {
            let peerFigures = peers ? PeerEngines.measure(mixA, world: world) : .unavailable("skipped (--no-peers)")
            if groups.contains(.wire) { figures += try wireSize(mixA, peers: peerFigures) }
            if groups.contains(.kernel) { figures += mergeKernel(mixA, peers: peerFigures) }
        }
        if groups.contains(.ingest) { figures += try await serverIngest(mixA, mixB, phone: phone, world) }
        if groups.contains(.priming) { figures += try await priming(world) }
        if groups.contains(.window) { figures += try await phoneWindow(world) }
        if groups.contains(.roundtrip) { figures += try await roundTrips(phone, world) }
        if groups.contains(.capacity) { figures += try await capacity(world) }
        if groups.contains(.rush) { figures += try await eveningRush(world) }
        if groups.contains(.dispatch) { figures += try await dispatch(world) }
        if groups.contains(.imports) { figures += try await imports(world) }
        return figures
    }

    /// Progress, on standard error.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data("fieldsync-bench: \(line)\n".utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `body` and returns how long it took, in seconds.
    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - start)
    }

    /// The `q`-quantile (0…1) of `values`, by the nearest-rank method.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
