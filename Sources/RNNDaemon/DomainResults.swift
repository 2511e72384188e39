import Corpora
import RNNCore
import RNNJSON
import RNNProtocol
import RNNService

// The service's answers in the contract's result types.

extension ModelDetails {
    init(_ r: ModelReport) {
        self.init(
            name: r.name, architecture: r.configuration.architecture.wire, layers: r.configuration.layers,
            hiddenSize: r.configuration.hiddenSize, embeddingSize: r.configuration.embeddingSize,
            dropout: Double(r.configuration.dropout), vocabulary: r.vocabularyKind.wire,
            vocabularySize: r.configuration.vocabularySize, maxVocabulary: r.maxVocabulary,
            parameters: r.parameters, bytesInMemory: r.bytesInMemory, loaded: r.loaded, state: r.activity.wire,
            optimizer: r.optimizer.wire, learningRate: r.learningRate, clip: r.clip.wire, clipValue: r.clipValue,
            batchSize: r.batchSize, seqLength: r.seqLength, steps: r.steps, charactersSeen: r.charactersSeen,
            lastLoss: r.lastLoss, lastValidationLoss: r.lastValidationLoss,
            lossHistory: r.lossHistory.map {
                LossPoint(step: $0.step, loss: $0.loss, validationLoss: $0.validationLoss)
            }, feedBacklogBytes: r.feedBacklogBytes, feedTotalBytes: r.feedTotalBytes,
            samplingDefaults: SamplingDefaults(temperature: 1, length: 200), error: r.failure,
            keptBest: r.keptBest.map {
                KeptBest(
                    job: $0.job, step: $0.step, validationLoss: $0.validationLoss, lastStep: $0.lastStep,
                    lastValidationLoss: $0.lastValidationLoss)
            })
    }
}

extension ModelSummary {
    init(_ r: ModelReport) {
        self.init(
            name: r.name, architecture: r.configuration.architecture.wire, layers: r.configuration.layers,
            hiddenSize: r.configuration.hiddenSize, parameters: r.parameters, loaded: r.loaded,
            state: r.activity.wire, steps: r.steps)
    }
}

extension JobInfo {
    init(_ p: JobProgress) {
        self.init(job: p.id, model: p.model, state: p.phase.wire, step: p.step, elapsedSeconds: p.elapsedSeconds)
        totalSteps = p.totalSteps
        epoch = p.epoch
        loss = p.loss
        validationLoss = p.validationLoss
        charactersPerSecond = p.charactersPerSecond
        etaSeconds = p.etaSeconds
        error = p.error
        curriculumLength = p.curriculumLength
        curriculumNesting = p.curriculumNesting
        answerAccuracy = p.answerAccuracy
        exactMatch = p.exactMatch
        bestValidationLoss = p.bestValidationLoss
        bestStep = p.bestStep
        keptBest = p.keptBest
        learningRate = p.learningRate
        stopReason = p.stopReason?.wire
    }
}

extension SampleResult {
    init(_ o: SampleOutcome) {
        self.init(
            text: o.text, characters: o.characters, charactersPerSecond: o.charactersPerSecond,
            stopReason: SampleStop(o.stopReason), seed: Int(truncatingIfNeeded: o.seed))
    }
}

extension EvaluateResult {
    init(_ e: Evaluation) {
        self.init(
            loss: e.loss, bitsPerCharacter: e.bitsPerCharacter, characters: e.characters,
            answerAccuracy: e.answerAccuracy, exactMatch: e.exactMatch, samples: e.samples,
            unit: e.perByte ? .byte : .character, unknownCharacters: e.unknownCharacters > 0 ? e.unknownCharacters : nil
        )
    }
}

extension PluginInfo {
    init(_ plugin: CorpusPlugin) {
        self.init(
            name: plugin.description.name, description: plugin.description.description, path: plugin.path,
            parameters: plugin.description.parameters.map {
                PluginParameter(name: $0.name, type: $0.type, default: $0.default, description: $0.description)
            })
    }
}

