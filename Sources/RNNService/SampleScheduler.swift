import Dispatch
import Foundation
import RNNCore
import Synchronization

/// Continuous batching for `sample`: requests for the same model and weights (the same
/// published snapshot) join a ``SampleBatchLoop`` at its next step and leave when done, so
/// sixteen clients cost little more than one. A snapshot has up to one loop per core
/// (``lanes``; one for a model large enough to split its products across the cores), each
/// stepping its rows on its own thread: a new request goes to an idle
/// loop, or a new one while there are cores to spare, else to the loop with the fewest
/// samples. The loops never wait on each other (a batch split over the kernel pool waits
/// for its slowest part every step). A model republished by training gets new loops for
/// new requests while the old ones finish their rows.
final class SampleScheduler: Sendable {
    private let settings: ConfigurationBox
    /// The loops of each model's newest snapshot.
    private let loops = Mutex([String: [SampleBatchLoop]]())
    /// Every loop started and not yet retired, the map's and those it has dropped or never
    /// held (older snapshots'); taken inside `loops`' lock, never the other way round.
    private let live = Mutex([ObjectIdentifier: SampleBatchLoop]())
    /// Loops a snapshot runs at most: one per core the kernels use.
    let lanes: Int
    /// Samples admitted and not yet answered, across models (`limits.max_samples`), and
    /// the admin socket's, which the limit does not count.
    private let admitted = Atomic<Int>(0)
    private let adminAdmitted = Atomic<Int>(0)
    /// Totals since start, for status and metrics.
    let counters = SampleCounters()

    /// - Parameter lanes: loops per snapshot at most; by default the kernels' threads, but
    ///   never more than the cores (`engine.threads` may ask for more threads than cores).
    init(settings: ConfigurationBox, lanes: Int = min(BLAS.threadCount, ProcessInfo.processInfo.activeProcessorCount)) {
        self.settings = settings
        self.lanes = max(1, lanes)
    }

