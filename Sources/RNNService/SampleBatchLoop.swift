import Dispatch
import Foundation
import RNNCore
import Synchronization

/// A batch of one model snapshot's samples, stepped on a thread of its own (a snapshot has
/// up to one per core): requests wait in its inbox, join at the next step while there is
/// room (`limits.max_batch`), and are answered as they end. The thread lingers a second for
/// more work, then retires; a request that finds it retired starts a new loop.
final class SampleBatchLoop: Sendable {
    typealias Reply = CheckedContinuation<Result<SampleOutcome, ServiceError>, Never>

    /// A sample asked for.
    struct Request: Sendable {
        let options: SamplingOptions
        let stream: SampleStream?
        /// From the admin socket: joins before waiting read-only requests.
        var admin = false
        /// Set when the request is cancelled (its client went away): the sample ends.
        var stop = StopFlag()
        let reply: Reply
    }

    let model: String
    /// The snapshot version the loop samples from.
    let version: UInt64
    private let snapshot: PublishedModel
    /// Rows the read-only socket's samples may fill (`limits.max_batch`).
    private let capacity: Int
    /// Rows past `capacity` that only the admin socket's samples take: an administrator's
    /// sample joins at the next step even when read-only clients fill the batch.
    static let adminReserve = 8
    private let counters: SampleCounters
    private let inbox = Mutex(Inbox())
    /// Samples in the loop: waiting, stepping or set aside (the scheduler sends a new one to
    /// the loop with the fewest).
    private let occupancy = Atomic<Int>(0)
    /// Whether its batch spreads rows over the kernel pool (off when a loop runs per core).
    private let splitsRows: Bool
    /// How its batch reads the weights (`sampling.weights`).
    private let precision: SamplingPrecision
    /// Whether the loop is the daemon's only one, so that a lone row may spread its step over
    /// every core (``SamplingBatch/splitsUnits``); the scheduler keeps it up to date.
    private let alone = Atomic<Bool>(false)
    private let doorbell = DispatchSemaphore(value: 0)
    /// Requests of this loop cancelled so far: the loop looks for them only when it changed.
    private let stops = StopCount()
    /// How long an empty loop waits for a request before its thread ends.
    static let lingerSeconds = 1.0

    private struct Inbox: ~Copyable {
        var waiting: [Request] = []
        var retired = false
    }

    /// Told when the loop has retired (with no lock of the loop's held).
    private let onRetire: @Sendable (SampleBatchLoop) -> Void

    init(
        model: String, snapshot: PublishedModel, capacity: Int, counters: SampleCounters, splitsRows: Bool = true,
        precision: SamplingPrecision = .single, onRetire: @escaping @Sendable (SampleBatchLoop) -> Void
    ) {
        self.splitsRows = splitsRows
        self.precision = precision
        self.model = model
        self.version = snapshot.version
        self.snapshot = snapshot
        self.capacity = capacity
        self.counters = counters
        self.onRetire = onRetire
    }

    /// Samples in the loop: waiting, stepping or set aside.
    var load: Int { occupancy.load(ordering: .relaxed) }

    /// Tells the loop whether it is the only one stepping samples.
    func setAlone(_ isAlone: Bool) { alone.store(isAlone, ordering: .relaxed) }

    /// Whether the loop takes no more requests.
    var isRetired: Bool { inbox.withLock { $0.retired } }

    /// Queues `request` for the next step; false when the loop has retired.
    func enqueue(_ request: Request) -> Bool {
        let accepted = inbox.withLock { inbox in
            guard !inbox.retired else { return false }
            if request.admin, let firstReadOnly = inbox.waiting.firstIndex(where: { !$0.admin }) {
                inbox.waiting.insert(request, at: firstReadOnly)
            } else {
                inbox.waiting.append(request)
            }
            return true
        }
        if accepted {
            occupancy.add(1, ordering: .relaxed)
            let (doorbell, stops) = (doorbell, stops)
            request.stop.onSet {
                stops.count.add(1, ordering: .relaxed)
                doorbell.signal()
            }
            doorbell.signal()
        }
        return accepted
    }