extension ModelBlueprint {
    /// `model.create`'s validated parameters in the service's terms.
    init(_ p: ModelCreate.Params) throws(ServiceError) {
        self.init(
            name: p.model, architecture: CellArchitecture(p.architecture), layers: p.layers, hiddenSize: p.hiddenSize)
        embeddingSize = p.embeddingSize
        dropout = p.dropout
        vocabulary = Vocabulary.Kind(p.vocabulary)
        corpus = try p.corpus.map { (spec) throws(ServiceError) in try CorpusRequest(spec) }
        maxVocabulary = p.maxVocabulary
        initialization = InitializationRule(p.initialization)
        seed = p.seed
        hyperparameters.optimizer = OptimizerRule(p.optimizer)
        hyperparameters.learningRate = p.learningRate
        hyperparameters.momentum = p.momentum
        hyperparameters.alpha = p.alpha
        hyperparameters.beta1 = p.beta1
        hyperparameters.beta2 = p.beta2
        hyperparameters.epsilon = p.epsilon
        hyperparameters.clip = ClippingRule(p.clip)
        hyperparameters.clipValue = p.clipValue
        hyperparameters.learningRateDecay = p.learningRateDecay
        hyperparameters.learningRateDecayEvery = p.learningRateDecayEvery
        hyperparameters.batchSize = p.batchSize
        hyperparameters.seqLength = p.seqLength
    }
}

extension CorpusRequest {
    /// A corpus spec in the service's terms: exactly one source, plugin parameters as text.
    init(_ spec: CorpusSpec) throws(ServiceError) {
        let kinds = [spec.text != nil, spec.file != nil, spec.dir != nil, spec.l2e != nil, spec.plugin != nil]
        guard kinds.filter({ $0 }).count == 1 else {
            throw .invalid("corpus", "must have exactly one of \"text\", \"file\", \"dir\", \"l2e\" or \"plugin\"")
        }
        if spec.params != nil && spec.plugin == nil { throw .invalid("corpus.params", "is only for plugins") }
        if let text = spec.text {
            guard !text.isEmpty else { throw .invalid("corpus.text", "is empty: give the text to train on") }
            self = .text(text)
        } else if let file = spec.file {
            self = .file(file)
        } else if let dir = spec.dir {
            self = .folder(dir)
        } else if let l2e = spec.l2e {
            self = .learningToExecute(LearningToExecuteCorpus.Options(l2e))
        } else {
            var values: [String: String] = [:]
            for (key, value) in spec.params?.objectValue ?? [:] {
                switch value {
                case .string(let s): values[key] = s
                case .number(let n): values[key] = n.description
                case .bool(let b): values[key] = b ? "true" : "false"
                default: throw .invalid("corpus.params.\(key)", "must be a string, a number or a boolean")
                }
            }
            self = .plugin(name: spec.plugin ?? "", parameters: values)
        }
    }
}

extension LearningToExecuteCorpus.Options {
    init(_ l2e: L2ESpec) {
        self.init()
        if let task = l2e.task { self.task = .init(task) }
        if let curriculum = l2e.curriculum { self.curriculum = .init(curriculum) }
        if let split = l2e.split { self.split = .init(split) }
        length = l2e.length ?? length
        nesting = l2e.nesting ?? nesting
        if let sequences = l2e.sequences { separateSequences = sequences == .separate }
        seed = UInt64(l2e.seed ?? 1)
        answerOnlyLoss = l2e.answerOnlyLoss
        reverseAnswer = l2e.reverseAnswer
        reverseInput = l2e.reverseInput
        doubleInput = l2e.doubleInput
        samples = l2e.samples
    }
}

extension SnapshotInfo {
    init(_ s: SnapshotSummary) {
        self.init(name: s.name, step: s.step, validationLoss: s.validationLoss, bytes: s.bytes, created: s.created)
    }
}
