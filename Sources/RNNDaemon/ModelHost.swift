import NIOConcurrencyHelpers
import RNNCore
import RNNJSON
import RNNProtocol

/// The weights and vocabulary that samplers read: an immutable snapshot the worker
/// publishes after each step, so sampling never waits for training.
struct PublishedModel: Sendable {
    var model: CharRNN
    var vocabulary: Vocabulary
}

/// Everything the daemon knows about one model, loaded or not. Readers (info, sample) take
/// the published snapshot under the lock; the model's ``ModelWorker`` owns the live weights.
final class ModelHost: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`; the spool by `spoolLock`.
    let name: String
    let store: ModelStore
    private let lock = NIOLock()
    private var published: PublishedModel?
    private var record: ModelRecord
    private var configuration: ModelConfiguration
    private var vocabularyKind: Vocabulary.Kind
    private var activity = ModelState.idle
    private var failure: String?
    private var learnedPosition: Int
    private var worker: ModelWorker?
    private var lastUse = ContinuousClock.now
    private let spoolLock = NIOLock()
    private var spool: FeedSpool

    init(name: String, store: ModelStore, model: CharRNN, vocabulary: Vocabulary, record: ModelRecord) {
        self.name = name
        self.store = store
        self.record = record
        self.configuration = model.configuration
        self.vocabularyKind = vocabulary.kind
        self.spool = FeedSpool(folder: store.folder(name))
        self.learnedPosition = max(record.spoolConsumed, spool.base)
    }

    /// A host for a model whose checkpoint could not be read.
    init(failedName name: String, store: ModelStore, reason: String) {
        self.name = name
        self.store = store
        self.record = ModelRecord(
            optimizer: .rmsprop, learningRate: 0, momentum: 0, alpha: 0, beta1: 0, beta2: 0, epsilon: 0, clip: .none,
            clipValue: 0, learningRateDecay: 1, learningRateDecayEvery: 1, initialization: .charrnn, batchSize: 1,
            seqLength: 1, maxVocabulary: 1, seed: 0)
        self.configuration = ModelConfiguration(architecture: .lstm, layers: 0, hiddenSize: 0, vocabularySize: 0)
        self.vocabularyKind = .bytes
        self.failure = reason
        self.spool = FeedSpool(folder: store.folder(name))
        self.learnedPosition = 0
    }

    var snapshot: PublishedModel? {
        lock.withLock {
            lastUse = .now
            return published
        }
    }

    var isLoaded: Bool { lock.withLock { worker != nil } }
    var currentWorker: ModelWorker? { lock.withLock { worker } }
    var failureReason: String? { lock.withLock { failure } }
    var lastUsed: ContinuousClock.Instant { lock.withLock { lastUse } }

    /// Attaches a running worker and its first snapshot.
    func attach(_ worker: ModelWorker, snapshot: PublishedModel) {
        lock.withLock {
            self.worker = worker
            self.published = snapshot
            self.failure = nil
            self.lastUse = .now
        }
    }

    /// Drops the worker and the weights (the model stays on disk).
    func detach() {
        lock.withLock {
            worker = nil
            published = nil
            activity = .idle
        }
    }

    /// Called by the worker after each step or save.
    func publish(_ snapshot: PublishedModel?, record: ModelRecord, learned: Int, activity: ModelState) {
        lock.withLock {
            if let snapshot {
                published = snapshot
                configuration = snapshot.model.configuration
                vocabularyKind = snapshot.vocabulary.kind
            }
            self.record = record
            self.learnedPosition = learned
            self.activity = activity
        }
    }

    // MARK: Feed spool

    /// Appends fed text durably; returns the spool's end position.
    /// With `expectedEnd`, appends only if the spool ends there (exactly-once feeding).
    func appendToSpool(_ bytes: [UInt8], limit: Int, expectedEnd: Int? = nil) throws(DaemonError) -> (
        end: Int, backlog: Int
    ) {
        let learned = lock.withLock { learnedPosition }
        spoolLock.lock()
        defer { spoolLock.unlock() }
        do {
            if let expectedEnd, expectedEnd != spool.end {
                throw DaemonError(
                    .invalidParams,
                    "parameter \"offset\": the spool of model '\(name)' ends at \(spool.end), not \(expectedEnd); "
                        + (expectedEnd < spool.end
                            ? "text up to \(spool.end) is already in (a retry after a lost answer?): send only what follows, with offset \(spool.end)"
                            : "send offset \(spool.end)"),
                    details: ["parameter": .string("offset"), "spool_end": .integer(spool.end)])
            }
            let backlog = spool.end - learned
            guard backlog + bytes.count <= limit else {
                throw DaemonError(
                    .limitReached,
                    "model '\(name)' has \(backlog) bytes of fed text not learnt yet; the spool holds at most \(limit). "
                        + "Wait for the learner to catch up, or raise limits.max_spool_bytes")
            }
            let end = try spool.append(bytes)
            return (end, end - learned)
        }
    }

    var spoolEnd: Int { spoolLock.withLock { spool.end } }

    func readSpool(from: Int, limit: Int) throws(DaemonError) -> [UInt8] {
        spoolLock.lock()
        defer { spoolLock.unlock() }
        return try spool.read(from: from, limit: limit)
    }

    func compactSpool(upTo position: Int) throws(DaemonError) {
        spoolLock.lock()
        defer { spoolLock.unlock() }
        try spool.compact(upTo: position)
    }

    // MARK: Reports

    var summary: ModelSummary {
        lock.withLock {
            ModelSummary(
                name: name, architecture: configuration.architecture.wire, layers: configuration.layers,
                hiddenSize: configuration.hiddenSize, parameters: ParameterLayout(configuration).count,
                loaded: worker != nil, state: failure == nil ? (worker == nil ? .unloaded : activity) : .failed,
                steps: record.steps)
        }
    }

    /// The model's shape and its default batch shape, for checks before a job starts.
    var trainingShape: (configuration: ModelConfiguration, batchSize: Int, seqLength: Int) {
        lock.withLock { (configuration, record.batchSize, record.seqLength) }
    }

    var details: ModelDetails {
        let end = spoolEnd
        return lock.withLock {
            let parameters = configuration.layers > 0 ? ParameterLayout(configuration).count : 0
            let momentCount = record.optimizerKind.momentCount
            let last = record.lossHistory.last
            return ModelDetails(
                name: name, architecture: configuration.architecture.wire, layers: configuration.layers,
                hiddenSize: configuration.hiddenSize, embeddingSize: configuration.embeddingSize,
                dropout: Double(configuration.dropout), vocabulary: vocabularyKind.wire,
                vocabularySize: configuration.vocabularySize, maxVocabulary: record.maxVocabulary,
                parameters: parameters,
                bytesInMemory: worker == nil ? 0 : parameters * 4 * (2 + momentCount), loaded: worker != nil,
                state: failure == nil ? (worker == nil ? .unloaded : activity) : .failed, optimizer: record.optimizer,
                learningRate: record.learningRate, clip: record.clip, clipValue: record.clipValue,
                batchSize: record.batchSize, seqLength: record.seqLength, steps: record.steps,
                charactersSeen: record.charactersSeen, lastLoss: last?.loss,
                lastValidationLoss: record.lossHistory.last { $0.validationLoss != nil }?.validationLoss,
                lossHistory: record.lossHistory, feedBacklogBytes: max(0, end - learnedPosition),
                feedTotalBytes: end, samplingDefaults: SamplingDefaults(temperature: 1, length: 200),
                error: failure)
        }
    }
}
