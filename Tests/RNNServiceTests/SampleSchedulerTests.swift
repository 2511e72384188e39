import Foundation
import RNNCore
import Synchronization
import Testing

@testable import RNNService

/// Batched sampling without sockets: a stream that never has room gets its whole text
/// through an outlet (its row set aside and resumed on the way) and the same text as a
/// sample read at once; a client that leaves ends its sample; idle loops let go.
@Suite struct SampleSchedulerTests {
    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 20)
    static let vocabulary = Vocabulary(charactersOf: text)

    static func scheduler(lanes: Int = 2) -> SampleScheduler {
        SampleScheduler(settings: ConfigurationBox(DaemonConfiguration(), path: nil, overrides: { _ in }), lanes: lanes)
    }

    static func snapshot(hidden: Int = 16) throws -> PublishedModel {
        let configuration = ModelConfiguration(
            architecture: .lstm, layers: 1, hiddenSize: hidden, vocabularySize: vocabulary.count)
        return PublishedModel(model: try CharRNN(configuration: configuration, seed: 3), vocabulary: vocabulary)
    }

    /// Collects what a stream sends, through `send` only (`offer` always finds it full).
    final class SlowClient: Sendable {
        let received = Mutex("")
        let offers = Atomic<Int>(0)
        var stream: SampleStream {
            SampleStream(
                offer: { [self] _ in
                    offers.add(1, ordering: .relaxed)
                    return .full
                },
                send: { [self] piece in
                    usleep(200)
                    received.withLock { $0 += piece }
                    return true
                })
        }
    }

    @Test func aStreamWithoutRoomGetsItsWholeTextLikeAnotherSample() async throws {
        let scheduler = Self.scheduler()
        let snapshot = try Self.snapshot()
        let options = SamplingOptions(temperature: 0.9, seed: 11, length: 20_000)
        let client = SlowClient()
        async let streamed = scheduler.sample("m", snapshot: snapshot, options: options, stream: client.stream)
        async let direct = scheduler.sample("m", snapshot: snapshot, options: options, stream: nil)
        let (a, b) = try await (streamed, direct)
        #expect(a.text == b.text && a.characters == 20_000)
        // Far more than the outlet holds: the row was set aside and resumed on the way.
        #expect(client.received.withLock { $0 } == a.text)
        #expect(client.offers.load(ordering: .relaxed) == 1, "after the first refusal every piece goes to the outlet")
    }

    @Test func aClientThatLeavesEndsItsSample() async throws {
        let scheduler = Self.scheduler()
        let gone = SampleStream(offer: { _ in .gone }, send: { _ in false })
        let outcome = try await scheduler.sample(
            "m", snapshot: try Self.snapshot(), options: SamplingOptions(seed: 1, length: 100_000), stream: gone)
        #expect(outcome.characters < 100_000 && outcome.stopReason == nil)
    }

    @Test func anIdleLoopRetiresAndLetsGoOfItsWeights() async throws {
        let scheduler = Self.scheduler()
        _ = try await scheduler.sample(
            "m", snapshot: try Self.snapshot(), options: SamplingOptions(length: 10), stream: nil)
        // It lingers a second for more work (how long the test waits to look is up to the
        // machine's load), then retires and is forgotten.
        let deadline = ContinuousClock.now + .seconds(SampleBatchLoop.lingerSeconds + 20)
        while scheduler.loopCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(scheduler.loopCount == 0)
        #expect(scheduler.totals.inProgress == 0 && scheduler.totals.samples == 1)
    }

    /// Holds every thread that waits on it until it is opened.
    final class Gate: Sendable {
        private let opened = DispatchSemaphore(value: 0)
        func wait() {
            opened.wait()
            opened.signal()
        }
        func open() { opened.signal() }
    }

    @Test(arguments: [(1, 16), (2, 16), (3, 16), (2, 512)])
    func concurrentSamplesSpreadOverOneLoopPerLaneAndGiveTheirOwnText(lanes: Int, hidden: Int) async throws {
        let scheduler = Self.scheduler(lanes: lanes)
        let snapshot = try Self.snapshot(hidden: hidden)
        // 512 x 2048 recurrent weights split each product across the cores: one loop.
        let expectedLoops = hidden == 512 ? 1 : lanes
        // Short for the large model: debug builds run its products slowly, beside the suite.
        let length = hidden == 512 ? 40 : 3_000
        let seeds = Array(1...12)
        let alone = try await scheduler.sample(
            "m", snapshot: snapshot, options: SamplingOptions(temperature: 0.9, seed: 5, length: length), stream: nil)
        // Each loop stops at its first streamed piece until all twelve are in: where they went
        // is then there to see, however slowly the machine runs the tasks.
        let gate = Gate()
        let held = SampleStream(
            offer: { _ in
                gate.wait()
                return .sent
            }, send: { _ in true })
        async let outcomes = withThrowingTaskGroup(of: (Int, SampleOutcome).self) { group in
            for seed in seeds {
                group.addTask {
                    let options = SamplingOptions(temperature: 0.9, seed: UInt64(seed), length: length)
                    return (seed, try await scheduler.sample("m", snapshot: snapshot, options: options, stream: held))
                }
            }
            var all: [Int: SampleOutcome] = [:]
            for try await (seed, outcome) in group { all[seed] = outcome }
            return all
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while scheduler.totals.inProgress < seeds.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(scheduler.totals.inProgress == seeds.count)
        #expect(scheduler.loopCount == expectedLoops, "twelve samples at once run in one loop per lane")
        gate.open()
        let done = try await outcomes
        #expect(done.count == seeds.count && done.values.allSatisfy { $0.characters == length })
        // Whichever loop it ran in, a seed gives its text.
        #expect(done[5]?.text == alone.text)
        #expect(scheduler.totals.samples == seeds.count + 1 && scheduler.totals.inProgress == 0)
    }
}
