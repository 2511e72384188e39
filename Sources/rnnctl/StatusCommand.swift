import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The daemon: version, uptime, models, memory, jobs.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.daemonStatus() }
        global.output(r.wire) {
            print("rnnd \(r.version) (pid \(r.pid)), up \(duration(r.uptimeSeconds))")
            print("models: \(r.modelsLoaded) loaded of \(r.modelsTotal); jobs running: \(r.jobsRunning)")
            print("memory: \(bytes(r.residentBytes)); state: \(r.stateDirectory)")
            print("engine: \(r.engine.kernels.rawValue) kernels on \(r.engine.cpu), \(r.engine.threads) threads")
            let s = r.sampling
            print(
                "sampling: \(s.inProgress) in progress; \(s.samples) samples, \(s.characters) characters; "
                    + "\((s.meanBatch * 10).rounded() / 10) rows per step on average, \(s.largestBatch) at most")
        }
    }
}

func duration(_ seconds: Double) -> String {
    let s = Int(seconds)
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(s % 60)s" }
    return "\(s / 3600)h\((s % 3600) / 60)m"
}

func bytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var value = Double(n)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(n) B" : "\((value * 10).rounded() / 10) \(units[unit])"
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "The daemon's metrics in the Prometheus text format.",
        discussion: """
            For node_exporter's textfile collector, write to a temporary file and rename it, so \
            the collector never reads half a file:
              rnnctl metrics > /var/lib/prometheus/node-exporter/rnnd.prom.$$ && \
            mv /var/lib/prometheus/node-exporter/rnnd.prom.$$ /var/lib/prometheus/node-exporter/rnnd.prom
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.daemonMetrics() }
        global.output(r.wire) { print(r.text, terminator: "") }
    }
}
