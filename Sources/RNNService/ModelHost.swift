import RNNCore
import RNNJSON
import Synchronization

/// The weights and vocabulary that samplers read: an immutable snapshot the worker
/// publishes after each step, so sampling never waits for training.
struct PublishedModel: Sendable {
    var model: CharRNN
    var vocabulary: Vocabulary
    /// Distinct for every publication: samples of one version may share a batch.
    var version = PublishedModel.versions.add(1, ordering: .relaxed).newValue

    private static let versions = Atomic<UInt64>(0)
}

/// Everything the daemon knows about one model, loaded or not. Readers (info, sample) take
/// the published snapshot; the model's ``ModelWorker`` owns the live weights. The state lives
/// in `Mutex`es (one for what the worker publishes, one for the spool), so the compiler
/// checks every access.
final class ModelHost: Sendable {
    let name: String
    let store: ModelStore
    private let state: Mutex<Shared>
    private let spool: Mutex<FeedSpool>

    private struct Shared {
        var published: PublishedModel?
        var record: ModelRecord
        var configuration: ModelConfiguration
        var vocabularyKind: Vocabulary.Kind
        var activity = ModelActivity.idle
        var failure: String?
        var learnedPosition: Int
        var worker: WorkerMailbox?
        var lastUse = ContinuousClock.now
        /// The spool's end as of the last append or compaction (read without the spool's
        /// lock, which a feed holds through its fsync).
        var spoolEnd = 0

        /// What `model.list` and `model.info` say the model is doing.
        var reportedState: ModelActivity { failure == nil ? (worker == nil ? .unloaded : activity) : .failed }
    }

    init(name: String, store: ModelStore, model: CharRNN, vocabulary: Vocabulary, record: ModelRecord) {
        self.name = name
        self.store = store
        let spool = FeedSpool(folder: store.folder(name))
        self.spool = Mutex(spool)
        state = Mutex(
            Shared(
                record: record, configuration: model.configuration, vocabularyKind: vocabulary.kind,
                learnedPosition: max(record.spoolConsumed, spool.base), spoolEnd: spool.end))
    }

    /// A host for a model whose checkpoint could not be read.
    init(failedName name: String, store: ModelStore, reason: String) {
        self.name = name
        self.store = store
        let record = ModelRecord(
            optimizer: .rmsprop, learningRate: 0, momentum: 0, alpha: 0, beta1: 0, beta2: 0, epsilon: 0, clip: .none,
            clipValue: 0, learningRateDecay: 1, learningRateDecayEvery: 1, initialization: .charrnn, batchSize: 1,
            seqLength: 1, maxVocabulary: 1, seed: 0)
        let spool = FeedSpool(folder: store.folder(name))
        self.spool = Mutex(spool)
        state = Mutex(
            Shared(
                record: record,
                configuration: ModelConfiguration(architecture: .lstm, layers: 0, hiddenSize: 0, vocabularySize: 0),
                vocabularyKind: .bytes, failure: reason, learnedPosition: 0, spoolEnd: spool.end))
    }

    var snapshot: PublishedModel? {
        state.withLock { shared in
            shared.lastUse = .now
            return shared.published
        }
    }

    var isLoaded: Bool { state.withLock { $0.worker != nil } }
    var currentWorker: WorkerMailbox? { state.withLock { $0.worker } }

    /// The running worker, or `.modelBusy` when the model is being unloaded.
    func runningWorker() throws(ServiceError) -> WorkerMailbox {
        guard let worker = currentWorker else { throw .unloading(name) }
        return worker
    }
    var failureReason: String? { state.withLock { $0.failure } }
    var lastUsed: ContinuousClock.Instant { state.withLock { $0.lastUse } }

    /// Attaches a running worker and its first snapshot.
    func attach(_ worker: WorkerMailbox, snapshot: PublishedModel) {
        state.withLock { shared in
            shared.worker = worker
            shared.published = snapshot
            shared.failure = nil
            shared.lastUse = .now
        }
    }

    /// Drops the worker and the weights (the model stays on disk).
    func detach() {
        state.withLock { shared in
            shared.worker = nil
            shared.published = nil
            shared.activity = .idle
        }
    }

