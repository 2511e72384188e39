import RNNClient
import RNNProtocol

/// The scoring scenario: log lines of about 80 characters scored by a 1-layer model in
/// calls of 1,000 lines, as `rnnctl score` sends them.
extension LoadCommand {
    func scoreScenario(_ daemon: RunningDaemon, corpusPath: String) throws {
        let admin = try daemon.connect()
        let logLines = Self.logLines(lines)
        _ = try admin.modelCreate(
            .init(
                model: "score", architecture: .lstm, layers: 1, hiddenSize: hidden,
                corpus: CorpusSpec(text: logLines.prefix(2_000).joined(separator: "\n"))))
        let client = try RNNClient(path: daemon.folder + "/run/rnnd-ro.sock")
        _ = try client.score(.init(model: "score", texts: Array(logLines.prefix(100))))
        let start = monotonicSeconds()
        var characters = 0
        var bits = 0.0
        var index = 0
        while index < logLines.count {
            let batch = Array(logLines[index..<min(index + 1_000, logLines.count)])
            let result = try client.score(.init(model: "score", texts: batch))
            for score in result.scores {
                characters += score.characters
                bits += score.totalBits
            }
            index += batch.count
        }
        let elapsed = monotonicSeconds() - start
        print(
            "bench=load scenario=score model=1x\(hidden) lines=\(logLines.count) "
                + "characters=\(characters) seconds=\(format(elapsed)) "
                + "lines_per_s=\(Int(Double(logLines.count) / elapsed)) "
                + "chars_per_s=\(Int(Double(characters) / elapsed)) "
                + "mean_bits_per_char=\(format(bits / Double(max(characters, 1)))) "
                + "daemon_peak_rss_mib=\(format(daemon.residentMiB().peak))")
    }

    /// `count` dpkg-style log lines of 60-80 characters, the same every run.
    static func logLines(_ count: Int) -> [String] {
        let packages = ["libc6", "openssl", "libssl3", "python3.11", "zlib1g", "tzdata", "curl", "libxml2", "git"]
        let actions = ["status installed", "status unpacked", "configure", "upgrade", "status half-configured"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        return (0..<count).map { i in
            let package = packages[next(packages.count)]
            let version = "\(next(4) + 1).\(next(20)).\(next(10))-\(next(5) + 1)"
            let second = i % 60
            return "2026-11-29 16:\(10 + (i / 3600) % 50):\(second < 10 ? "0" : "")\(second) "
                + "\(actions[next(actions.count)]) \(package):amd64 \(version) \(version)"
        }
    }
}
