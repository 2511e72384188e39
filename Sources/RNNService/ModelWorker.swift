import Foundation
import Logging
import RNNCore
import RNNJSON

/// The one thread that owns a loaded model's live weights, optimizer and vocabulary. It
/// orders the model's work: commands from the service (save, grow, ...), the current
/// training job step by step, and learning from the feed spool; it publishes a snapshot for
/// samplers after every step and autosaves. Others reach it only through its
/// ``WorkerMailbox``; this object itself is handed to its thread at ``start()`` and touched
/// by no other.
final class ModelWorker {
    let host: ModelHost
    /// What others may ask of this worker.
    let mailbox: WorkerMailbox

    var trainer: Trainer
    var vocabulary: Vocabulary
    var record: ModelRecord
    var learned: Int
    /// The spool's end when learning from it last failed: the failed text stays unlearnt and is
    /// retried once more text arrives (or at the next start), not in a loop.
    var feedStalledAt: Int?
    var dirty = false
    private var lastSave = ContinuousClock.now
    let autosaveSeconds: Double
    /// `limits.max_parameters`: the vocabulary grows no further than this allows, so that a
    /// model fed new characters still loads after a restart.
    let maxParameters: Int
    /// `limits.max_snapshots`.
    let maxSnapshots: Int
    /// `training.feed_validation_fraction`.
    let feedValidationFraction: Double
    /// The rolling held-out slice of fed text (the end of each learnt chunk, newest last),
    /// on which online learning is validated; in memory only.
    var feedHeldOut: [Int32] = []
    /// Tokens held out since online learning was last validated.
    var feedHeldOutSinceValidation = 0
    let logger: Logger
    private var generator: RandomGenerator
    private var lastSnapshot: PublishedModel?

    init(
        host: ModelHost, trainer: Trainer, vocabulary: Vocabulary, record: ModelRecord, autosaveSeconds: Double,
        maxParameters: Int = .max, maxSnapshots: Int = 16, feedValidationFraction: Double = 0, logger: Logger
    ) {
        self.feedValidationFraction = feedValidationFraction
        self.maxParameters = maxParameters
        self.maxSnapshots = maxSnapshots
        self.host = host
        self.mailbox = WorkerMailbox(name: host.name)
        self.trainer = trainer
        self.vocabulary = vocabulary
        self.record = record
        self.learned = record.spoolConsumed
        self.autosaveSeconds = autosaveSeconds
        self.logger = logger
        self.generator = RandomGenerator(seed: UInt64(truncatingIfNeeded: record.seed) &+ UInt64(record.steps))
    }

    /// The weights and vocabulary to publish: the last snapshot again while they have not
    /// changed (activity-only publishes), so that its version, and the batch of samples
    /// keyed by it, stay the same.
    var snapshot: PublishedModel {
        if let last = lastSnapshot, last.vocabulary == vocabulary,
            last.model.configuration == trainer.model.configuration,
            last.model.parameters.sharesStorage(with: trainer.model.parameters)
        {
            return last
        }
        let fresh = PublishedModel(model: trainer.model, vocabulary: vocabulary)
        lastSnapshot = fresh
        return fresh
    }

    /// Starts the thread and hands this worker to it; the caller keeps only ``mailbox``.
    static func start(_ worker: sending ModelWorker) {
        // Handed over whole: the caller has no reference left that it may use.
        nonisolated(unsafe) let owned = worker
        let thread = Thread { owned.run() }
        thread.name = "rnnd-model-\(owned.host.name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The job being trained, if any.
    var currentJob: TrainingJob? { mailbox.currentJob }

    // MARK: The thread

    private func run() {
        while true {
            let work = mailbox.collect()
            for command in work.commands { command(self) }
            if work.stopping { break }
            if let current = work.job {
                ComputeActivity.during { runJob(current) }
            } else if hasBacklog {
                ComputeActivity.during { learnFromSpool() }
            } else if autosaveDue {
                do { try save() } catch { logger.error("autosave of \(host.name) failed: \(error.message)") }
            } else {
                // Woken by any request; once a second regardless, for the autosave.
                mailbox.sleep(upTo: .seconds(1))
            }
        }
        if let current = currentJob {
            current.finish(.interrupted, error: "rnnd stopped; the model keeps what it learnt")
        }
        if dirty {
            do { try save() } catch { logger.error("final save of \(host.name) failed: \(error.message)") }
        }
        let (leftover, waiters) = mailbox.close()
        for command in leftover { command(self) }
        for w in waiters { w.resume() }
    }

    /// Runs pending commands between steps; returns true when the worker must stop.
    func betweenSteps() -> Bool {
        let work = mailbox.collect()
        for command in work.commands { command(self) }
        if dirty && autosaveDue {
            do { try save() } catch { logger.error("autosave of \(host.name) failed: \(error.message)") }
        }
        return work.stopping
    }

    private var hasBacklog: Bool {
        let end = host.spoolEnd
        return end - learned >= 2 && feedStalledAt != end
    }

    private var autosaveDue: Bool { dirty && seconds(since: lastSave) >= autosaveSeconds }

    // MARK: Publishing and saving

    func publish(activity: ModelActivity) {
        host.publish(snapshot, record: record, learned: learned, activity: activity)
    }

    /// Checkpoints the model (atomically), then drops the learnt part of the spool.
    @discardableResult
    func save() throws(ServiceError) -> Int {
        record.spoolConsumed = learned
        let bytes = try host.store.save(
            trainer.model, vocabulary: vocabulary, optimizer: trainer.optimizer, record: record, name: host.name)
        dirty = false
        lastSave = .now
        do {
            try host.compactSpool(upTo: learned)
        } catch {
            logger.warning("spool compaction of \(host.name) failed: \(error.message)")
        }
        host.publish(nil, record: record, learned: learned, activity: currentJob == nil ? .idle : .training)
        return bytes
    }

    /// Grows the vocabulary (characters vocabularies) with the unseen characters of `text`,
    /// up to the model's maximum; returns how many were added.
    func growVocabulary(for text: String) -> Int {
        let unseen = vocabulary.unseenScalars(in: text)
        guard !unseen.isEmpty else { return 0 }
        // Each new character adds an input row (the embedding's, or the first layer's gates)
        // and an output row with its bias.
        let configuration = trainer.model.configuration
        let perCharacter =
            (configuration.embeddingSize > 0
                ? configuration.embeddingSize : configuration.architecture.gateCount * configuration.hiddenSize)
            + configuration.hiddenSize + 1
        let parameterRoom = max(0, maxParameters - trainer.model.parameterCount) / max(1, perCharacter)
        let room = max(0, min(record.maxVocabulary - vocabulary.count, parameterRoom))
        if room < unseen.count && parameterRoom < record.maxVocabulary - vocabulary.count {
            logger.warning(
                "vocabulary of \(host.name) stops growing at \(vocabulary.count + room) characters: more would pass limits.max_parameters",
                metadata: ["model": "\(host.name)"])
        }
        let added = Array(unseen.prefix(room))
        guard !added.isEmpty else { return 0 }
        do {
            try vocabulary.grow(with: added, limit: record.maxVocabulary)
            try trainer.growVocabulary(to: vocabulary.count, generator: &generator)
            dirty = true
            return added.count
        } catch {
            logger.warning("vocabulary of \(host.name) cannot grow: \(error)")
            return 0
        }
    }
}

extension Array {
    /// Whether both arrays use one buffer: neither changed since one was copied from the other.
    func sharesStorage(with other: [Element]) -> Bool {
        count == other.count
            && withUnsafeBufferPointer { a in other.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}
