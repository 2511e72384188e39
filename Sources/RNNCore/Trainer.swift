import RNNKernels

/// What one training step did.
public struct StepReport: Sendable, Hashable {
    /// Mean loss per counted character, in nats.
    public var loss: Double
    /// Summed loss over the batch, in nats (min-char-rnn's `loss`).
    public var totalLoss: Double
    /// Characters the loss counted (the sum of the weights).
    public var characters: Double
    /// Global L2 norm of the gradient before clipping.
    public var gradientNorm: Double
    /// The learning rate the update used.
    public var learningRate: Float
    /// The optimizer's step count after the update.
    public var step: Int
}

/// Trains one model with truncated BPTT. Owns the weights, the optimizer and the carried
/// state; confined to one thread (not `Sendable`). Read ``model`` for a snapshot to sample.
public final class Trainer {
    /// The model being trained; copying it gives a snapshot.
    public private(set) var model: CharRNN
    /// The optimizer's rule, step and moments.
    public private(set) var optimizer: Optimizer
    /// Learning rate, clipping and loss reduction; may change between steps.
    public var settings: TrainingSettings
    /// The hidden state carried between batches.
    public var state: RecurrentState
    /// The gradient of the last step (after clipping), laid out like the parameters.
    public private(set) var gradients: [Float]
    private var workspace: SequenceWorkspace?

    /// Frees the training scratch (activations and gradients of a whole batch); the next step
    /// allocates it again. For a caller about to do something else memory-hungry, such as a
    /// final validation pass.
    public func releaseScratch() { workspace = nil }
    private var dropoutGenerator: RandomGenerator

    /// Creates a trainer.
    ///
    /// - Parameters:
    ///   - optimizer: a fresh or resumed optimizer sized for `model`.
    ///   - seed: seeds the dropout masks.
    /// - Throws: ``RNNCoreError`` when the settings are invalid or the optimizer does not fit.
    public init(model: CharRNN, optimizer: Optimizer, settings: TrainingSettings, seed: UInt64 = 0) throws(RNNCoreError)
    {
        try settings.validate()
        for name in settings.frozenTensors where model.layout.tensor(named: name) == nil {
            throw RNNCoreError(.invalidConfiguration, "cannot freeze '\(name)': the model has no such tensor")
        }
        guard optimizer.moments.allSatisfy({ $0.count == model.parameterCount }) else {
            throw RNNCoreError(.shapeMismatch, "the optimizer state does not match the model's parameters")
        }
        self.model = model
        self.optimizer = optimizer
        self.settings = settings
        self.state = RecurrentState(model.configuration, batchSize: 1)
        self.gradients = [Float](repeating: 0, count: model.parameterCount)
        self.dropoutGenerator = RandomGenerator(seed: seed ^ 0xD20F_0A7D)
    }

    /// Computes loss and gradient of `batch` from the carried state, without updating.
    /// Leaves the gradient (unclipped) in ``gradients`` and returns the loss and the state
    /// after the batch.
    public func lossAndGradient(_ batch: TokenBatch) throws(RNNCoreError) -> (
        loss: Double, characters: Double, state: RecurrentState
    ) {
        let configuration = model.configuration
        try batch.validate(vocabularySize: configuration.vocabularySize)
        if state.batchSize != batch.batchSize || batch.resetsState {
            state = RecurrentState(configuration, batchSize: batch.batchSize)
        }
        let ws = workspaceFor(batch: batch.batchSize, steps: batch.steps)
        ws.load(state)
        gradients.withUnsafeMutableBufferPointer { rk_zero_floats($0.baseAddress, $0.count) }
        let rows = batch.batchSize * batch.steps
        let weightSum = batch.weights.map { Double($0.reduce(0, +)) } ?? Double(rows)
        let scale: Float = settings.reduction == .sum ? 1 : Float(1 / max(weightSum, 1e-12))
        var generator: RandomGenerator? = configuration.dropout > 0 ? dropoutGenerator : nil
        var result = (loss: 0.0, weight: 0.0)
        model.parameters.withUnsafeBufferPointer { p in
            batch.inputs.withUnsafeBufferPointer { inputs in
                ws.forward(parameters: p.baseAddress!, inputs: inputs.baseAddress!, dropout: &generator)
                batch.targets.withUnsafeBufferPointer { targets in
                    let lossWeights = batch.weights ?? []
                    lossWeights.withUnsafeBufferPointer { w in
                        result = SoftmaxCrossEntropy.lossAndGradient(
                            logits: ws.logits.base, rows: rows, vocabulary: configuration.vocabularySize,
                            targets: targets.baseAddress!, weights: batch.weights == nil ? nil : w.baseAddress,
                            scale: scale)
                    }
                }
                gradients.withUnsafeMutableBufferPointer { g in
                    ws.backward(parameters: p.baseAddress!, gradients: g.baseAddress!, inputs: inputs.baseAddress!)
                }
            }
        }
        if let generator { dropoutGenerator = generator }
        for name in settings.frozenTensors {
            guard let spec = model.layout.tensor(named: name) else { continue }
            for i in spec.offset..<(spec.offset + spec.count) { gradients[i] = 0 }
        }
        var next = state
        ws.store(into: &next)
        return (result.loss, result.weight, next)
    }

