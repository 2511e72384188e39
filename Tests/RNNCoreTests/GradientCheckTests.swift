import RNNCore
import Testing
import _RNNTestSupport

/// Backpropagation against central differences, for every cell in a stack of 2, with the
/// carried-in state non-zero, one-hot and embedding inputs, a loss mask and dropout.
@Suite struct GradientCheckTests {
    struct Case: Sendable, CustomStringConvertible {
        var architecture: CellArchitecture
        var embedding = 0
        var dropout: Float = 0
        var weighted = false
        var reduction: LossReduction = .sum
        var description: String {
            "\(architecture.rawValue) embed=\(embedding) dropout=\(dropout) weighted=\(weighted) \(reduction)"
        }
    }

    static let cases: [Case] =
        CellArchitecture.allCases.map { Case(architecture: $0) }
        + [
            Case(architecture: .lstm, embedding: 4),
            Case(architecture: .gru, embedding: 3, weighted: true, reduction: .mean),
            Case(architecture: .rnnTanh, dropout: 0.3),
            Case(architecture: .lstm, dropout: 0.25, weighted: true),
        ]

    @Test(arguments: cases)
    func backpropagationMatchesCentralDifferences(_ c: Case) throws {
        let configuration = ModelConfiguration(
            architecture: c.architecture, layers: 2, hiddenSize: 5, vocabularySize: 7, embeddingSize: c.embedding,
            dropout: c.dropout)
        let model = try CharRNN(configuration: configuration, initialization: .uniform(scale: 0.5), seed: 11)
        var generator = RandomGenerator(seed: 5)
        let batch = randomBatch(
            batchSize: 3, steps: 4, vocabularySize: 7, generator: &generator, weighted: c.weighted)
        let state = randomState(configuration, batchSize: 3, generator: &generator)
        let settings = TrainingSettings(learningRate: 1, reduction: c.reduction)

        // A fresh trainer per evaluation: the same seed gives the same dropout mask.
        func loss(_ m: CharRNN) throws -> (Double, [Float]) {
            let trainer = try Trainer(
                model: m, optimizer: Optimizer(kind: .sgd(momentum: 0), parameterCount: m.parameterCount),
                settings: settings, seed: 3)
            trainer.state = state
            let result = try trainer.lossAndGradient(batch)
            let value = c.reduction == .sum ? result.loss : result.loss / result.characters
            return (value, trainer.gradients)
        }

        let (_, analytic) = try loss(model)
        var numeric = [Float](repeating: 0, count: model.parameterCount)
        // ReLU has kinks: a smaller step crosses fewer of them.
        let eps: Float = c.architecture == .rnnReLU ? 2e-3 : 1e-2
        for i in 0..<model.parameterCount {
            var plus = model, minus = model
            plus.parameters[i] += eps
            minus.parameters[i] -= eps
            numeric[i] = Float((try loss(plus).0 - loss(minus).0) / Double(2 * eps))
        }
        let difference = normalizedDifference(analytic, numeric)
        #expect(difference < 2e-3, "\(c): ‖analytic − numeric‖/(‖a‖ + ‖n‖) = \(difference)")
        // Per tensor too, so that a wrong term in a small tensor is not hidden by a large one.
        for tensor in model.layout.tensors {
            let range = tensor.offset..<(tensor.offset + tensor.count)
            let d = normalizedDifference(Array(analytic[range]), Array(numeric[range]))
            #expect(d < 1e-2, "\(c): \(tensor.name) differs by \(d)")
        }
    }

    @Test func aWrongGradientWouldBeCaught() throws {
        // The check's own sensitivity: flipping the sign of one tensor's gradient must fail it.
        let configuration = ModelConfiguration(architecture: .gru, layers: 2, hiddenSize: 5, vocabularySize: 7)
        let model = try CharRNN(configuration: configuration, initialization: .uniform(scale: 0.5), seed: 11)
        var generator = RandomGenerator(seed: 5)
        let batch = randomBatch(batchSize: 3, steps: 4, vocabularySize: 7, generator: &generator)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .sgd(momentum: 0), parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 1, reduction: .sum))
        _ = try trainer.lossAndGradient(batch)
        var wrong = trainer.gradients
        let spec = try #require(model.layout.tensor(named: "rnn.bias_hh_l0"))
        for i in spec.offset..<(spec.offset + spec.count) { wrong[i] = -wrong[i] }
        let range = spec.offset..<(spec.offset + spec.count)
        #expect(normalizedDifference(Array(wrong[range]), Array(trainer.gradients[range])) > 0.5)
    }
}
