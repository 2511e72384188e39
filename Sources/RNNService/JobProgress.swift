/// Where a training job is in its life.
package enum JobPhase: Sendable, Hashable, CaseIterable {
    case queued, running, finished, cancelled, failed
    /// Stopped by rnnd's shutdown or the model's unload; the model keeps what it learnt.
    case interrupted

    /// Whether the job has ended.
    package var isFinal: Bool { self != .queued && self != .running }
}

/// Why a job ended.
package enum JobEnding: Sendable, Hashable, CaseIterable {
    /// Its steps, epochs or seconds were spent, or its corpus ended.
    case budget
    /// Validation stopped improving for `patience` validations.
    case earlyStopping
    case cancelled
    case failed
    /// rnnd stopped, or the model was unloaded.
    case interrupted

    /// The usual reason for a job that ends in `phase`.
    init?(_ phase: JobPhase) {
        switch phase {
        case .queued, .running: return nil
        case .finished: self = .budget
        case .cancelled: self = .cancelled
        case .failed: self = .failed
        case .interrupted: self = .interrupted
        }
    }
}

/// A training job's progress as the worker last reported it.
package struct JobProgress: Sendable, Hashable {
    package var id: String
    package var model: String
    package var phase: JobPhase
    package var step: Int
    package var totalSteps: Int?
    /// Passes over the corpus, fractional within the first.
    package var epoch: Double?
    /// The smoothed training loss.
    package var loss: Double?
    package var validationLoss: Double?
    package var charactersPerSecond: Double?
    package var elapsedSeconds: Double
    package var etaSeconds: Double?
    /// Why the job failed or was interrupted.
    package var error: String?
    /// The naive curriculum's level, for l2e jobs.
    package var curriculumLength: Int?
    package var curriculumNesting: Int?
    /// The lowest validation loss so far, and the model's step when it was measured.
    package var bestValidationLoss: Double?
    package var bestStep: Int?
    /// At the end of a keep_best job: whether the model went back to its best weights.
    package var keptBest: Bool?
    /// The job's learning rate now (after any decay on plateau).
    package var learningRate: Double?
    /// Why the job ended, once it has.
    package var stopReason: JobEnding?
    /// Answer accuracy and exact match on held-out l2e programs.
    package var answerAccuracy: Double?
    package var exactMatch: Double?

    package init(id: String, model: String) {
        self.id = id
        self.model = model
        phase = .queued
        step = 0
        elapsedSeconds = 0
    }
}
