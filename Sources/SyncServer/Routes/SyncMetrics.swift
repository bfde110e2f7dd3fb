import Hummingbird
import Prometheus

/// The server's metrics, served at `GET /metrics` in Prometheus' text format: requests, changes by
/// outcome, conflicts, errors by code, and latency per route.
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

    func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
        }
    }
}