    /// One optimizer step on `batch`: forward, loss, backward, clip, update, carry the state.
    ///
    /// - Throws: ``RNNCoreError`` `.nonFiniteStep` when the loss or gradient is NaN or
    ///   infinite; the weights, optimizer and carried state are then left as they were.
    @discardableResult
    public func step(_ batch: TokenBatch) throws(RNNCoreError) -> StepReport {
        let (loss, characters, nextState) = try lossAndGradient(batch)
        // Clipped before the check: a refused step leaves the weights alone, whatever the
        // gradient buffer then holds.
        let norm = GradientMath.normThenClip(&gradients, settings.clipping)
        guard loss.isFinite, norm.isFinite else {
            throw RNNCoreError(
                .nonFiniteStep,
                "step \(optimizer.step + 1) produced a non-finite \(loss.isFinite ? "gradient" : "loss"); "
                    + "the update was refused and the weights are unchanged (lower the learning rate or clip harder)")
        }
        let lr = settings.learningRate(atStep: optimizer.step)
        optimizer.apply(to: &model.parameters, gradients: gradients, learningRate: lr)
        state = nextState
        return StepReport(
            loss: loss / max(characters, 1e-12), totalLoss: loss, characters: characters, gradientNorm: norm,
            learningRate: lr, step: optimizer.step)
    }

    /// Puts back weights and optimizer state saved earlier (a best-so-far copy, a snapshot),
    /// bit for bit; the carried state starts again from zero.
    ///
    /// - Throws: ``RNNCoreError`` `.shapeMismatch` when the optimizer does not fit the model.
    public func restore(_ saved: CharRNN, optimizer savedOptimizer: Optimizer) throws(RNNCoreError) {
        guard savedOptimizer.moments.allSatisfy({ $0.count == saved.parameterCount }) else {
            throw RNNCoreError(.shapeMismatch, "the optimizer state does not match the model's parameters")
        }
        if saved.layout != model.layout {
            gradients = [Float](repeating: 0, count: saved.parameterCount)
            workspace = nil
        }
        model = saved
        optimizer = savedOptimizer
        state = RecurrentState(saved.configuration, batchSize: 1)
    }

    /// Grows the model's vocabulary (and the optimizer's moments) to `size` symbols.
    public func growVocabulary(
        to size: Int, initialization: ParameterInitialization = .charRNN, generator: inout RandomGenerator
    ) throws(RNNCoreError) {
        guard size > model.configuration.vocabularySize else { return }
        let old = try model.growVocabulary(to: size, initialization: initialization, generator: &generator)
        optimizer.regrow(from: old, to: model.layout)
        gradients = [Float](repeating: 0, count: model.parameterCount)
        workspace = nil
    }

    private func workspaceFor(batch: Int, steps: Int) -> SequenceWorkspace {
        if let ws = workspace, ws.fits(model.configuration, batch: batch, steps: steps, training: true) { return ws }
        let ws = SequenceWorkspace(configuration: model.configuration, batch: batch, steps: steps, training: true)
        workspace = ws
        return ws
    }
}
