import Foundation
import Logging
import NIOPosix
import RNNCore
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Implements every method of protocol/openrpc.json on top of the registry, translating
/// between wire types (RNNProtocol) and engine types (RNNCore).
struct Handlers: Sendable {
    let registry: ModelRegistry
    let settings: ConfigurationBox
    let pool: NIOThreadPool
    let logger: Logger
    let started: ContinuousClock.Instant
    let openRPCDocument: JSON
    /// Asks the daemon to shut down (checkpointing everything) after answering.
    let requestShutdown: @Sendable () -> Void
    /// Admission for samples and evaluations.
    let computeSlots: ComputeSlots

    var configuration: DaemonConfiguration { settings.current }
    var limits: DaemonConfiguration.Limits { configuration.limits }

    /// A `-32602` for a rule the service checks (limits of this daemon, not the contract's),
    /// naming the parameter as the contract's refusals do.
    func invalid(_ parameter: String, _ what: String) -> DaemonError {
        let path = parameter.split(separator: ".").reduce(WirePath.root) { $0.appending(String($1)) }
        return DaemonError(
            .invalidParams, "parameter \"\(parameter)\" \(what)",
            details: ["parameter": .string(parameter), "pointer": .string(path.pointer)])
    }

    /// Runs blocking work (file I/O, checkpoint encoding) on the thread pool.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(DaemonError) -> T) async throws(DaemonError) -> T {
        let result: Result<T, DaemonError>
        do {
            result = try await pool.runIfActive { () -> Result<T, DaemonError> in
                do throws(DaemonError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw DaemonError(.shuttingDown, "rnnd is shutting down")
        }
        return try result.get()
    }

    /// Runs read-side compute (a sample, an evaluation) on a thread of its own within
    /// ``ComputeSlots``: refused at once past `limits.max_samples`.
    func compute<T: Sendable>(_ what: String, _ body: @escaping @Sendable () throws(DaemonError) -> T)
        async throws(DaemonError) -> T
    {
        try computeSlots.acquire(what)
        defer { computeSlots.release() }
        return try await onOwnThread(body)
    }

    /// Runs `body` on a thread of its own: for work that may wait on a slow client (a
    /// streamed sample under backpressure) without holding a thread of the shared pool.
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws(DaemonError) -> T) async throws(DaemonError)
        -> T
    {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<T, DaemonError>, Never>) in
            let thread = Thread {
                do throws(DaemonError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "rnnd-stream"
            thread.start()
        }
        return try result.get()
    }

    /// From the published directory: answered without waiting for the registry.
    func status() -> StatusReport {
        let directory = registry.directory
        return StatusReport(
            version: rnndVersion, pid: Int(getpid()), uptimeSeconds: seconds(since: started),
            modelsTotal: directory.hosts.count, modelsLoaded: directory.hosts.values.filter(\.isLoaded).count,
            jobsRunning: directory.jobs.filter { !$0.isDone }.count,
            residentBytes: residentBytes(), stateDirectory: configuration.resolvedStateDirectory,
            limits: Limits(
                maxMessageBytes: limits.maxMessageBytes, maxConnections: limits.maxConnections,
                maxLoadedModels: limits.maxLoadedModels, maxSampleLength: limits.maxSampleLength,
                maxJobs: limits.maxJobs,
                maxVocabulary: limits.maxVocabulary, idleUnloadSeconds: limits.idleUnloadSeconds),
            engine: EngineReport(
                cpu: Kernels.cpuName, kernels: .init(Kernels.path), selectedBy: Kernels.selectionReason,
                supportedKernels: Kernels.supportedPaths.map(\.rawValue), gemm: BLAS.backend.rawValue,
                threads: BLAS.threadCount))
    }
}

/// The daemon's version.
public let rnndVersion = "0.1.0"

/// Resident set size from /proc/self/statm, read through a descriptor kept open (status
/// calls are frequent; opening the file each time showed in their profile).
func residentBytes() -> Int {
    var text = [UInt8](repeating: 0, count: 128)
    let n = text.withUnsafeMutableBytes { pread(StatmFile.descriptor, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return 0 }
    let fields = text[0..<n].split(separator: UInt8(ascii: " "))
    guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private enum StatmFile {
    static let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
}