    /// Starts the loop's thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "rnnd-sample"
        thread.start()
    }

    /// A sample in the batch (or set aside), as its thread tracks it. That thread alone
    /// touches it, so its variables skip the run-time exclusivity checks (a thread-local
    /// lookup per access, every step of every row).
    final class Active {
        let request: Request
        // Arrays, made a String once: appending to a String's scalar view costs a generic
        // call and an allocation per step (7% of a 16-client batch's time).
        @exclusivity(unchecked) var text: [Unicode.Scalar] = []
        /// Streamed text not yet handed on.
        @exclusivity(unchecked) var unsent: [Unicode.Scalar] = []
        @exclusivity(unchecked) var lastSent = ContinuousClock.now
        let start = ContinuousClock.now
        /// Sends for a client that once had no room; from then on every piece goes through it.
        @exclusivity(unchecked) var outlet: StreamOutlet?

        init(request: Request) {
            self.request = request
            // A sample without a stream gets its text in one piece, at its end.
            if request.stream != nil { text.reserveCapacity(SamplingBatch.reservedCharacters(request.options)) }
        }
    }

    /// What the loop's thread owns.
    private struct Rows {
        var active: [Int: Active] = [:]
        /// Samples set aside while their clients catch up.
        var parked: [Int: SamplingBatch.Suspended] = [:]
        var nextID = 0
    }

    private func run() {
        let batch: SamplingBatch
        do {
            batch = try SamplingBatch(
                model: snapshot.model, vocabulary: snapshot.vocabulary, capacity: capacity + Self.adminReserve,
                precision: precision)
            batch.splitsRows = splitsRows
        } catch {
            retire(failing: ServiceError(.invalidArgument, error.message))
            onRetire(self)
            return
        }
        var rows = Rows()
        var stopsSeen = 0
        while true {
            let stopsNow = stops.count.load(ordering: .relaxed)
            if stopsNow != stopsSeen {
                stopsSeen = stopsNow
                endStopped(&rows, batch)
            }
            resumeParked(&rows, batch)
            let joining = inbox.withLock { inbox -> [Request] in
                // Admin requests wait in front of read-only ones.
                var taken = 0
                for request in inbox.waiting {
                    guard batch.count + taken < room(for: request) else { break }
                    taken += 1
                }
                defer { inbox.waiting.removeFirst(taken) }
                return Array(inbox.waiting.prefix(taken))
            }
            for request in joining {
                if request.stop.isSet {
                    refuse(request, StopFlag.stoppedError)
                    continue
                }
                do {
                    try batch.add(id: rows.nextID, options: request.options, streams: request.stream != nil)
                    rows.active[rows.nextID] = Active(request: request)
                    rows.nextID += 1
                } catch {
                    refuse(request, ServiceError(.invalidArgument, error.message))
                }
            }
            if batch.isEmpty {
                if !rows.parked.isEmpty {
                    // Only slow readers left: their outlets ring when they have caught up.
                    doorbell.wait()
                } else if doorbell.wait(timeout: .now() + Self.lingerSeconds) != .success, retireIfIdle() {
                    onRetire(self)
                    return
                }
                continue
            }
            batch.splitsUnits = alone.load(ordering: .relaxed) && ComputeActivity.isIdle
            let size = batch.count
            let now = ContinuousClock.now
            var leaving: [(sample: Active, id: Int, stopReason: StopReason?, gone: Bool)] = []
            var settingAside: [Int] = []
            // A sample without a stream is reported once, when it ends, with all its text.
            let drawn = batch.step { progress in
                guard let sample = rows.active[progress.id] else { return }
                sample.text.append(contentsOf: progress.text)
                let gone = deliver(sample, progress, now: now)
                if gone || progress.stopReason != nil {
                    leaving.append((sample, progress.id, progress.stopReason, gone))
                } else if let outlet = sample.outlet, outlet.backlog > StreamOutlet.highWater {
                    settingAside.append(progress.id)
                }
            }
            // Counted before the answers go out, so that a status asked after an answer has
            // its characters.
            counters.stepped(rows: size, characters: drawn)
            for (sample, id, stopReason, gone) in leaving {
                // A client that went away ends its sample, with what was drawn.
                if gone { batch.remove(id: id) }
                rows.active[id] = nil
                finish(sample, stopReason: gone ? nil : stopReason)
            }
            for id in settingAside {
                if let suspended = batch.suspend(id: id) { rows.parked[id] = suspended }
            }
            // A step keeps its core busy from one to the next; between steps, a thread waiting
            // for a core (the event loop with answers to write and requests to read) gets it.
            // Not while training or an evaluation runs: a yield to it would cost the samples a
            // scheduler time slice (see ComputeActivity). Nor for a lone sample in the daemon's
            // only loop, whose one answer the event loop gets the core for when it wakes: the
            // call cost it 0.37 us of a 5.4 us step (2x128), and 3-4% of its speed.
            if ComputeActivity.isIdle, size > 1 || !alone.load(ordering: .relaxed) { sched_yield() }
        }
    }

    /// Ends the samples whose requests were cancelled (their clients went away), stepping
    /// or parked, with what they drew: no one is left to read the rest.
    private func endStopped(_ rows: inout Rows, _ batch: SamplingBatch) {
        // Those still waiting to join, whether or not the batch has room for them.
        let waiting = inbox.withLock { inbox -> [Request] in
            var stopped: [Request] = []
            inbox.waiting.removeAll { request in
                guard request.stop.isSet else { return false }
                stopped.append(request)
                return true
            }
            return stopped
        }
        for request in waiting { refuse(request, StopFlag.stoppedError) }
        let stopped = rows.active.filter { $0.value.request.stop.isSet }
        for (id, sample) in stopped {
            if rows.parked.removeValue(forKey: id) == nil { sample.text += batch.remove(id: id) }
            rows.active[id] = nil
            finish(sample, stopReason: nil)
        }
    }

    /// Puts back the parked samples whose clients have read down to the outlet's low water
    /// mark, and ends those whose clients went away.
    private func resumeParked(_ rows: inout Rows, _ batch: SamplingBatch) {
        for (id, suspended) in rows.parked {
            guard let sample = rows.active[id], let outlet = sample.outlet else { continue }
            if outlet.isGone {
                rows.parked[id] = nil
                rows.active[id] = nil
                finish(sample, stopReason: nil)
            } else if outlet.backlog <= StreamOutlet.lowWater, batch.count < room(for: sample.request) {
                try? batch.resume(suspended)
                rows.parked[id] = nil
            }
        }
    }

    /// Hands a streamed sample's new text on when a piece is due (64 characters, 20 ms, or
    /// the end): straight to the client while it has room, else through an outlet. True
    /// when the client has gone away.
    private func deliver(_ sample: Active, _ progress: SamplingBatch.Progress, now: ContinuousClock.Instant) -> Bool {
        guard let stream = sample.request.stream else { return false }
        sample.unsent.append(contentsOf: progress.text)
        let due = sample.unsent.count >= 64 || now - sample.lastSent >= .milliseconds(20)
        guard !sample.unsent.isEmpty, due || progress.stopReason != nil else { return false }
        let piece = String(scalars: sample.unsent)
        let characters = sample.unsent.count
        sample.unsent.removeAll(keepingCapacity: true)
        sample.lastSent = now
        if let outlet = sample.outlet {
            if outlet.isGone { return true }
            outlet.push(piece, characters: characters)
            return false
        }
        switch stream.offer(piece) {
        case .sent: return false
        case .gone: return true
        case .full:
            let doorbell = doorbell
            let outlet = StreamOutlet(stream: stream) { doorbell.signal() }
            outlet.push(piece, characters: characters)
            sample.outlet = outlet
            return false
        }
    }

    /// Answers a sample, after its outlet (if it has one) has sent what it holds.
    private func finish(_ sample: Active, stopReason: StopReason?) {
        let elapsed = seconds(since: sample.start)
        let outcome = SampleOutcome(
            text: String(scalars: sample.text), characters: sample.text.count,
            charactersPerSecond: Double(sample.text.count) / max(elapsed, 1e-9), stopReason: stopReason,
            seed: sample.request.options.seed)
        counters.answered()
        occupancy.subtract(1, ordering: .relaxed)
        let reply = sample.request.reply
        if let outlet = sample.outlet {
            outlet.close { reply.resume(returning: .success(outcome)) }
        } else {
            reply.resume(returning: .success(outcome))
        }
    }

    /// Retires when nothing waits; false when a request arrived meanwhile.
    private func retireIfIdle() -> Bool {
        inbox.withLock { inbox in
            guard inbox.waiting.isEmpty else { return false }
            inbox.retired = true
            return true
        }
    }

    /// Retires and answers everything waiting with `failure`.
    private func retire(failing failure: ServiceError) {
        let waiting = inbox.withLock { inbox in
            inbox.retired = true
            defer { inbox.waiting = [] }
            return inbox.waiting
        }
        for request in waiting { refuse(request, failure) }
    }

    /// Rows the batch may have stepping for `request` to step too: the admin's take the
    /// reserve as well.
    private func room(for request: Request) -> Int {
        capacity + (request.admin ? Self.adminReserve : 0)
    }

    /// Answers a request that will not be sampled.
    private func refuse(_ request: Request, _ failure: ServiceError) {
        occupancy.subtract(1, ordering: .relaxed)
        request.reply.resume(returning: .failure(failure))
    }
}

extension String {
    /// The text of `scalars`, encoded to UTF-8 in one pass.
    init(scalars: [Unicode.Scalar]) {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(scalars.count)
        for scalar in scalars { UTF8.encode(scalar) { utf8.append($0) } }
        self = String(decoding: utf8, as: UTF8.self)
    }
}

/// Cancellations counted for a loop (a class, so that a request's stop flag can count
/// without holding the loop).
final class StopCount: Sendable {
    let count = Atomic<Int>(0)
}