    /// Called by the worker after each step or save.
    func publish(_ snapshot: PublishedModel?, record: ModelRecord, learned: Int, activity: ModelActivity) {
        state.withLock { shared in
            if let snapshot {
                shared.published = snapshot
                shared.configuration = snapshot.model.configuration
                shared.vocabularyKind = snapshot.vocabulary.kind
            }
            shared.record = record
            shared.learnedPosition = learned
            shared.activity = activity
        }
    }

    // MARK: Feed spool

    /// Appends fed text durably; returns the spool's end position.
    /// With `expectedEnd`, appends only if the spool ends there (exactly-once feeding).
    func appendToSpool(_ bytes: [UInt8], limit: Int, expectedEnd: Int? = nil) throws(ServiceError) -> (
        end: Int, backlog: Int
    ) {
        let learned = state.withLock { $0.learnedPosition }
        let name = name
        return try spool.withLock { (spool) throws(ServiceError) -> (end: Int, backlog: Int) in
            if let expectedEnd, expectedEnd != spool.end {
                throw ServiceError(
                    .invalidArgument,
                    "parameter \"offset\": the spool of model '\(name)' ends at \(spool.end), not \(expectedEnd); "
                        + (expectedEnd < spool.end
                            ? "text up to \(spool.end) is already in (a retry after a lost answer?): send only what follows, with offset \(spool.end)"
                            : "send offset \(spool.end)"),
                    details: ["parameter": .string("offset"), "spool_end": .integer(spool.end)])
            }
            let backlog = spool.end - learned
            guard backlog + bytes.count <= limit else {
                throw ServiceError(
                    .limitReached,
                    "model '\(name)' has \(backlog) bytes of fed text not learnt yet; the spool holds at most \(limit). "
                        + "Wait for the learner to catch up, or raise limits.max_spool_bytes")
            }
            let end = try spool.append(bytes)
            state.withLock { $0.spoolEnd = end }
            return (end, end - learned)
        }
    }

    var spoolEnd: Int { state.withLock { $0.spoolEnd } }

    /// Bytes fed and not learnt yet (as of the last append and the last step published).
    var spoolBacklog: Int { state.withLock { max(0, $0.spoolEnd - $0.learnedPosition) } }

    func readSpool(from: Int, limit: Int) throws(ServiceError) -> [UInt8] {
        try spool.withLock { (spool) throws(ServiceError) -> [UInt8] in try spool.read(from: from, limit: limit) }
    }

    func compactSpool(upTo position: Int) throws(ServiceError) {
        try spool.withLock { (spool) throws(ServiceError) in try spool.compact(upTo: position) }
    }

    // MARK: Reports

    /// The model's shape and its default batch shape, for checks before a job starts.
    var trainingShape: (configuration: ModelConfiguration, batchSize: Int, seqLength: Int) {
        state.withLock { ($0.configuration, $0.record.batchSize, $0.record.seqLength) }
    }

    /// The model as last published, for `model.info` and `model.list`.
    var report: ModelReport {
        let name = name
        return state.withLock { s in
            let end = s.spoolEnd
            let parameters = s.configuration.layers > 0 ? ParameterLayout(s.configuration).count : 0
            let record = s.record
            return ModelReport(
                name: name, configuration: s.configuration, vocabularyKind: s.vocabularyKind,
                maxVocabulary: record.maxVocabulary, parameters: parameters,
                bytesInMemory: s.worker == nil ? 0 : parameters * 4 * (2 + record.optimizerKind.momentCount),
                loaded: s.worker != nil, activity: s.reportedState, optimizer: record.optimizer,
                learningRate: record.learningRate, clip: record.clip, clipValue: record.clipValue,
                batchSize: record.batchSize, seqLength: record.seqLength, steps: record.steps,
                charactersSeen: record.charactersSeen, lossHistory: record.lossHistory,
                feedBacklogBytes: max(0, end - s.learnedPosition), feedTotalBytes: end, failure: s.failure,
                keptBest: record.keptBest)
        }
    }
}
