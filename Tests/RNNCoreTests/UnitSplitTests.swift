import RNNKernels
import Testing

@testable import RNNCore

/// A lone sample's step split by units across the kernel pool draws exactly the text, and
/// the logits, that ``Sampler`` draws unsplit: every architecture, with and without an
/// embedding, on two threads and on one (the pool busy: one thread runs every segment).
@Suite(.serialized) struct UnitSplitTests {
    static let vocabulary = SamplingBatchTests.characters

    static func model(_ architecture: CellArchitecture, embedding: Int) throws -> CharRNN {
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 64, vocabularySize: vocabulary.count,
            embeddingSize: embedding)
        return try CharRNN(configuration: configuration, seed: 9)
    }

    /// The sample of `options` from a one-row batch whose steps split units into two segments.
    func split(_ model: CharRNN, _ options: SamplingOptions) throws -> (String, StopReason?, UInt64) {
        let batch = try SamplingBatch(model: model, vocabulary: Self.vocabulary, capacity: 1)
        batch.state.unitSplit = model.parameters.withUnsafeBufferPointer {
            UnitSplit.make(
                model.configuration, layout: batch.state.layout, parameters: $0.baseAddress!,
                rowBias: batch.state.rowBias, segments: 2, minimumParameters: 0)
        }
        // The test's small model must qualify, or nothing here would be split.
        try #require(batch.state.unitSplit != nil, "the 2x64 model should split on this CPU")
        try batch.add(id: 0, options: options)
        var text = String.UnicodeScalarView()
        var reason: StopReason?
        var fingerprint: UInt64 = 0
        while !batch.isEmpty {
            batch.step { progress in
                text.append(contentsOf: progress.text)
                if let stop = progress.stopReason {
                    reason = stop
                    fingerprint = progress.fingerprint
                }
            }
        }
        return (String(text), reason, fingerprint)
    }

    @Test(arguments: [CellArchitecture.lstm, .gru, .rnnTanh, .rnnReLU], [0, 12])
    func aSplitStepDrawsWhatTheWholeRowDraws(_ architecture: CellArchitecture, embedding: Int) throws {
        let model = try Self.model(architecture, embedding: embedding)
        let previous = BLAS.threadCount
        defer { BLAS.threadCount = previous }
        for threads in [2, 1] {
            BLAS.threadCount = threads
            for i in [0, 3, 9, 11] {
                let options = SamplingBatchTests.requests[i]
                let expected = try SamplingBatchTests().alone(model, Self.vocabulary, options)
                let got = try split(model, options)
                #expect(got.0 == expected.0, "\(architecture) e\(embedding) t\(threads) request \(i): text")
                #expect(got.1 == expected.1, "\(architecture) e\(embedding) t\(threads) request \(i): stop")
                #expect(got.2 == expected.2, "\(architecture) e\(embedding) t\(threads) request \(i): logits")
            }
        }
    }
}
