import Foundation
import Logging
import RNNCore
import RNNJSON
import RNNProtocol

/// The one thread that owns a loaded model's live weights, optimizer and vocabulary. It
/// orders the model's work: commands from RPC handlers (save, grow, ...), the current
/// training job step by step, and learning from the feed spool; it publishes a snapshot for
/// samplers after every step and autosaves.
final class ModelWorker: @unchecked Sendable {
    // @unchecked: `queue`, `job`, `stopRequested` and `wake` are guarded by `condition`;
    // everything else is touched only by the worker thread.
    let host: ModelHost
    private let condition = NSCondition()
    private var queue: [(ModelWorker) -> Void] = []
    private var job: TrainingJob?
    private var stopRequested = false
    private var stopped = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    /// When the thread last came round its loop or finished a step (for the watchdog).
    private var beat = ContinuousClock.now

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
    let logger: Logger
    private var generator: RandomGenerator

    init(
        host: ModelHost, trainer: Trainer, vocabulary: Vocabulary, record: ModelRecord, autosaveSeconds: Double,
        maxParameters: Int = .max, logger: Logger
    ) {
        self.maxParameters = maxParameters
        self.host = host
        self.trainer = trainer
        self.vocabulary = vocabulary
        self.record = record
        self.learned = record.spoolConsumed
        self.autosaveSeconds = autosaveSeconds
        self.logger = logger
        self.generator = RandomGenerator(seed: UInt64(truncatingIfNeeded: record.seed) &+ UInt64(record.steps))
    }

    var snapshot: PublishedModel { PublishedModel(model: trainer.model, vocabulary: vocabulary) }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "rnnd-model-\(host.name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs `body` on the worker thread between steps and returns its result.
    func perform<T: Sendable>(_ body: @escaping (ModelWorker) throws(DaemonError) -> T) async throws(DaemonError) -> T {
        let result: Result<T, DaemonError> = await withCheckedContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(
                    returning: .failure(DaemonError(.modelBusy, "model '\(host.name)' is being unloaded")))
                return
            }
            queue.append { worker in
                do throws(DaemonError) {
                    continuation.resume(returning: .success(try body(worker)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            condition.signal()
            condition.unlock()
        }
        return try result.get()
    }

    /// Hands a job to the worker.
    ///
    /// - Throws: ``DaemonError`` `.modelBusy` when a job is already running.
    func submit(_ newJob: TrainingJob) throws(DaemonError) {
        condition.lock()
        defer { condition.unlock() }
        if let job, !job.isDone {
            throw DaemonError(
                .modelBusy, "model '\(host.name)' is already training (job \(job.id)); cancel it or wait",
                details: ["job": .string(job.id)])
        }
        job = newJob
        condition.signal()
    }

    var currentJob: TrainingJob? {
        condition.lock()
        defer { condition.unlock() }
        return job.flatMap { $0.isDone ? nil : $0 }
    }

    /// Wakes the worker (new feed text).
    func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Asks the worker to finish its current step, interrupt its job, save if changed, exit.
    func stop() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            stopRequested = true
            exitWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// When the worker thread last showed it is alive.
    var lastBeat: ContinuousClock.Instant {
        condition.lock()
        defer { condition.unlock() }
        return stopped ? .now : beat
    }

    // MARK: The thread

    private func run() {
        while true {
            condition.lock()
            beat = .now
            while queue.isEmpty && !stopRequested && (job == nil || job!.isDone) && !hasBacklog && !autosaveDue {
                _ = condition.wait(until: Date(timeIntervalSinceNow: 1))
                beat = .now
            }
            let commands = queue
            queue = []
            let current = job.flatMap { $0.isDone ? nil : $0 }
            let stopping = stopRequested
            condition.unlock()
            for command in commands { command(self) }
            if stopping { break }
            if let current {
                runJob(current)
            } else if hasBacklog {
                learnFromSpool()
            } else if autosaveDue {
                try? save()
            }
        }
        if let current = currentJob {
            current.finish(.interrupted, error: "rnnd stopped; the model keeps what it learnt")
        }
        if dirty {
            do { try save() } catch { logger.error("final save of \(host.name) failed: \(error.message)") }
        }
        condition.lock()
        stopped = true
        let leftover = queue
        queue = []
        let waiters = exitWaiters
        exitWaiters = []
        condition.unlock()
        for command in leftover { command(self) }
        for w in waiters { w.resume() }
    }

    /// Runs pending commands between steps; returns true when the worker must stop.
    func betweenSteps() -> Bool {
        condition.lock()
        beat = .now
        let commands = queue
        queue = []
        let stopping = stopRequested
        condition.unlock()
        for command in commands { command(self) }
        if dirty && autosaveDue { try? save() }
        return stopping
    }

    private var hasBacklog: Bool {
        let end = host.spoolEnd
        return end - learned >= 2 && feedStalledAt != end
    }

    private var autosaveDue: Bool { dirty && seconds(since: lastSave) >= autosaveSeconds }

    // MARK: Publishing and saving

    func publish(activity: ModelState) {
        host.publish(snapshot, record: record, learned: learned, activity: activity)
    }

    /// Checkpoints the model (atomically), then drops the learnt part of the spool.
    @discardableResult
    func save() throws(DaemonError) -> Int {
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
