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

    /// What the check measured: the relative difference over all parameters and per tensor.
    struct Differences {
        var overall: Double
        var perTensor: [(name: String, difference: Double)]
    }

    /// Backpropagation's gradient (passed through `corrupt`, to show the check's own
    /// sensitivity) against central differences of the loss.
    func differences(_ c: Case, corrupt: (inout [Float], CharRNN) throws -> Void = { _, _ in }) throws
        -> Differences
    {
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

        var (_, analytic) = try loss(model)
        try corrupt(&analytic, model)
        var numeric = [Float](repeating: 0, count: model.parameterCount)
        // ReLU has kinks: a smaller step crosses fewer of them.
        let eps: Float = c.architecture == .rnnReLU ? 2e-3 : 1e-2
        for i in 0..<model.parameterCount {
            var plus = model, minus = model
            plus.parameters[i] += eps
            minus.parameters[i] -= eps
            numeric[i] = Float((try loss(plus).0 - loss(minus).0) / Double(2 * eps))
        }
        return Differences(
            overall: normalizedDifference(analytic, numeric),
            perTensor: model.layout.tensors.map { tensor in
                let range = tensor.offset..<(tensor.offset + tensor.count)
                return (tensor.name, normalizedDifference(Array(analytic[range]), Array(numeric[range])))
            })
    }

    // The tolerances: the loss is summed in Float32, so a central difference with step 1e-2
    // carries an error of order (relative rounding 1e-7 × loss ~10) / 1e-2 ≈ 1e-4 on each
    // numeric entry, largest relative to the smallest gradients (weight_hh_l0 of layer 0,
    // damped by a stack of 2). Measured on correct gradients (these 8 cases): 1.2e-5 to
    // 3.9e-5 overall, worst tensor 6.6e-5 to 2.2e-3 (LSTM weight_hh_l0). Measured on wrong
    // ones (the test below): a 5% error in one bias gives 2.4e-2 for that tensor (2.2e-3
    // overall, which the overall bound alone would miss); a quarter of one weight's gradient
    // missing gives 1.4e-1. Hence 2e-3 overall and 1e-2 per tensor.
    @Test(arguments: cases)
    func backpropagationMatchesCentralDifferences(_ c: Case) throws {
        let d = try differences(c)
        #expect(d.overall < 2e-3, "\(c): ‖analytic − numeric‖/(‖a‖ + ‖n‖) = \(d.overall)")
        // Per tensor too, so that a wrong term in a small tensor is not hidden by a large one.
        for (name, difference) in d.perTensor {
            #expect(difference < 1e-2, "\(c): \(name) differs by \(difference)")
        }
    }

    /// The check's own sensitivity, on the real check: plausible bugs in one tensor's
    /// gradient (a term 5% too large; a quarter of a tensor's gradient missing, as when one
    /// of the four time steps is dropped) make it fail.
    @Test func aWrongGradientIsCaughtByTheCheck() throws {
        let c = Case(architecture: .gru)
        let scaled = try differences(c) { gradient, model in
            let spec = try #require(model.layout.tensor(named: "rnn.bias_hh_l0"))
            for i in spec.offset..<(spec.offset + spec.count) { gradient[i] *= 1.05 }
        }
        let worst = try #require(scaled.perTensor.first { $0.name == "rnn.bias_hh_l0" })
        #expect(worst.difference > 1e-2, "a 5% error in bias_hh_l0 gave only \(worst.difference)")
        let halved = try differences(c) { gradient, model in
            let spec = try #require(model.layout.tensor(named: "rnn.weight_hh_l1"))
            for i in spec.offset..<(spec.offset + spec.count) { gradient[i] *= 0.75 }
        }
        #expect(halved.perTensor.contains { $0.difference > 1e-2 })
    }
}
