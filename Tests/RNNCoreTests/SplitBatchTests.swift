import Testing

@testable import RNNCore

/// A batch split across two threads (``Trainer/splitBatchSize`` streams or more, two BLAS
/// threads) gives the loss, gradient and carried state of the same batch run whole.
@Suite(.serialized) struct SplitBatchTests {
    @Test(arguments: [CellArchitecture.lstm, .gru, .rnnTanh])
    func splitAndWholeAgree(_ architecture: CellArchitecture) throws {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 24, vocabularySize: 11)
        var g = RandomGenerator(seed: 5)
        let tokens = (0..<2000).map { _ in Int32(g.next() % 11) }
        let weights = (0..<2000).map { i in Float(i % 3 == 0 ? 0 : 1) }
        var results: [(Double, [Float], RecurrentState)] = []
        for threads in [1, 2] {
            BLAS.threadCount = threads
            let model = try CharRNN(configuration: configuration, seed: 9)
            let trainer = try Trainer(
                model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
                settings: TrainingSettings(learningRate: 0.01))
            var batcher = try SequenceBatcher(tokens: tokens, weights: weights, batchSize: 17, steps: 9)
            try trainer.step(batcher.next())  // a non-zero carried state for the next batch
            let (loss, _, state) = try trainer.lossAndGradient(batcher.next())
            results.append((loss, trainer.gradients, state))
        }
        #expect(abs(results[0].0 - results[1].0) < 1e-6 * abs(results[0].0))
        let worstGradient = zip(results[0].1, results[1].1).map { abs($0 - $1) }.max() ?? 0
        let largest = results[0].1.map(abs).max() ?? 1
        #expect(worstGradient <= 1e-5 * largest, "gradients differ by \(worstGradient) of \(largest)")
        let worstState = zip(results[0].2.values, results[1].2.values).map { abs($0 - $1) }.max() ?? 0
        #expect(worstState < 1e-5, "carried states differ by \(worstState)")
        #expect(results[0].2.values.contains { $0 != 0 })
    }
}
