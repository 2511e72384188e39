import Testing

@testable import RNNCore

/// Training on the kernel pool's two threads (streams split between them in the recurrence,
/// large products split by columns or rows, bias and one-hot gradients by column ranges:
/// hidden 48 puts LSTM's and GRU's gate widths past the 128 columns that split) computes
/// every number exactly as one thread:
/// each element of a product sums the same terms in the same order, whoever computes it.
@Suite(.serialized) struct ThreadedTrainingTests {
    static let text = String(repeating: "the quick brown fox jumps over the lazy dog; ", count: 40)

    func train(_ architecture: CellArchitecture, threads: Int) throws -> [Float] {
        try KernelThreads.with(threads) { try train(architecture) }
    }

    private func train(_ architecture: CellArchitecture) throws -> [Float] {
        let vocabulary = Vocabulary(charactersOf: Self.text)
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 48, vocabularySize: vocabulary.count)
        let model = try CharRNN(configuration: configuration, seed: 5)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 2e-3))
        // 30 streams: two parts of 15 rows, each a full micro-tile plus a remainder.
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(Self.text), batchSize: 30, steps: 20)
        for _ in 0..<3 { try trainer.step(batcher.next()) }
        return trainer.model.parameters
    }

    @Test(arguments: [CellArchitecture.lstm, .gru, .rnnTanh, .rnnReLU])
    func twoThreadsGiveTheWeightsOfOne(_ architecture: CellArchitecture) throws {
        let one = try train(architecture, threads: 1)
        let two = try train(architecture, threads: 2)
        #expect(one == two, "\(architecture): \(zip(one, two).filter { $0 != $1 }.count) weights differ")
    }
}
