import Dispatch
import RNNJSON
import Synchronization

/// What others may ask of a model's worker thread, and the only part of the worker they
/// hold: commands to run between steps, the job to train, a stop request. Its state lives in
/// a `Mutex`, so the compiler checks every access; a semaphore wakes the thread.
final class WorkerMailbox: Sendable {
    /// A command for the worker thread, given the worker that owns the weights.
    typealias Command = @Sendable (ModelWorker) -> Void

    let name: String
    private let inbox = Mutex(Inbox())
    /// Rung once per request; the thread sleeps on it when it has nothing to do. Counting,
    /// so a ring before the thread sleeps is never lost.
    private let doorbell = DispatchSemaphore(value: 0)

    private struct Inbox: ~Copyable {
        var commands: [Command] = []
        var job: TrainingJob?
        var stopRequested = false
        var closed = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        /// When the thread last came round its loop or finished a step (for the watchdog).
        var beat = ContinuousClock.now

        var currentJob: TrainingJob? { job.flatMap { $0.isDone ? nil : $0 } }
    }

    init(name: String) { self.name = name }

    // MARK: Asked by others

    /// Runs `body` on the worker thread between steps and returns its result.
    func perform<T: Sendable>(_ body: @escaping @Sendable (ModelWorker) throws(ServiceError) -> T)
        async throws(ServiceError) -> T
    {
        let name = name
        let result: Result<T, ServiceError> = await withCheckedContinuation { continuation in
            let command: Command = { worker in
                do throws(ServiceError) {
                    continuation.resume(returning: .success(try body(worker)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            let accepted = inbox.withLock { inbox in
                guard !inbox.closed else { return false }
                inbox.commands.append(command)
                return true
            }
            if accepted {
                doorbell.signal()
            } else {
                continuation.resume(returning: .failure(.unloading(name)))
            }
        }
        return try result.get()
    }

    /// Hands a job to the worker.
    ///
    /// - Throws: ``ServiceError`` `.modelBusy` when a job is already running.
    func submit(_ newJob: TrainingJob) throws(ServiceError) {
        let name = name
        try inbox.withLock { (inbox) throws(ServiceError) in
            if let job = inbox.currentJob {
                throw ServiceError(
                    .modelBusy, "model '\(name)' is already training (job \(job.id)); cancel it or wait",
                    details: ["job": .string(job.id)])
            }
            inbox.job = newJob
        }
        doorbell.signal()
    }

    /// The job the worker is training, if any.
    var currentJob: TrainingJob? { inbox.withLock { $0.currentJob } }

    /// Wakes the worker (new feed text).
    func wake() { doorbell.signal() }

    /// Asks the worker to finish its current step, interrupt its job, save if changed, exit;
    /// returns once it has.
    func stop() async {
        await withCheckedContinuation { continuation in
            let closed = inbox.withLock { inbox in
                guard !inbox.closed else { return true }
                inbox.stopRequested = true
                inbox.exitWaiters.append(continuation)
                return false
            }
            if closed { continuation.resume() } else { doorbell.signal() }
        }
    }

    /// When the worker thread last showed it is alive (now, once it has exited).
    var lastBeat: ContinuousClock.Instant { inbox.withLock { $0.closed ? .now : $0.beat } }

    // MARK: Used by the worker thread

    /// What the thread is to do now: the commands that came, the job to train, whether to
    /// stop. Takes the commands and marks the thread alive.
    func collect() -> (commands: [Command], job: TrainingJob?, stopping: Bool) {
        inbox.withLock { inbox in
            inbox.beat = .now
            let commands = inbox.commands
            inbox.commands = []
            return (commands, inbox.currentJob, inbox.stopRequested)
        }
    }

    /// Sleeps until a request comes or `limit` passes.
    func sleep(upTo limit: Duration) {
        let nanoseconds = limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000
        _ = doorbell.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
    }

    /// Refuses every later request; returns the commands that came meanwhile (to run, so
    /// none waits forever) and the callers of ``stop()`` to resume.
    func close() -> (commands: [Command], waiters: [CheckedContinuation<Void, Never>]) {
        inbox.withLock { inbox in
            inbox.closed = true
            defer {
                inbox.commands = []
                inbox.exitWaiters = []
            }
            return (inbox.commands, inbox.exitWaiters)
        }
    }
}
