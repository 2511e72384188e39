import RNNCore
import RNNProtocol
import RNNService

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's version.
public let rnndVersion = "0.1.0"

extension StatusReport {
    /// The daemon's status from the service's published counts: answered without waiting
    /// for the registry.
    init(_ service: ModelService, started: ContinuousClock.Instant) {
        let counts = service.counts
        let configuration = service.configuration
        let limits = configuration.limits
        self.init(
            version: rnndVersion, pid: processID, uptimeSeconds: seconds(since: started),
            modelsTotal: counts.models, modelsLoaded: counts.loaded, jobsRunning: counts.jobsRunning,
            residentBytes: currentResidentBytes(), stateDirectory: configuration.resolvedStateDirectory,
            limits: Limits(
                maxMessageBytes: limits.maxMessageBytes, maxConnections: limits.maxConnections,
                maxLoadedModels: limits.maxLoadedModels, maxSampleLength: limits.maxSampleLength,
                maxJobs: limits.maxJobs, maxVocabulary: limits.maxVocabulary,
                idleUnloadSeconds: limits.idleUnloadSeconds),
            engine: EngineReport(
                cpu: Kernels.cpuName, kernels: .init(Kernels.path), selectedBy: Kernels.selectionReason,
                supportedKernels: supportedKernels, gemm: BLAS.backend.rawValue, threads: BLAS.threadCount,
                samplingWeights: .init(configuration.sampling.weights)),
            sampling: SamplingReport(service.sampling))
    }
}

extension SamplingReport {
    init(_ totals: SamplingTotals) {
        self.init(
            inProgress: totals.inProgress, samples: totals.samples, characters: totals.characters,
            steps: totals.steps, meanBatch: totals.meanBatch, largestBatch: totals.largestBatch)
    }
}

/// The kernel paths this CPU runs, named once.
private let supportedKernels = Kernels.supportedPaths.map(\.rawValue)

/// The daemon's pid, asked once (glibc's getpid is a system call each time).
private let processID = Int(getpid())

/// Resident set size from /proc/self/statm, read through a descriptor kept open (status
/// calls are frequent; opening the file each time showed in their profile).
func currentResidentBytes() -> Int {
    // statm is "size resident shared ...", in pages.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { text in
        let n = pread(StatmFile.descriptor, text.baseAddress, text.count, 0)
        guard n > 0 else { return 0 }
        var i = 0
        while i < n, text[i] != UInt8(ascii: " ") { i += 1 }
        i += 1
        var pages = 0
        var digits = 0
        while i < n, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) {
            pages = pages * 10 + Int(text[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        return digits > 0 ? pages * pageSize : 0
    }
}

private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

private enum StatmFile {
    static let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
}
