import ArgumentParser
import Dispatch
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A real rnnd under many clients, as `key=value` lines. Scenarios: `mixed` (status and
/// sampling on the read-only socket, feeding on the admin socket, while a 2x128 LSTM
/// trains: requests per second and latency per kind), `sample` (batched sampling: one
/// client alone, then `--clients` at once, from a warm idle model), `score` (log lines
/// scored in calls of 1,000).
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Throughput and latency of a real rnnd under many clients, as key=value lines.")

    /// What the clients do.
    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case mixed, sample, score
    }

    @OptionGroup var target: DaemonOptions
    @Option(help: "mixed, sample or score.")
    var scenario: Scenario = .mixed
    @Option(help: "Seconds of load.")
    var seconds: Double = 20
    @Option(help: "Clients sampling at once (sample scenario).")
    var clients: Int = 16
    @Option(help: "Alone-then-together rounds, back to back (sample scenario).")
    var rounds: Int = 3
    @Option(help: "Layers of the sampled model (sample scenario).")
    var layers: Int = 2
    @Option(help: "Hidden size of the sampled or scoring model.")
    var hidden: Int = 128
    @Option(help: "Log lines to score (score scenario).")
    var lines: Int = 100_000
    @Option(help: "Clients calling daemon.status on the read-only socket.")
    var statusClients: Int = 8
    @Option(help: "Clients sampling 200 characters on the read-only socket.")
    var sampleClients: Int = 8
    @Option(help: "Clients feeding 4 KB at a time on the admin socket.")
    var feedClients: Int = 4

    func run() throws {
        let (daemon, corpusPath, text) = try target.start()
        defer { daemon.stop() }
        let engine = try daemon.connect().daemonStatus().engine
        print("bench=load cpu=\"\(engine.cpu)\" kernels=\(engine.kernels.rawValue) scenario=\(scenario.rawValue)")
        switch scenario {
        case .mixed: try mixedScenario(daemon, corpusPath: corpusPath, text: text)
        case .sample: try sampleScenario(daemon, corpusPath: corpusPath)
        case .score: try scoreScenario(daemon, corpusPath: corpusPath)
        }
    }

    private func mixedScenario(_ daemon: RunningDaemon, corpusPath: String, text: String) throws {
        let admin = try daemon.connect()
        _ = try admin.modelCreate(
            .init(model: "load", architecture: .lstm, layers: 2, hiddenSize: 128, corpus: CorpusSpec(file: corpusPath)))
        _ = try admin.trainStart(.init(model: "load", corpus: CorpusSpec(file: corpusPath), seconds: seconds + 60))
        let feedText = String(text.prefix(4096))
        let kinds: [(name: String, clients: Int, readOnly: Bool, call: @Sendable (RNNClient) throws -> Void)] = [
            ("status", statusClients, true, { _ = try $0.daemonStatus() }),
            (
                "sample", sampleClients, true,
                { _ = try $0.sample(.init(model: "load", length: 200)) }
            ),
            (
                "feed", feedClients, false,
                { _ = try $0.trainFeed(.init(model: "load", text: feedText)) }
            ),
        ]
        let readOnlyPath = daemon.folder + "/run/rnnd-ro.sock"
        let results = LatencyBox()
        let deadline = monotonicSeconds() + seconds
        let group = DispatchGroup()
        for kind in kinds {
            for _ in 0..<kind.clients {
                let path = kind.readOnly ? readOnlyPath : daemon.socketPath
                let call = kind.call
                let name = kind.name
                group.enter()
                DispatchQueue(label: "rnnbench.client").async {
                    defer { group.leave() }
                    var times: [Double] = []
                    var failures = 0
                    guard let client = try? RNNClient(path: path) else {
                        results.add(name, [], failures: 1)
                        return
                    }
                    while monotonicSeconds() < deadline {
                        let start = monotonicSeconds()
                        do { try call(client) } catch { failures += 1 }
                        times.append(monotonicSeconds() - start)
                    }
                    results.add(name, times, failures: failures)
                }
            }
        }
        group.wait()
        var total = 0
        for kind in kinds {
            let (times, failures) = results.get(kind.name)
            total += times.count
            print(
                "bench=load kind=\(kind.name) clients=\(kind.clients) requests=\(times.count) failures=\(failures) "
                    + "requests_per_s=\(Int(Double(times.count) / seconds)) \(Latency(times).keyValues)")
        }
        let memory = daemon.residentMiB()
        let job = try admin.trainList().jobs.first
        print(
            "bench=load kind=all clients=\(statusClients + sampleClients + feedClients) requests=\(total) "
                + "requests_per_s=\(Int(Double(total) / seconds)) daemon_peak_rss_mib=\(format(memory.peak)) "
                + "training_chars_per_s=\(Int(job?.charactersPerSecond ?? 0)) "
                + "training_state=\(job?.state.rawValue ?? "?")")
    }
}

/// Latencies gathered from many threads.
final class LatencyBox: @unchecked Sendable {
    // @unchecked: every access holds the mutex.
    private var mutex = pthread_mutex_t()
    private var times: [String: [Double]] = [:]
    private var failures: [String: Int] = [:]

    init() { pthread_mutex_init(&mutex, nil) }

    func add(_ kind: String, _ values: [Double], failures count: Int) {
        pthread_mutex_lock(&mutex)
        times[kind, default: []] += values
        failures[kind, default: 0] += count
        pthread_mutex_unlock(&mutex)
    }

    func get(_ kind: String) -> ([Double], Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return (times[kind] ?? [], failures[kind] ?? 0)
    }
}
