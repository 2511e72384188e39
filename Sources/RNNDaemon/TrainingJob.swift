import Corpora
import NIOConcurrencyHelpers
import RNNCore
import RNNJSON
import RNNProtocol

/// One `train.start` job: its parameters, its progress, and a cancel flag that the model's
/// worker checks between steps. Shared between the worker and RPC handlers under a lock.
final class TrainingJob: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    typealias State = JobState

    let id: String
    let model: String
    /// The job's parameters; an inline corpus text is not kept here (the opener has it).
    let parameters: TrainStart.Params
    private let lock = NIOLock()
    private var openerStorage: CorpusOpener?
    private var info: JobInfo
    private var cancelRequested = false
    private var listeners: [@Sendable (JobInfo, _ final: Bool) -> Void] = []
    private var waiters: [CheckedContinuation<JobInfo, Never>] = []
    let started = ContinuousClock.now

    init(id: String, model: String, parameters: TrainStart.Params, opener: @escaping CorpusOpener) {
        self.id = id
        self.model = model
        var kept = parameters
        if kept.corpus.text != nil { kept.corpus.text = "" }
        self.parameters = kept
        self.openerStorage = opener
        self.info = JobInfo(job: id, model: model, state: .queued, step: 0, elapsedSeconds: 0)
        info.totalSteps = parameters.steps
    }

    /// Opens the job's corpus (again for each epoch of a finite one). A finished job keeps
    /// only its progress: the opener, with the corpus it captured, and the listeners, with
    /// the connections they write to, are released, since up to 1000 ended jobs are listed.
    var opener: CorpusOpener {
        if let opener = lock.withLock({ openerStorage }) { return opener }
        return { @Sendable () throws(CorpusError) -> any CorpusSource in throw CorpusError("the job has ended") }
    }

    var snapshot: JobInfo { lock.withLock { info } }
    var isCancelled: Bool { lock.withLock { cancelRequested } }
    var isDone: Bool { lock.withLock { ![.queued, .running].contains(info.state) } }

    func cancel() { lock.withLock { cancelRequested = true } }

    /// Calls `listener` with every progress update and, last, with the final state.
    func observe(_ listener: @escaping @Sendable (JobInfo, _ final: Bool) -> Void) {
        lock.withLock { listeners.append(listener) }
    }

    /// Waits until the job ends.
    func finished() async -> JobInfo {
        await withCheckedContinuation { continuation in
            let done: JobInfo? = lock.withLock {
                if ![.queued, .running].contains(info.state) { return info }
                waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Updates the progress (on the worker thread) and tells listeners.
    func update(_ change: (inout JobInfo) -> Void, notify: Bool) {
        let (current, targets) = lock.withLock { () -> (JobInfo, [@Sendable (JobInfo, Bool) -> Void]) in
            change(&info)
            info.elapsedSeconds = seconds(since: started)
            return (info, notify ? listeners : [])
        }
        for t in targets { t(current, false) }
    }

    /// Ends the job in `state`, with `error` if it failed.
    func finish(_ state: State, error: String? = nil) {
        let (current, targets, continuations) = lock.withLock {
            () -> (JobInfo, [@Sendable (JobInfo, Bool) -> Void], [CheckedContinuation<JobInfo, Never>]) in
            info.state = state
            info.error = error
            info.etaSeconds = nil
            info.elapsedSeconds = seconds(since: started)
            let w = waiters
            let l = listeners
            waiters = []
            listeners = []
            openerStorage = nil
            return (info, l, w)
        }
        for t in targets { t(current, true) }
        for c in continuations { c.resume(returning: current) }
    }
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
