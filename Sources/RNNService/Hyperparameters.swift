/// The optimizer a model trains with, by the name its record stores.
package enum OptimizerRule: String, Sendable, Codable, Hashable, CaseIterable {
    case sgd, adagrad, adam, rmsprop
}

/// How a model's gradients are clipped, by the name its record stores.
package enum ClippingRule: String, Sendable, Codable, Hashable, CaseIterable {
    case none, value, norm
}

/// How a new model's weights were drawn, by the name its record stores.
package enum InitializationRule: String, Sendable, Codable, Hashable, CaseIterable {
    case charrnn, gaussian, pytorch
}

/// One point of a model's loss history: the training loss (smoothed) at a step, and the
/// validation loss when one was measured there.
package struct LossRecord: Sendable, Codable, Hashable {
    package var step: Int
    package var loss: Double
    package var validationLoss: Double?

    package init(step: Int, loss: Double, validationLoss: Double? = nil) {
        self.step = step
        self.loss = loss
        self.validationLoss = validationLoss
    }
}

extension [LossRecord] {
    /// The last validation loss recorded.
    package var lastValidationLoss: Double? { last { $0.validationLoss != nil }?.validationLoss }
}

/// What a `keep_best` job kept: the step and validation loss of the weights the model went
/// back to, and what the job's last weights had scored.
package struct KeptBest: Sendable, Codable, Hashable {
    package var job: String
    package var step: Int
    package var validationLoss: Double
    package var lastStep: Int
    /// Nil when the last weights' loss was not finite (the job diverged).
    package var lastValidationLoss: Double?
}
