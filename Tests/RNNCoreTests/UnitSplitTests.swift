import Dispatch
import Foundation
import RNNKernels
import Testing

@testable import RNNCore

/// A lone sample's step split by units across the kernel pool draws exactly the text, and
/// the logits, that ``Sampler`` draws unsplit: every architecture, with and without an
/// embedding, two and three layers, two segments and four (more than the pool's threads),
/// segments narrower than a vector, weights stored in blocks of 24 columns (several per
/// segment, the last one partial), on two threads and on one (the pool busy: one thread
/// runs every segment), and a sample that steps beside another first and alone after.
@Suite(.serialized) struct UnitSplitTests {
    static let vocabulary = SamplingBatchTests.characters
    /// Requests that draw: 40, 90, 65 and 17 characters.
    static let drawing = [0, 1, 4, 11]

    static func model(_ architecture: CellArchitecture, embedding: Int, layers: Int) throws -> CharRNN {
        // Small enough that every product takes the column path even on a 256 KiB L2.
        let configuration = ModelConfiguration(
            architecture: architecture, layers: layers, hiddenSize: 32, vocabularySize: vocabulary.count,
            embeddingSize: embedding)
        return try CharRNN(configuration: configuration, seed: 9)
    }

    /// A batch of `capacity` rows whose lone steps split the units into `segments`.
    func batch(_ model: CharRNN, segments: Int, capacity: Int = 1) throws -> SamplingBatch {
        let batch = try SamplingBatch(model: model, vocabulary: Self.vocabulary, capacity: capacity)
        let split = model.parameters.withUnsafeBufferPointer {
            UnitSplit.make(
                model.configuration, layout: batch.state.layout, parameters: $0.baseAddress!,
                rowBias: batch.state.rowBias, threads: segments, cores: segments, minimumUnits: 8,
                minimumParameters: 0, blockColumns: 24)
        }
        let made = try #require(split, "the test's model must split, or nothing here is tested")
        #expect(made.segments == segments)
        batch.state.unitSplit = made
        batch.state.unitSplitDecided = true
        return batch
    }

    /// Steps `batch` until it is empty; each sample's text, stop reason and fingerprint.
    func drain(_ batch: SamplingBatch) -> [Int: (String, StopReason?, UInt64)] {
        var texts: [Int: String.UnicodeScalarView] = [:]
        var results: [Int: (String, StopReason?, UInt64)] = [:]
        while !batch.isEmpty {
            batch.step { progress in
                texts[progress.id, default: .init()].append(contentsOf: progress.text)
                if let stop = progress.stopReason {
                    results[progress.id] = (String(texts[progress.id] ?? .init()), stop, progress.fingerprint)
                }
            }
        }
        return results
    }

    @Test(arguments: [CellArchitecture.lstm, .gru, .rnnTanh, .rnnReLU], [(0, 2), (12, 3)])
    func aSplitStepDrawsWhatTheWholeRowDraws(_ architecture: CellArchitecture, shape: (embedding: Int, layers: Int))
        throws
    {
        let model = try Self.model(architecture, embedding: shape.embedding, layers: shape.layers)
        for threads in [2, 1] {
            try KernelThreads.with(threads) { try drawSplit(model, architecture, shape, threads: threads) }
        }
    }

    private func drawSplit(
        _ model: CharRNN, _ architecture: CellArchitecture, _ shape: (embedding: Int, layers: Int), threads: Int
    ) throws {
        for segments in [2, 4] {
            for i in Self.drawing {
                let options = SamplingBatchTests.requests[i]
                let expected = try SamplingBatchTests().alone(model, Self.vocabulary, options)
                let lone = try batch(model, segments: segments)
                try lone.add(id: 0, options: options)
                let got = drain(lone)[0]
                let label = "\(architecture) \(shape) threads \(threads) segments \(segments) request \(i)"
                #expect(got?.0 == expected.0, "\(label): text")
                #expect(got?.1 == expected.1, "\(label): stop")
                #expect(got?.2 == expected.2, "\(label): logits")
            }
        }
    }

    /// A long sample beside a short one steps unsplit, then split once alone: the same text.
    @Test(arguments: [CellArchitecture.lstm, .gru])
    func aSampleLeftAloneGoesOnSplitWithTheSameText(_ architecture: CellArchitecture) throws {
        let model = try Self.model(architecture, embedding: 0, layers: 2)
        try KernelThreads.with(2) { try sampleLeftAlone(model, architecture) }
    }

    private func sampleLeftAlone(_ model: CharRNN, _ architecture: CellArchitecture) throws {
        let pair = try batch(model, segments: 2, capacity: 2)
        let (long, short) = (SamplingBatchTests.requests[1], SamplingBatchTests.requests[11])
        try pair.add(id: 0, options: long)
        try pair.add(id: 1, options: short)
        let results = drain(pair)
        for (id, options) in [(0, long), (1, short)] {
            let expected = try SamplingBatchTests().alone(model, Self.vocabulary, options)
            #expect(results[id]?.0 == expected.0, "\(architecture) sample \(id): text")
            #expect(results[id]?.2 == expected.2, "\(architecture) sample \(id): logits")
        }
    }

    /// The barrier holds every part until all have arrived, round after round: two threads
    /// of their own (not the kernel pool, which other suites may hold or resize meanwhile).
    @Test func theBarrierHoldsEveryPartUntilAllArrive() throws {
        let barrier = PartBarrier()
        // Shared on purpose: the barrier orders the writes before the reads.
        nonisolated(unsafe) let marks = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        marks.initialize(repeating: 0, count: 2)
        nonisolated(unsafe) let missed = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        missed.initialize(repeating: 0, count: 2)

        let done = DispatchGroup()
        for part in 0..<2 {
            done.enter()
            Thread {
                for round in 1...2000 {
                    marks[part] = round
                    rk_barrier_wait(barrier.state, 2)
                    // After the meeting the other part has written this round's mark.
                    if marks[1 - part] < round { missed[part] += 1 }
                    rk_barrier_wait(barrier.state, 2)
                }
                done.leave()
            }.start()
        }
        // Freed only once both threads are done (left to leak if they never are).
        try #require(done.wait(timeout: .now() + 60) == .success, "the parts never all arrived")
        #expect(missed[0] == 0 && missed[1] == 0, "a part passed the barrier before the other arrived")
        marks.deallocate()
        missed.deallocate()
    }
}
