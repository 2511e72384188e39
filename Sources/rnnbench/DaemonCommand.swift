import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// rnnd's side of the service figures: idle memory, `daemon.status` round trips on one
/// connection, 200-character samples from a warm 2x128 LSTM, and the same samples while
/// that model trains. Starts its own rnnd on temporary folders; prints `key=value` lines.
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon", abstract: "Latency and memory of a real rnnd, as key=value lines.")

    @OptionGroup var target: DaemonOptions
    @Option(help: "daemon.status round trips to time.")
    var statusCalls: Int = 20000
    @Option(help: "200-character samples to time, idle and while training.")
    var samples: Int = 200
    @Option(help: "Characters per sample.")
    var sampleLength: Int = 200

    func run() throws {
        let (daemon, corpusPath, text) = try target.start()
        defer { daemon.stop() }
        let client = try daemon.connect()

        sleepSeconds(1)
        print("bench=daemon_idle rss_mib=\(format(daemon.residentMiB().current)) models=0")

        _ = try client.daemonStatus()
        var statusTimes: [Double] = []
        statusTimes.reserveCapacity(statusCalls)
        for _ in 0..<statusCalls {
            let start = monotonicSeconds()
            _ = try client.daemonStatus()
            statusTimes.append(monotonicSeconds() - start)
        }
        print("bench=status_round_trip calls=\(statusCalls) \(Latency(statusTimes).keyValues)")

        let characters = Set(text)
        _ = try client.modelCreate(
            .init(
                model: "bench", architecture: .lstm, layers: 2, hiddenSize: 128,
                corpus: CorpusSpec(text: String(characters.sorted()))))
        let sampleParams = Sample.Params(model: "bench", temperature: 0.8, length: sampleLength)
        for _ in 0..<5 { _ = try client.sample(sampleParams) }
        let idle = try timeSamples(client, sampleParams)
        print("bench=sample_warm model=lstm-2x128 length=\(sampleLength) \(Latency(idle).keyValues)")

        let job = try client.trainStart(
            .init(model: "bench", corpus: CorpusSpec(file: corpusPath), seconds: 600, batchSize: 50, seqLength: 50))
        sleepSeconds(2)
        let busy = try timeSamples(client, sampleParams)
        let progress = try client.trainStatus(.init(job: job.job))
        let ratio = Latency(busy).p50 / max(Latency(idle).p50, 1e-9)
        print(
            "bench=sample_while_training model=lstm-2x128 length=\(sampleLength) \(Latency(busy).keyValues) "
                + "p50_ratio_to_idle=\(format(ratio)) train_chars_per_s=\(Int(progress.charactersPerSecond ?? 0))"
        )
        _ = try client.trainCancel(.init(job: job.job))
        let memory = daemon.residentMiB()
        print("bench=daemon_after rss_mib=\(format(memory.current)) peak_rss_mib=\(format(memory.peak))")
    }

    private func timeSamples(_ client: RNNClient, _ params: Sample.Params) throws -> [Double] {
        var times: [Double] = []
        for _ in 0..<samples {
            let start = monotonicSeconds()
            let result = try client.sample(params)
            times.append(monotonicSeconds() - start)
            guard !result.text.isEmpty else {
                throw ValidationError("model.sample returned no text")
            }
        }
        return times
    }
}

/// Percentiles of a set of durations in seconds, printed in microseconds.
struct Latency {
    let sorted: [Double]
    init(_ seconds: [Double]) { sorted = seconds.sorted() }

    /// The `q`-quantile (nearest rank).
    func quantile(_ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(rank, 1)) - 1]
    }
    var p50: Double { quantile(0.5) }
    var keyValues: String {
        let us = { (x: Double) in format(x * 1e6) }
        return
            "p50_us=\(us(p50)) p90_us=\(us(quantile(0.9))) p99_us=\(us(quantile(0.99))) max_us=\(us(sorted.last ?? 0))"
    }
}
