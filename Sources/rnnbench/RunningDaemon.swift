import ArgumentParser
import RNNClient
import RNNCore

#if canImport(Glibc)
    import Glibc
#endif

/// An rnnd started by the benchmark on temporary folders, stopped with SIGTERM.
final class RunningDaemon {
    let pid: pid_t
    let folder: String
    var socketPath: String { folder + "/run/rnnd.sock" }

    /// Starts `executable` with a configuration that allows reading `corpusDirectory` (and
    /// reads sampled weights as `sampleWeights` says, or as rnnd does by default), and waits
    /// up to 10 s for its admin socket.
    init(executable: String, corpusDirectory: String, sampleWeights: SamplingPrecision? = nil) throws {
        var template = Array("/tmp/rnnbench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot make a temporary folder") }
        folder = String(cString: made)
        let config = folder + "/rnnd.toml"
        var toml = "[paths]\ncorpus_directories = [\"\(corpusDirectory)\"]\n"
        if let sampleWeights { toml += "[sampling]\nweights = \"\(sampleWeights.rawValue)\"\n" }
        guard let file = fopen(config, "w") else { throw ValidationError("cannot write \(config)") }
        fputs(toml, file)
        fclose(file)
        let arguments = [
            executable, "--config", config, "--state-dir", folder + "/state", "--socket-dir", folder + "/run",
            "--log-level", "warning",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, nil, nil, &argv, environ)
        guard status == 0 else {
            throw ValidationError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        for _ in 0..<200 {
            if access(socketPath, F_OK) == 0 { return }
            usleep(50_000)
        }
        stop()
        throw ValidationError("rnnd did not open \(socketPath) within 10 s")
    }

    /// A new connection to the admin socket.
    func connect() throws -> RNNClient { try RNNClient(path: socketPath) }

    /// The daemon's resident memory now and at its peak (VmRSS, VmHWM), in MiB.
    func residentMiB() -> (current: Double, peak: Double) {
        guard let bytes = readFile("/proc/\(pid)/status") else { return (0, 0) }
        var current = 0.0
        var peak = 0.0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Double(fields[1]) else { continue }
            if line.hasPrefix("VmRSS:") { current = kib / 1024 }
            if line.hasPrefix("VmHWM:") { peak = kib / 1024 }
        }
        return (current, peak)
    }

    /// SIGTERM, wait, and remove the folders.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let removal = "rm -rf '\(folder)'"
        _ = system(removal)
    }
}

/// The path of an executable built next to this one.
func siblingExecutable(_ name: String) -> String {
    directoryName(absolutePath(CommandLine.arguments[0])) + "/" + name
}

/// `path` made absolute against the working folder.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    let cwd = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return cwd + "/" + path
}

/// Everything before the last `/`.
func directoryName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

/// Sleeps for whole seconds.
func sleepSeconds(_ seconds: UInt32) { sleep(seconds) }

/// The options of the benchmarks that start their own rnnd: which binary, and the corpus
/// (in a folder the daemon is allowed to read) that its models train on.
struct DaemonOptions: ParsableArguments {
    @Option(help: "The rnnd executable (default: next to rnnbench).")
    var rnnd: String?
    @Option(help: "Training text (UTF-8) for the model that trains during the measurement.")
    var corpus: String = "Tests/corpora/tinyshakespeare.txt"
    @Option(help: "How samples read large weight matrices: int8, half or single (default: rnnd's, int8).")
    var sampleWeights: SamplingPrecision?

    /// Reads the corpus and starts rnnd allowed to read its folder.
    func start() throws -> (daemon: RunningDaemon, corpusPath: String, text: String) {
        let corpusPath = absolutePath(corpus)
        guard let bytes = readFile(corpusPath) else { throw ValidationError("cannot read the corpus at \(corpus)") }
        let daemon = try RunningDaemon(
            executable: rnnd ?? siblingExecutable("rnnd"), corpusDirectory: directoryName(corpusPath),
            sampleWeights: sampleWeights)
        return (daemon, corpusPath, String(decoding: bytes, as: UTF8.self))
    }
}
