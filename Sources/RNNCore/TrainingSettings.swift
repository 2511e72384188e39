/// How gradients are bounded before an update.
public enum GradientClipping: Sendable, Hashable, Codable {
    /// No clipping.
    case none
    /// Clamp every element to `[-limit, limit]` (min-char-rnn's `np.clip(d, -5, 5)`).
    case value(Float)
    /// Scale all gradients together so that their global L2 norm is at most `maxNorm`.
    case norm(Float)
}

/// Whether the loss whose gradient is followed is summed or averaged over its characters.
public enum LossReduction: String, Sendable, Hashable, Codable {
    /// Summed over every step and stream (min-char-rnn).
    case sum
    /// Averaged over every step and stream (char-rnn, PyTorch's `cross_entropy`).
    case mean
}

/// Everything about a training step that is not the model itself.
public struct TrainingSettings: Sendable, Hashable, Codable {
    /// The base learning rate.
    public var learningRate: Float
    /// Multiply the learning rate by this every ``decayEvery`` steps (1 = no decay).
    public var learningRateDecay: Float
    /// Steps between decays.
    public var decayEvery: Int
    /// Gradient bound.
    public var clipping: GradientClipping
    /// Summed or mean loss.
    public var reduction: LossReduction
    /// PyTorch names of tensors that are not updated (their gradient is zeroed).
    public var frozenTensors: [String]

    /// Creates settings; the defaults are char-rnn's apart from the learning rate.
    public init(
        learningRate: Float, learningRateDecay: Float = 1, decayEvery: Int = 1,
        clipping: GradientClipping = .norm(5), reduction: LossReduction = .mean, frozenTensors: [String] = []
    ) {
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.decayEvery = decayEvery
        self.clipping = clipping
        self.reduction = reduction
        self.frozenTensors = frozenTensors
    }

    /// min-char-rnn's: lr 0.1, clip to `[-5, 5]`, summed loss, and `b_hh` frozen (at zero)
    /// so that `b_ih` alone plays the seed's single hidden bias `bh`.
    public static let seed = TrainingSettings(
        learningRate: 0.1, clipping: .value(5), reduction: .sum, frozenTensors: ["rnn.bias_hh_l0"])

    /// The learning rate after `step` updates.
    public func learningRate(atStep step: Int) -> Float {
        guard learningRateDecay != 1, decayEvery > 0 else { return learningRate }
        return learningRate * _pow(learningRateDecay, step / decayEvery)
    }

    /// Throws when a setting is out of range.
    public func validate() throws(RNNCoreError) {
        guard learningRate.isFinite, learningRate > 0 else {
            throw RNNCoreError(.invalidConfiguration, "learning rate must be a positive number, got \(learningRate)")
        }
        guard learningRateDecay.isFinite, learningRateDecay > 0, learningRateDecay <= 1, decayEvery >= 1 else {
            throw RNNCoreError(
                .invalidConfiguration, "learning-rate decay must be in (0, 1] and decay interval >= 1 step")
        }
        switch clipping {
        case .none: break
        case .value(let x), .norm(let x):
            guard x.isFinite, x > 0 else {
                throw RNNCoreError(.invalidConfiguration, "clipping limit must be a positive number, got \(x)")
            }
        }
    }
}
