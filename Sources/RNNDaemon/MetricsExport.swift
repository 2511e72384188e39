import CoreMetrics
import Prometheus
import RNNServer
import RNNService

/// The metrics an operator scrapes (`daemon.metrics`, `rnnctl metrics`): swift-metrics,
/// bootstrapped once per process with a Prometheus registry through ``HelpfulFactory``, so
/// every family carries its help text. Levels (models, jobs, memory) are read from the
/// service when scraped; counts and latencies are kept where they happen.
final class MetricsExport: Sendable {
    /// The process's one export (swift-metrics takes one bootstrap per process).
    static let shared = MetricsExport()

    let registry: PrometheusCollectorRegistry
    private let modelsKnown: Prometheus.Gauge
    private let modelsLoaded: Prometheus.Gauge
    private let jobsRunning: Prometheus.Gauge
    private let spoolBytes: Prometheus.Gauge
    private let samplesInProgress: Prometheus.Gauge
    private let residentBytes: Prometheus.Gauge
    private let uptime: Prometheus.Gauge

    private init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        MetricsSystem.bootstrap(HelpfulFactory(registry: registry))
        func gauge(_ name: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: Self.descriptor(name), labels: [])
        }
        modelsKnown = gauge("rnnd_models")
        modelsLoaded = gauge("rnnd_models_loaded")
        jobsRunning = gauge("rnnd_jobs_running")
        spoolBytes = gauge("rnnd_spool_backlog_bytes")
        samplesInProgress = gauge("rnnd_samples_in_progress")
        residentBytes = gauge("rnnd_resident_bytes")
        uptime = gauge("rnnd_uptime_seconds")
    }

    /// Every metric's help text, by name.
    static let catalogue: [String: String] = [
        "rnnd_requests_total": "JSON-RPC requests answered, by method and outcome (ok or error).",
        "rnnd_request_duration_seconds": "Time from a request's parse to its answer, by method.",
        "rnnd_connections": "Open connections, by socket (admin or read_only).",
        ServiceMetrics.sampledCharactersLabel: "Characters drawn by sample.",
        ServiceMetrics.samplesLabel: "Samples answered.",
        ServiceMetrics.batchRowsLabel: "Samples stepped together, per batched sampling step.",
        ServiceMetrics.scoredCharactersLabel: "Characters scored by score.",
        ServiceMetrics.scoredTextsLabel: "Texts scored by score.",
        ServiceMetrics.trainedCharactersLabel: "Characters trained on by jobs and fed text.",
        "rnnd_models": "Models the daemon knows.",
        "rnnd_models_loaded": "Models loaded in memory.",
        "rnnd_jobs_running": "Training jobs running.",
        "rnnd_spool_backlog_bytes": "Fed text acknowledged and not yet learnt, across models.",
        "rnnd_samples_in_progress": "Samples stepping in a batch or waiting to join one.",
        "rnnd_resident_bytes": "The daemon's resident memory.",
        "rnnd_uptime_seconds": "Seconds since the daemon started.",
    ]

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: catalogue[name] ?? "")
    }

    /// The Prometheus text format, levels read from `service` now.
    func text(_ service: ModelService, uptimeSeconds: Double) -> String {
        let counts = service.counts
        modelsKnown.set(Double(counts.models))
        modelsLoaded.set(Double(counts.loaded))
        jobsRunning.set(Double(counts.jobsRunning))
        spoolBytes.set(Double(service.spoolBacklog))
        samplesInProgress.set(Double(service.sampling.inProgress))
        residentBytes.set(Double(currentResidentBytes()))
        uptime.set(uptimeSeconds)
        return registry.emitToString()
    }
}

/// swift-metrics' handlers made in a Prometheus registry with the help text of
/// ``MetricsExport/catalogue`` (Prometheus's own factory leaves help empty, and the
/// registry refuses one name with two help texts).
struct HelpfulFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    /// Rows per batched step are counted in powers of two; everything else is a latency.
    static let rowBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
        .milliseconds(250), .seconds(1), .seconds(5), .seconds(30),
    ]

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: MetricsExport.descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: MetricsExport.descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else {
            return registry.makeGauge(descriptor: MetricsExport.descriptor(label), labels: dimensions)
        }
        return registry.makeValueHistogram(
            descriptor: MetricsExport.descriptor(label), labels: dimensions, buckets: Self.rowBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: MetricsExport.descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: MetricsExport.descriptor(label), labels: dimensions, buckets: Self.latencyBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
