import Testing

@testable import RNNCore

/// Separate sequences: one whole sample per row, after its separator, padded with weight 0.
@Suite struct SampleBatcherTests {
    // Samples "ab\n", "c\n", "def\n" with 0 as the separator, then a piece without one.
    let tokens: [Int32] = [1, 2, 0, 3, 0, 4, 5, 6, 0, 7]
    let weights: [Float] = [0, 1, 1, 1, 1, 0, 0, 1, 1, 1]

    @Test func eachRowIsOneSampleFromTheSeparator() throws {
        var batcher = try SampleBatcher(tokens: tokens, weights: weights, separator: 0, batchSize: 3)
        #expect(batcher.steps == 4)
        #expect(batcher.batchesPerEpoch == 1)
        let batch = batcher.next()
        #expect(batch.resetsState)
        // Time-major: row b of step t is index t·3 + b.
        func row(_ b: Int, _ array: [Int32]) -> [Int32] { (0..<4).map { array[$0 * 3 + b] } }
        #expect(row(0, batch.inputs) == [0, 1, 2, 0])
        #expect(row(0, batch.targets) == [1, 2, 0, 0])
        #expect(row(1, batch.inputs) == [0, 3, 0, 0])
        #expect(row(1, batch.targets) == [3, 0, 0, 0])
        #expect(row(2, batch.inputs) == [0, 4, 5, 6])
        #expect(row(2, batch.targets) == [4, 5, 6, 0])
        let w = try #require(batch.weights)
        func weightRow(_ b: Int) -> [Float] { (0..<4).map { w[$0 * 3 + b] } }
        let expected: [[Float]] = [[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]]
        #expect(weightRow(0) == expected[0], "the padding does not count")
        #expect(weightRow(1) == expected[1])
        #expect(weightRow(2) == expected[2])
        #expect(batcher.next().inputs == batch.inputs, "the epoch wraps")
    }

    @Test func evaluatingBatchesGivesTheLossTrainingSees() throws {
        let model = try CharRNN(
            configuration: ModelConfiguration(architecture: .gru, layers: 2, hiddenSize: 8, vocabularySize: 8), seed: 3)
        var batcher = try SampleBatcher(tokens: tokens, weights: weights, separator: 0, batchSize: 3)
        let batch = batcher.next()
        let measured = try Evaluator.evaluate(model, batches: [batch])
        #expect(measured.characters == 6, "only weighted positions count")
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 0.01))
        let trained = try trainer.step(batch)  // reports the loss before its update
        #expect(abs(measured.natsPerCharacter - trained.loss) < 1e-5)
    }

    @Test func tooFewSamplesAreRefused() {
        #expect(throws: RNNCoreError.self) { try SampleBatcher(tokens: tokens, separator: 0, batchSize: 4) }
    }

    @Test func trainingOnSeparateSamplesLearnsThem() throws {
        // Two samples that start alike and end differently: "1 2 3 0" and "1 2 4 0" repeated.
        // From a zero state the third token is a coin flip, so the loss falls to ln 2 / 4 per
        // token and no lower; the rest becomes certain.
        let pair: [Int32] = [1, 2, 3, 0, 1, 2, 4, 0]
        let text = pair.repeated(16)
        let model = try CharRNN(
            configuration: ModelConfiguration(architecture: .lstm, layers: 1, hiddenSize: 16, vocabularySize: 5),
            seed: 1)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 0.02))
        var batcher = try SampleBatcher(tokens: text, separator: 0, batchSize: 8)
        var loss = 0.0
        for _ in 0..<300 { loss = try trainer.step(batcher.next()).loss }
        #expect(abs(loss - 0.693 / 4) < 0.03)
    }
}

extension Array {
    fileprivate func repeated(_ times: Int) -> [Element] { (0..<times).flatMap { _ in self } }
}
