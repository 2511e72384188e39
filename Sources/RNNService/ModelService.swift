import Foundation
package import Logging
package import NIOPosix

/// The service behind the contract: models created, loaded, sampled, trained and fed, in the
/// service's own terms (``ModelBlueprint``, ``ModelReport``, ``JobProgress``, ...). The
/// daemon's bindings translate the wire to these calls and back; nothing here knows a socket
/// or a JSON-RPC message.
package struct ModelService: Sendable {
    package let registry: ModelRegistry
    let settings: ConfigurationBox
    let pool: NIOThreadPool
    let logger: Logger
    /// Admission for evaluations and scorings.
    let computeSlots: ComputeSlots
    /// Continuous batching of samples.
    let samples: SampleScheduler

    package init(settings: ConfigurationBox, pool: NIOThreadPool, logger: Logger) {
        self.settings = settings
        self.pool = pool
        self.logger = logger
        registry = ModelRegistry(settings: settings, pool: pool, logger: logger)
        computeSlots = ComputeSlots(settings: settings)
        samples = SampleScheduler(settings: settings)
    }

    package var configuration: DaemonConfiguration { settings.current }
    var limits: DaemonConfiguration.Limits { configuration.limits }

    /// Runs blocking work (file I/O, checkpoint encoding) on the thread pool.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(ServiceError) -> T) async throws(ServiceError)
        -> T
    {
        let result: Result<T, ServiceError>
        do {
            result = try await pool.runIfActive { () -> Result<T, ServiceError> in
                do throws(ServiceError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw ServiceError(.shuttingDown, "rnnd is shutting down")
        }
        return try result.get()
    }

    /// Runs read-side compute (an evaluation, a scoring) on a thread of its own within
    /// ``ComputeSlots``: refused at once past `limits.max_evaluations`.
    func compute<T: Sendable>(_ what: String, _ body: @escaping @Sendable (StopFlag) throws(ServiceError) -> T)
        async throws(ServiceError) -> T
    {
        try computeSlots.acquire(what)
        defer { computeSlots.release() }
        return try await StopFlag.whileRunning { stop throws(ServiceError) in
            try await onOwnThread { () throws(ServiceError) -> T in try body(stop) }
        }
    }

    /// Runs `body` on a thread of its own: for work that may wait on a slow client (a
    /// streamed sample under backpressure) without holding a thread of the shared pool.
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws(ServiceError) -> T)
        async throws(ServiceError) -> T
    {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<T, ServiceError>, Never>) in
            let thread = Thread {
                do throws(ServiceError) {
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

    /// Fed text acknowledged and not yet learnt, across models, in bytes.
    package var spoolBacklog: Int {
        registry.directory.hosts.values.reduce(0) { $0 + $1.spoolBacklog }
    }

    /// Batched sampling's totals since start.
    package var sampling: SamplingTotals { samples.totals }

    /// How many models are known and loaded, and how many jobs run, as last published.
    package var counts: (models: Int, loaded: Int, jobsRunning: Int) {
        let directory = registry.directory
        return (
            directory.hosts.count, directory.hosts.values.reduce(0) { $0 + ($1.isLoaded ? 1 : 0) },
            directory.jobs.reduce(0) { $0 + ($1.isDone ? 0 : 1) }
        )
    }
}