    /// Live loops, over all models (for tests).
    var loopCount: Int { loops.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Drops a loop that has retired, so that it no longer holds its weights.
    private func forget(_ loop: SampleBatchLoop) {
        loops.withLock { loops in
            loops[loop.model]?.removeAll { $0 === loop }
            if loops[loop.model]?.isEmpty == true { loops[loop.model] = nil }
            live.withLock { live in
                live[ObjectIdentifier(loop)] = nil
                Self.markAlone(live)
            }
        }
    }

    /// Lets a loop spread a lone row over every core only while it is the only live loop:
    /// two loops each on a core would otherwise contend for the same helper threads.
    private static func markAlone(_ live: [ObjectIdentifier: SampleBatchLoop]) {
        for loop in live.values { loop.setAlone(live.count == 1) }
    }

    /// The totals so far.
    var totals: SamplingTotals {
        SamplingTotals(
            inProgress: admitted.load(ordering: .relaxed) + adminAdmitted.load(ordering: .relaxed),
            samples: counters.samples.load(ordering: .relaxed),
            characters: counters.characters.load(ordering: .relaxed), steps: counters.steps.load(ordering: .relaxed),
            rowSteps: counters.rowSteps.load(ordering: .relaxed),
            largestBatch: counters.largestBatch.load(ordering: .relaxed))
    }

    /// Draws a sample of `model` from `snapshot` in the model's batch and returns it when done.
    ///
    /// - Throws: ``ServiceError`` `.limitReached` past `limits.max_samples`, `.invalidArgument`
    ///   when an option is out of range.
    func sample(
        _ model: String, snapshot: PublishedModel, options: SamplingOptions, stream: SampleStream?,
        admin: Bool = false
    ) async throws(ServiceError) -> SampleOutcome {
        let limits = settings.current.limits
        // The admin socket's samples are not counted: the limit is against the read-only one.
        if !admin {
            guard admitted.add(1, ordering: .relaxed).newValue <= limits.maxSamples else {
                admitted.subtract(1, ordering: .relaxed)
                throw ServiceError(
                    .limitReached,
                    "\(limits.maxSamples) samples are in progress (limits.max_samples); sample again in a moment")
            }
        }
        if admin { adminAdmitted.add(1, ordering: .relaxed) }
        defer {
            if admin { adminAdmitted.subtract(1, ordering: .relaxed) } else { admitted.subtract(1, ordering: .relaxed) }
        }
        return try await StopFlag.whileRunning { stop throws(ServiceError) in
            try await enqueue(model, snapshot: snapshot, options: options, stream: stream, admin: admin, stop: stop)
        }
    }

    /// Hands a sample to a loop of `model`'s newest snapshot and waits for its answer.
    private func enqueue(
        _ model: String, snapshot: PublishedModel, options: SamplingOptions, stream: SampleStream?, admin: Bool,
        stop: StopFlag
    ) async throws(ServiceError) -> SampleOutcome {
        let configuration = settings.current
        let limits = configuration.limits
        let result = await withCheckedContinuation { (continuation: SampleBatchLoop.Reply) in
            let request = SampleBatchLoop.Request(
                options: options, stream: stream, admin: admin, stop: stop, reply: continuation)
            // A model whose products split across the pool runs one loop: the cores share each
            // product, and the weights, which no longer fit the caches, are read once per step.
            let lanesHere = SamplingBatch.splitsProducts(snapshot.model.configuration) ? 1 : lanes
            loops.withLock { loops in
                let current = loops[model]?.filter { !$0.isRetired } ?? []
                let newest = current.first?.version
                if newest == snapshot.version, let least = current.min(by: { $0.load < $1.load }),
                    least.load == 0 || current.count >= lanesHere, least.enqueue(request)
                {
                    return
                }
                let loop = SampleBatchLoop(
                    model: model, snapshot: snapshot, capacity: limits.maxBatch, counters: counters,
                    splitsRows: lanesHere == 1, precision: configuration.sampling.weights
                ) { [weak self] retired in self?.forget(retired) }
                _ = loop.enqueue(request)
                // A request that read the weights before the newest loops' started runs in a
                // loop of its own, which is not remembered: the map keeps the newest weights.
                if newest == snapshot.version {
                    loops[model] = current + [loop]
                } else if newest.map({ snapshot.version > $0 }) ?? true {
                    loops[model] = [loop]
                }
                live.withLock { live in
                    live[ObjectIdentifier(loop)] = loop
                    Self.markAlone(live)
                }
                loop.start()
            }
        }
        return try result.get()
    }
}

/// Totals of batched sampling since start (for `daemon.status`), each event also counted
/// in the metrics.
final class SampleCounters: Sendable {
    /// Characters drawn.
    let characters = Atomic<Int>(0)
    /// Samples finished.
    let samples = Atomic<Int>(0)
    /// Steps run, and rows summed over them (their ratio is the mean batch size).
    let steps = Atomic<Int>(0)
    let rowSteps = Atomic<Int>(0)
    /// The most rows one step has run.
    let largestBatch = Atomic<Int>(0)

    /// A step of `rows` samples that drew `characters`.
    func stepped(rows: Int, characters drawn: Int) {
        characters.add(drawn, ordering: .relaxed)
        steps.add(1, ordering: .relaxed)
        rowSteps.add(rows, ordering: .relaxed)
        largestBatch.max(rows, ordering: .relaxed)
        ServiceMetrics.sampled(characters: drawn)
        ServiceMetrics.stepped(rows: rows)
    }

    /// A sample answered.
    func answered() {
        samples.add(1, ordering: .relaxed)
        ServiceMetrics.answeredSample()
    }
}

/// Batched sampling's totals, as status and metrics report them.
package struct SamplingTotals: Sendable, Hashable {
    /// Samples stepping in a batch or waiting to join one.
    package var inProgress: Int
    package var samples: Int
    package var characters: Int
    package var steps: Int
    package var rowSteps: Int
    package var largestBatch: Int
    /// Rows per step, on average.
    package var meanBatch: Double { steps == 0 ? 0 : Double(rowSteps) / Double(steps) }
}
