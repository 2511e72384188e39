import CoreMetrics
import RNNProtocol

/// Requests and their latency per method (swift-metrics; the daemon exports them for
/// Prometheus). Made once per method of the contract, so a request costs two updates and no
/// look-up in the metrics registry.
struct RequestMetrics: Sendable {
    /// Metric names, shared with the daemon's catalogue of help texts.
    static let requestsLabel = "rnnd_requests_total"
    static let durationLabel = "rnnd_request_duration_seconds"

    private struct PerMethod: Sendable {
        let answered: CoreMetrics.Counter
        let refused: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    private let methods: [String: PerMethod]

    init() {
        var methods: [String: PerMethod] = [:]
        for name in RPCMethods.byName.keys {
            methods[name] = PerMethod(
                answered: Counter(label: Self.requestsLabel, dimensions: [("method", name), ("outcome", "ok")]),
                refused: Counter(label: Self.requestsLabel, dimensions: [("method", name), ("outcome", "error")]),
                duration: Timer(label: Self.durationLabel, dimensions: [("method", name)]))
        }
        self.methods = methods
    }

    /// Counts a request of `method` that took from `start` until now.
    func record(_ method: String, since start: ContinuousClock.Instant, failed: Bool) {
        guard let metrics = methods[method] else { return }
        (failed ? metrics.refused : metrics.answered).increment()
        metrics.duration.recordInterval(since: start)
    }
}

extension CoreMetrics.Timer {
    /// Records the time from `start` until now.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now).components
        recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
