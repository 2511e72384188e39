/// All scratch for running a model over `steps x batch` tokens, forward and (when training)
/// backward. Allocated once per shape; nothing is allocated by ``forward`` or ``backward``.
///
/// Rows are time-major: row `t·B + b` is step `t` of stream `b`.
final class SequenceWorkspace {
    let configuration: ModelConfiguration
    let layout: ParameterLayout
    let batch: Int
    /// The steps the next ``forward`` runs (at most ``stepCapacity``).
    private(set) var steps: Int
    /// The steps the buffers hold.
    let stepCapacity: Int
    let isTraining: Bool
    let layers: [LayerBuffers]
    /// `T·B x E`: gathered embeddings, when the model has an embedding.
    let embedded: FloatBuffer?
    /// `T·B x E`: gradient on `embedded` (training with an embedding).
    let embeddedGradient: FloatBuffer?
    /// `T·B x V`: logits, then probabilities, then (training) their gradient.
    let logits: FloatBuffer
    /// `G·H`: the bias added to every row of a layer's input part.
    let rowBias: FloatBuffer
    /// `B x H`: the gradient on `h_t` being assembled, and the one carried to `t−1`.
    let hiddenGradient: FloatBuffer
    let carriedGradient: FloatBuffer
    /// The recurrent weights of the layer being run, packed for the products of its steps.
    let packedWeights = PackedWeightsBuffer()
    /// LSTM gates by the quicker kernel (`lstm_forward_quick`: a rational tanh, activations
    /// within about 4e-7 of the exact ones). A training workspace's, whose steps it makes
    /// 3-6% quicker at 2x128 (its gradients are those of the exact cell at the activations
    /// it computed), and the ``Sampler``'s, so that it computes what a ``SamplingBatch`` does.
    /// Evaluation (validation loss, logits, scores) keeps the exact activations.
    let quickGates: Bool

    /// A workspace for `batch` streams of `steps` steps; `quickGates` defaults to `training`.
    init(configuration: ModelConfiguration, batch: Int, steps: Int, training: Bool, quickGates: Bool? = nil) {
        self.configuration = configuration
        self.layout = ParameterLayout(configuration)
        self.batch = batch
        self.steps = steps
        self.stepCapacity = steps
        self.isTraining = training
        self.quickGates = quickGates ?? training
        let h = configuration.hiddenSize
        let useDropout = configuration.dropout > 0
        layers = (0..<configuration.layers).map { l in
            LayerBuffers(
                architecture: configuration.architecture, batch: batch, steps: steps, hidden: h,
                dropout: useDropout && l < configuration.layers - 1, training: training)
        }
        let e = configuration.embeddingSize
        embedded = e > 0 ? FloatBuffer(steps * batch * e) : nil
        embeddedGradient = e > 0 && training ? FloatBuffer(steps * batch * e) : nil
        logits = FloatBuffer(steps * batch * configuration.vocabularySize)
        rowBias = FloatBuffer(configuration.architecture.gateCount * h)
        hiddenGradient = FloatBuffer(batch * h)
        carriedGradient = FloatBuffer(batch * h)
    }

    /// Whether this workspace fits a model of `configuration` and the given shape.
    func fits(_ configuration: ModelConfiguration, batch: Int, steps: Int, training: Bool) -> Bool {
        // Not a training workspace for evaluation either: evaluation never takes the quicker gates.
        self.configuration == configuration && self.batch == batch && self.steps == steps && isTraining == training
    }

    /// Runs the next forward passes over `steps` (at most ``stepCapacity``) steps, in the
    /// first rows of the buffers (rows are time-major, so a shorter run is a prefix): texts of
    /// many lengths share one workspace instead of one per length.
    func run(steps: Int) {
        precondition(steps >= 1 && steps <= stepCapacity && !isTraining)
        self.steps = steps
    }

    /// Copies the carried-in state into row block 0 of every layer.
    func load(_ state: RecurrentState) {
        precondition(state.batchSize == batch)
        let n = batch * configuration.hiddenSize
        state.values.withUnsafeBufferPointer { v in
            for (l, layer) in layers.enumerated() {
                let base = v.baseAddress! + l * state.layerStride
                layer.hidden.base.update(from: base, count: n)
                layer.cell?.base.update(from: base + n, count: n)
            }
        }
    }

    /// Copies the state after the last step into `state`.
    func store(into state: inout RecurrentState) {
        precondition(state.batchSize == batch)
        let n = batch * configuration.hiddenSize
        let last = steps * n
        let stride = state.layerStride
        state.values.withUnsafeMutableBufferPointer { v in
            for (l, layer) in layers.enumerated() {
                let base = v.baseAddress! + l * stride
                base.update(from: layer.hidden[last], count: n)
                if let cell = layer.cell { (base + n).update(from: cell[last], count: n) }
            }
        }
    }

    /// The input of layer `l` (`T·B x inputSize`); nil for a one-hot layer 0.
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float>? {
        if l == 0 { return embedded?.base }
        let below = layers[l - 1]
        return below.dropped?.base ?? below.hidden[batch * configuration.hiddenSize]
    }

    /// The top layer's outputs, `T·B x H`, as the decoder sees them.
    var topOutput: UnsafeMutablePointer<Float> {
        layers[layers.count - 1].hidden[batch * configuration.hiddenSize]
    }
}

extension SequenceWorkspace {
    /// For a one-step workspace: makes the state after the step the state before the next,
    /// without leaving the workspace (the sampler's inner loop).
    func carryOver() {
        let n = batch * configuration.hiddenSize
        let last = steps * n
        for layer in layers {
            layer.hidden.base.update(from: layer.hidden[last], count: n)
            if let cell = layer.cell { cell.base.update(from: cell[last], count: n) }
        }
    }
}
