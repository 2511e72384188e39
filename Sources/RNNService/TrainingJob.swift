import Corpora
import RNNCore
import RNNJSON
import Synchronization

/// What a job is to do, in the service's terms: its budget, its batch shape and its
/// schedule. The binding of `train.start` builds it from the validated parameters.
package struct TrainingPlan: Sendable {
    /// Stop after this many steps.
    package var steps: Int?
    /// Stop after this many passes over the corpus.
    package var epochs: Double?
    /// Stop after this many seconds.
    package var seconds: Double?
    /// Streams per batch; the model's default when nil.
    package var batchSize: Int?
    /// Steps per sequence; the model's default when nil.
    package var seqLength: Int?
    /// This job's learning rate; the model's when nil.
    package var learningRate: Double?
    /// This job's clipping bound; the model's when nil.
    package var clipValue: Double?
    /// The fraction of each window held out for validation.
    package var validationFraction: Double
    /// Steps between validations.
    package var validateEvery: Int
    /// Steps between checkpoints.
    package var checkpointEvery: Int
    /// End holding the weights of the lowest validation loss.
    package var keepBest = true
    /// Validations without improvement before the job stops early; never when nil.
    package var patience: Int?
    /// How much lower than the best a validation loss must be to count as an improvement.
    package var minDelta = 0.0
    /// The learning rate's factor after `plateauPatience` validations without improvement;
    /// no decay when nil.
    package var plateauFactor: Double?
    package var plateauPatience = 3
    /// The floor of the decay on plateau.
    package var minLearningRate = 0.0
    /// Keep the best weights so far as the snapshot `best-<job>` too.
    package var snapshotBest = false

    package init(
        steps: Int?, epochs: Double?, seconds: Double?, batchSize: Int?, seqLength: Int?, learningRate: Double?,
        clipValue: Double?, validationFraction: Double, validateEvery: Int, checkpointEvery: Int
    ) {
        self.steps = steps
        self.epochs = epochs
        self.seconds = seconds
        self.batchSize = batchSize
        self.seqLength = seqLength
        self.learningRate = learningRate
        self.clipValue = clipValue
        self.validationFraction = validationFraction
        self.validateEvery = validateEvery
        self.checkpointEvery = checkpointEvery
    }
}

/// One `train.start` job: its plan, its progress, and a cancel flag that the model's worker
/// checks between steps. Shared between the worker and RPC handlers; its state lives in a
/// `Mutex`, so the compiler checks every access.
final class TrainingJob: Sendable {
    typealias State = JobPhase

    let id: String
    let model: String
    let plan: TrainingPlan
    let started = ContinuousClock.now
    private let state: Mutex<Shared>

    private struct Shared: ~Copyable {
        var opener: CorpusOpener?
        var info: JobProgress
        var cancelRequested = false
        var listeners: [@Sendable (JobProgress, _ final: Bool) -> Void] = []
        var waiters: [CheckedContinuation<JobProgress, Never>] = []
    }

    init(id: String, model: String, plan: TrainingPlan, opener: @escaping CorpusOpener) {
        self.id = id
        self.model = model
        self.plan = plan
        var info = JobProgress(id: id, model: model)
        info.totalSteps = plan.steps
        state = Mutex(Shared(opener: opener, info: info))
    }

    /// Opens the job's corpus (again for each epoch of a finite one). A finished job keeps
    /// only its progress: the opener, with the corpus it captured, and the listeners, with
    /// the connections they write to, are released, since up to 1000 ended jobs are listed.
    var opener: CorpusOpener {
        if let opener = state.withLock({ $0.opener }) { return opener }
        return { @Sendable () throws(CorpusError) -> any CorpusSource in throw CorpusError("the job has ended") }
    }

    var snapshot: JobProgress { state.withLock { $0.info } }
    var isCancelled: Bool { state.withLock { $0.cancelRequested } }
    var isDone: Bool { state.withLock { $0.info.phase.isFinal } }

    func cancel() { state.withLock { $0.cancelRequested = true } }

    /// Calls `listener` with every progress update and, last, with the final state.
    func observe(_ listener: @escaping @Sendable (JobProgress, _ final: Bool) -> Void) {
        state.withLock { $0.listeners.append(listener) }
    }

    /// Waits until the job ends.
    func finished() async -> JobProgress {
        await withCheckedContinuation { continuation in
            let done: JobProgress? = state.withLock { shared in
                if shared.info.phase.isFinal { return shared.info }
                shared.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Updates the progress (on the worker thread) and tells listeners.
    func update(_ change: (inout JobProgress) -> Void, notify: Bool) {
        let started = started
        let (current, targets) = state.withLock { shared -> (JobProgress, [@Sendable (JobProgress, Bool) -> Void]) in
            change(&shared.info)
            shared.info.elapsedSeconds = seconds(since: started)
            return (shared.info, notify ? shared.listeners : [])
        }
        for t in targets { t(current, false) }
    }

    /// Ends the job in `state`, with `error` if it failed.
    func finish(_ ending: State, error: String? = nil, reason: JobEnding? = nil) {
        let started = started
        let (current, targets, continuations) = state.withLock {
            shared -> (JobProgress, [@Sendable (JobProgress, Bool) -> Void], [CheckedContinuation<JobProgress, Never>])
            in
            shared.info.phase = ending
            shared.info.error = error
            shared.info.stopReason = reason ?? JobEnding(ending)
            shared.info.etaSeconds = nil
            shared.info.elapsedSeconds = seconds(since: started)
            let ended = (shared.info, shared.listeners, shared.waiters)
            shared.waiters = []
            shared.listeners = []
            shared.opener = nil
            return ended
        }
        for t in targets { t(current, true) }
        for c in continuations { c.resume(returning: current) }
    }
}

/// Seconds elapsed since `start`.
package func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
