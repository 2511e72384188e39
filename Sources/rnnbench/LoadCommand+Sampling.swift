import Dispatch
import RNNClient
import RNNProtocol

/// The batched-sampling scenario: one client alone, then many at once, each asking for
/// 200 characters from a warm idle model.
extension LoadCommand {
    func sampleScenario(_ daemon: RunningDaemon, corpusPath: String) throws {
        let admin = try daemon.connect()
        _ = try admin.modelCreate(
            .init(
                model: "load", architecture: .lstm, layers: layers, hiddenSize: hidden,
                corpus: CorpusSpec(file: corpusPath)))
        let readOnlyPath = daemon.folder + "/run/rnnd-ro.sock"
        let warm = try RNNClient(path: readOnlyPath)
        for _ in 0..<20 { _ = try warm.sample(.init(model: "load", length: 200)) }

        // Alone and together back to back, `rounds` times: on a shared machine the speed
        // drifts within minutes, so each ratio compares runs a few seconds apart.
        let model = "\(layers)x\(hidden)"
        var ratios: [Double] = []
        var latencyRatios: [Double] = []
        var togetherBatches: [Double] = []
        for round in 1...rounds {
            let (lone, loneBatch) = try measuringBatches(admin) {
                try measureSamples(clients: 1, path: readOnlyPath, seconds: seconds / 2)
            }
            let (many, manyBatch) = try measuringBatches(admin) {
                try measureSamples(clients: clients, path: readOnlyPath, seconds: seconds / 2)
            }
            togetherBatches.append(manyBatch)
            for (name, run, batch) in [("alone", lone, loneBatch), ("together", many, manyBatch)] {
                print(
                    "bench=load scenario=sample model=\(model) round=\(round) run=\(name) clients=\(run.clients) "
                        + "samples=\(run.times.count) failures=\(run.failures) "
                        + "chars_per_s=\(Int(run.charactersPerSecond)) mean_batch=\(format(batch)) "
                        + "\(Latency(run.times).keyValues)")
            }
            ratios.append(many.charactersPerSecond / max(lone.charactersPerSecond, 1))
            latencyRatios.append(Latency(many.times).quantile(0.99) / max(Latency(lone.times).p50, 1e-9))
        }
        let sampling = try admin.daemonStatus().sampling
        print(
            "bench=load scenario=sample model=\(model) clients=\(clients) rounds=\(rounds) "
                + "throughput_ratios=\(ratios.map(format).joined(separator: ",")) "
                + "median_throughput_ratio=\(format(median(ratios))) "
                + "p99_over_lone_p50=\(latencyRatios.map(format).joined(separator: ",")) "
                + "median_p99_over_lone_p50=\(format(median(latencyRatios))) "
                + "together_mean_batch=\(format(median(togetherBatches))) largest_batch=\(sampling.largestBatch) "
                + "daemon_peak_rss_mib=\(format(daemon.residentMiB().peak))")
    }

    /// What `body` returns, and the rows per step of the batches stepped meanwhile (from the
    /// daemon's totals before and after: its own mean covers every run since it started).
    private func measuringBatches(
        _ admin: RNNClient, _ body: () throws -> SampleRun
    ) throws -> (SampleRun, Double) {
        let before = try admin.daemonStatus().sampling
        let run = try body()
        let after = try admin.daemonStatus().sampling
        let steps = after.steps - before.steps
        let rows = after.meanBatch * Double(after.steps) - before.meanBatch * Double(before.steps)
        return (run, steps > 0 ? rows / Double(steps) : 0)
    }

    /// `clients` clients sampling 200 characters in a loop for `seconds`.
    private func measureSamples(clients: Int, path: String, seconds: Double) throws -> SampleRun {
        let results = LatencyBox()
        let start = monotonicSeconds()
        let deadline = start + seconds
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            DispatchQueue(label: "rnnbench.client").async {
                defer { group.leave() }
                var times: [Double] = []
                var failures = 0
                guard let client = try? RNNClient(path: path) else {
                    results.add("sample", [], failures: 1)
                    return
                }
                while monotonicSeconds() < deadline {
                    let begin = monotonicSeconds()
                    do {
                        let result = try client.sample(.init(model: "load", length: 200))
                        if result.characters == 200 { times.append(monotonicSeconds() - begin) } else { failures += 1 }
                    } catch {
                        failures += 1
                    }
                }
                results.add("sample", times, failures: failures)
            }
        }
        group.wait()
        let elapsed = monotonicSeconds() - start
        let (times, failures) = results.get("sample")
        return SampleRun(
            clients: clients, times: times, failures: failures,
            charactersPerSecond: Double(times.count * 200) / elapsed)
    }
}

/// One measured run of the sampling scenario.
struct SampleRun {
    let clients: Int
    let times: [Double]
    let failures: Int
    let charactersPerSecond: Double
}

/// The middle value (the mean of the two middle ones for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
