import RNNCore
import RNNJSON

/// What rnnd keeps about a model besides its weights: hyperparameters, counters, loss
/// history and how far its feed spool was learnt. Stored as JSON in the checkpoint's
/// `__metadata__` under `rnnd`.
struct ModelRecord: Sendable, Codable, Hashable {
    var optimizer: OptimizerRule
    var learningRate: Double
    var momentum: Double
    var alpha: Double
    var beta1: Double
    var beta2: Double
    var epsilon: Double
    var clip: ClippingRule
    var clipValue: Double
    var learningRateDecay: Double
    var learningRateDecayEvery: Int
    var initialization: InitializationRule
    var batchSize: Int
    var seqLength: Int
    var maxVocabulary: Int
    var seed: Int
    var steps = 0
    var charactersSeen = 0
    var lossHistory: [LossRecord] = []
    /// Absolute position in the feed spool up to which the saved weights have learnt.
    var spoolConsumed = 0
    /// The naive curriculum's level (length, nesting) reached, resumed by the next l2e job.
    var curriculumLevel: [Int]?
    /// What the last `keep_best` job that went back to its best weights kept.
    var keptBest: KeptBest?

    static let historyLimit = 2000

    /// Appends a loss point, thinning the history by half when it is full.
    mutating func record(step: Int, loss: Double, validationLoss: Double?) {
        lossHistory.append(LossRecord(step: step, loss: loss, validationLoss: validationLoss))
        if lossHistory.count > Self.historyLimit {
            lossHistory = lossHistory.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        }
    }

    /// The last validation loss recorded.
    var lastValidationLoss: Double? { lossHistory.lastValidationLoss }

    /// The optimizer rule these settings name.
    var optimizerKind: OptimizerKind {
        switch optimizer {
        case .sgd: .sgd(momentum: Float(momentum))
        case .adagrad: .adagrad(epsilon: Float(epsilon))
        case .adam: .adam(beta1: Float(beta1), beta2: Float(beta2), epsilon: Float(epsilon))
        case .rmsprop: .rmsprop(alpha: Float(alpha), epsilon: Float(epsilon))
        }
    }

    /// The training settings these hyperparameters name.
    var trainingSettings: TrainingSettings {
        let clipping: GradientClipping =
            switch clip {
            case .value: .value(Float(clipValue))
            case .none: .none
            case .norm: .norm(Float(clipValue))
            }
        return TrainingSettings(
            learningRate: Float(learningRate), learningRateDecay: Float(learningRateDecay),
            decayEvery: learningRateDecayEvery, clipping: clipping, reduction: .mean)
    }
}
