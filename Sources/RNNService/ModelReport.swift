package import RNNCore

/// What a model is doing, as reported to clients.
package enum ModelActivity: Sendable, Hashable, CaseIterable {
    /// Known, on disk, not in memory.
    case unloaded
    case idle
    /// A `train.start` job is running.
    case training
    /// Learning from its feed spool.
    case learning
    /// Its checkpoint could not be read; the reason is in ``ModelReport/failure``.
    case failed
}

/// Everything the service reports about one model: its shape, its settings, its counters,
/// its loss history and its feed spool.
package struct ModelReport: Sendable {
    package var name: String
    package var configuration: ModelConfiguration
    package var vocabularyKind: Vocabulary.Kind
    package var maxVocabulary: Int
    package var parameters: Int
    /// Weights and optimizer moments in memory (0 when unloaded).
    package var bytesInMemory: Int
    package var loaded: Bool
    package var activity: ModelActivity
    package var optimizer: OptimizerRule
    package var learningRate: Double
    package var clip: ClippingRule
    package var clipValue: Double
    package var batchSize: Int
    package var seqLength: Int
    package var steps: Int
    package var charactersSeen: Int
    package var lossHistory: [LossRecord]
    /// Fed text not learnt yet.
    package var feedBacklogBytes: Int
    /// The feed spool's end: every byte ever fed.
    package var feedTotalBytes: Int
    /// Why the model cannot load, when it cannot.
    package var failure: String?
    /// What the last keep_best job that went back to its best weights kept.
    package var keptBest: KeptBest?

    /// The training loss of the last recorded step.
    package var lastLoss: Double? { lossHistory.last?.loss }
    /// The last validation loss recorded.
    package var lastValidationLoss: Double? { lossHistory.lastValidationLoss }
}
