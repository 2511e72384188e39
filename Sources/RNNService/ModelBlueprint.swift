package import RNNCore

/// How a model learns: its optimizer and its rate schedule, its clipping and its default
/// batch shape. The values given here are those of an imported model, which brings weights
/// but no settings; `model.create` sets each from its request.
package struct TrainingHyperparameters: Sendable, Hashable {
    package var optimizer = OptimizerRule.rmsprop
    /// The rate; the optimizer's usual one (0.1 for Adagrad, 2e-3 otherwise) when nil.
    package var learningRate: Double?
    package var momentum = 0.9
    package var alpha = 0.95
    package var beta1 = 0.9
    package var beta2 = 0.999
    package var epsilon = 1e-8
    package var clip = ClippingRule.norm
    package var clipValue = 5.0
    package var learningRateDecay = 1.0
    package var learningRateDecayEvery = 1000
    package var batchSize = 50
    package var seqLength = 50

    package init() {}

    /// The rate in force: the one given, or the optimizer's usual one.
    var effectiveLearningRate: Double { learningRate ?? (optimizer == .adagrad ? 0.1 : 2e-3) }
}

/// What `model.create` asks for, in the service's terms: a name, a shape, a vocabulary and
/// how the model will learn.
package struct ModelBlueprint: Sendable {
    package var name: String
    package var architecture: CellArchitecture
    package var layers: Int
    package var hiddenSize: Int
    package var embeddingSize = 0
    package var dropout = 0.0
    package var vocabulary = Vocabulary.Kind.characters
    /// Text whose characters make the initial vocabulary (characters vocabularies).
    package var corpus: CorpusRequest?
    /// At most this many characters; `limits.max_vocabulary` when nil.
    package var maxVocabulary: Int?
    package var hyperparameters = TrainingHyperparameters()
    package var initialization = InitializationRule.charrnn
    /// The weights' seed; a random one when nil.
    package var seed: Int?

    package init(name: String, architecture: CellArchitecture, layers: Int, hiddenSize: Int) {
        self.name = name
        self.architecture = architecture
        self.layers = layers
        self.hiddenSize = hiddenSize
    }
}

extension ModelRecord {
    /// A new model's record: its hyperparameters, no steps yet.
    init(_ h: TrainingHyperparameters, initialization: InitializationRule, maxVocabulary: Int, seed: Int) {
        self.init(
            optimizer: h.optimizer, learningRate: h.effectiveLearningRate, momentum: h.momentum, alpha: h.alpha,
            beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon, clip: h.clip, clipValue: h.clipValue,
            learningRateDecay: h.learningRateDecay, learningRateDecayEvery: h.learningRateDecayEvery,
            initialization: initialization, batchSize: h.batchSize, seqLength: h.seqLength,
            maxVocabulary: maxVocabulary, seed: seed)
    }
}

extension InitializationRule {
    /// The engine's scheme this rule names.
    var scheme: ParameterInitialization {
        switch self {
        case .charrnn: .charRNN
        case .gaussian: .gaussian(standardDeviation: 0.01)
        case .pytorch: .pytorchDefault
        }
    }
}
