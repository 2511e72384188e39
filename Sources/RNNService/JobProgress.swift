/// Where a training job is in its life.
package enum JobPhase: Sendable, Hashable, CaseIterable {
    case queued, running, finished, cancelled, failed
    /// Stopped by rnnd's shutdown or the model's unload; the model keeps what it learnt.
    case interrupted

    /// Whether the job has ended.
    package var isFinal: Bool { self != .queued && self != .running }
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
