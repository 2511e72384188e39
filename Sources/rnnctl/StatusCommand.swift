import ArgumentParser
import RNNProtocol

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The daemon: version, uptime, models, memory, jobs.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let r = try global.call(try global.connect(), "daemon.status")
        global.output(r) {
            print(
                "rnnd \(r["version"]?.text ?? "?") (pid \(r["pid"]?.text ?? "?")), up \(r["uptime_seconds"]?.numberValue.map { duration($0) } ?? "?")"
            )
            print(
                "models: \(r["models_loaded"]?.text ?? "0") loaded of \(r["models_total"]?.text ?? "0"); jobs running: \(r["jobs_running"]?.text ?? "0")"
            )
            print("memory: \(bytes(r["resident_bytes"]?.int ?? 0)); state: \(r["state_directory"]?.text ?? "?")")
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
