import Hummingbird
import PostgresDriver
import Prometheus
import SyncEngine

/// The server's metrics, served at `GET /metrics` in Prometheus' text format: requests, changes by
/// outcome, conflicts, errors by code, latency per route; and, read when scraped, the feed's lag,
/// the devices falling behind and the database pool's use (OPERATIONS.md, "What to alert on").
final class SyncMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let pushes: Counter
    private let pulls: Counter
    private let conflicts: Counter
    private let outcomes: [String: Counter]
    private let latency: [String: DurationHistogram]

    init() {
        pushes = registry.makeCounter(descriptor: Self.name("push_requests", "total", "Push requests answered."))
        pulls = registry.makeCounter(descriptor: Self.name("pull_requests", "total", "Pull requests answered."))
        conflicts = registry.makeCounter(descriptor: Self.name("conflicts", "total", "Concurrent different values met while merging pushed changes."))
        outcomes = Dictionary(uniqueKeysWithValues: ["applied", "applied_with_exception", "rejected"].map { [registry] outcome in
            (outcome, registry.makeCounter(descriptor: Self.name("changes", "total", "Pushed changes by outcome."), labels: [("outcome", outcome)]))
        })
        let buckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)]
        latency = Dictionary(uniqueKeysWithValues: ["register", "push", "pull"].map { [registry] route in
            (route, registry.makeDurationHistogram(descriptor: Self.name("request_duration", "seconds", "Time to answer a sync request."),
                                                   labels: [("route", route)], buckets: buckets))
        })
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "fieldsync", metricName: metric, unitName: unit, helpText: help)
    }

    func pushed(outcomes names: [String], conflicts count: Int) {
        pushes.increment()
        for name in names { outcomes[name]?.increment() }
        conflicts.increment(by: Int64(count))
    }

    func pulled() { pulls.increment() }

    func error(_ code: String) {
        registry.makeCounter(descriptor: Self.name("errors", "total", "Sync requests refused, by error code."), labels: [("code", code)]).increment()
    }

    func observe(_ route: String, _ duration: Duration) { latency[route]?.record(duration) }

    func register(on router: Router<BasicRequestContext>, store: SyncStore? = nil) {
        let feedLag = registry.makeGauge(descriptor: Self.name("feed_lag", "seconds", "Age of the oldest running write transaction: the feed serves nothing newer until it ends."))
        let behind = registry.makeGauge(descriptor: Self.name("devices_behind", "", "Devices not revoked whose latest pull is more than a day old."))
        let pool = Dictionary(uniqueKeysWithValues: ["open", "idle", "waiting", "max"].map { [registry] state in
            (state, registry.makeGauge(descriptor: Self.name("db_pool_connections", "", "The server's database connections: open, idle, callers waiting, the limit."),
                                       labels: [("state", state)]))
        })
        router.get("/metrics") { _, _ in
            if let store {
                // Read when scraped; a database that cannot be asked leaves the last values.
                if let vitals = try? await store.vitals() {
                    feedLag.set(vitals.feedLagSeconds)
                    behind.set(Double(vitals.devicesBehind))
                }
                let usage = await store.pool.usage
                for (state, value) in [("open", usage.open), ("idle", usage.idle), ("waiting", usage.waiting), ("max", usage.max)] { pool[state]?.set(Double(value)) }
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
        }
    }
}
