import RNNCore
import Testing
import _RNNTestSupport

@Suite(.serialized) struct TrainingTests {
    static let text = String(repeating: "to be or not to be; so it is.\n", count: 40)

    static func run(
        _ kind: OptimizerKind, settings: TrainingSettings, steps: Int, architecture: CellArchitecture = .lstm,
        dropout: Float = 0, seed: UInt64 = 1
    ) throws -> (Trainer, first: Double, last: Double) {
        let vocabulary = Vocabulary(charactersOf: text)
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 32, vocabularySize: vocabulary.count, dropout: dropout)
        let model = try CharRNN(configuration: configuration, seed: seed)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: kind, parameterCount: model.parameterCount), settings: settings,
            seed: seed)
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(text), batchSize: 8, steps: 25)
        let first = try trainer.step(batcher.next()).loss
        var last = first
        for _ in 1..<steps { last = try trainer.step(batcher.next()).loss }
        return (trainer, first, last)
    }

    @Test(arguments: [
        (OptimizerKind.sgd(momentum: 0.9), Float(1)), (.seedAdagrad, 0.05), (.charRNNRMSProp, 5e-3),
        (.defaultAdam, 5e-3),
    ])
    func everyOptimizerLearns(_ kind: OptimizerKind, _ lr: Float) throws {
        let (_, first, last) = try Self.run(kind, settings: TrainingSettings(learningRate: lr), steps: 120)
        #expect(last < first * 0.6, "\(kind.name): loss \(first) -> \(last)")
    }

    @Test(arguments: CellArchitecture.allCases)
    func everyCellLearns(_ architecture: CellArchitecture) throws {
        let (_, first, last) = try Self.run(
            .defaultAdam, settings: TrainingSettings(learningRate: 1e-2), steps: 120, architecture: architecture)
        #expect(last < first * 0.6, "\(architecture.rawValue): loss \(first) -> \(last)")
    }

    @Test func sameSeedAndThreadsGiveIdenticalWeights() throws {
        let settings = TrainingSettings(learningRate: 5e-3)
        let a = try Self.run(.defaultAdam, settings: settings, steps: 15, dropout: 0.2, seed: 42).0
        let b = try Self.run(.defaultAdam, settings: settings, steps: 15, dropout: 0.2, seed: 42).0
        let c = try Self.run(.defaultAdam, settings: settings, steps: 15, dropout: 0.2, seed: 43).0
        #expect(a.model.parameters == b.model.parameters)
        #expect(a.model.parameters != c.model.parameters)
    }

    @Test func nonFiniteStepsAreRefusedAndChangeNothing() throws {
        let vocabulary = Vocabulary(charactersOf: Self.text)
        let configuration = ModelConfiguration(
            architecture: .gru, layers: 2, hiddenSize: 8, vocabularySize: vocabulary.count)
        var model = try CharRNN(configuration: configuration, seed: 3)
        let trainer0 = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 1e-3))
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(Self.text), batchSize: 2, steps: 10)
        try trainer0.step(batcher.next())
        model = trainer0.model
        model.parameters[model.layout.decoderBias] = .infinity
        let trainer = try Trainer(model: model, optimizer: trainer0.optimizer, settings: trainer0.settings)
        trainer.state = trainer0.state
        let before = (trainer.model.parameters, trainer.optimizer.moments, trainer.optimizer.step, trainer.state)
        let error = #expect(throws: RNNCoreError.self) { try trainer.step(batcher.next()) }
        #expect(error?.code == .nonFiniteStep)
        #expect(error?.message.contains("unchanged") == true)
        #expect(trainer.model.parameters.elementsEqual(before.0) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(trainer.optimizer.moments == before.1)
        #expect(trainer.optimizer.step == before.2)
        #expect(trainer.state == before.3)
    }

    @Test func clippingBoundsTheGradient() throws {
        var gradients: [Float] = [3, -4, 12]
        GradientMath.clip(&gradients, .norm(6.5), norm: GradientMath.norm(gradients))
        // 6.5 in Float32 after a sqrt and a scale: a few ulps (ulp(6.5) ≈ 5e-7).
        #expect(abs(GradientMath.norm(gradients) - 6.5) < 1e-4)
        var values: [Float] = [7, -9, 0.5]
        GradientMath.clip(&values, .value(5), norm: 0)
        #expect(values == [5, -5, 0.5])
    }

    @Test func learningRateDecays() {
        let settings = TrainingSettings(learningRate: 1, learningRateDecay: 0.5, decayEvery: 10)
        #expect(settings.learningRate(atStep: 9) == 1)
        #expect(settings.learningRate(atStep: 10) == 0.5)
        #expect(settings.learningRate(atStep: 35) == 0.125)
    }

    @Test func adamAndRMSPropFollowPyTorchsFormulas() throws {
        let g: [Float] = [0.5, -2, 1e-3]
        var p: [Float] = [1, 1, 1]
        var adam = Optimizer(kind: .defaultAdam, parameterCount: 3)
        adam.apply(to: &p, gradients: g, learningRate: 0.1)
        adam.apply(to: &p, gradients: g, learningRate: 0.1)
        // Two identical steps: m̂ = g, v̂ = g², so each step moves by lr·g/(|g| + ε).
        // Parameters near 1 in Float32: ulp(1) = 1.2e-7, two steps of a few roundings each.
        for i in 0..<3 { #expect(abs(p[i] - (1 - 0.2 * g[i] / (abs(g[i]) + 1e-8))) < 1e-5) }
        var q: [Float] = [1, 1, 1]
        var rms = Optimizer(kind: .charRNNRMSProp, parameterCount: 3)
        rms.apply(to: &q, gradients: g, learningRate: 0.01)
        for i in 0..<3 {
            let expected = 1 - 0.01 * Double(g[i]) / ((0.05 * Double(g[i]) * Double(g[i])).squareRoot() + 1e-8)
            // One Float32 step from 1 against the formula in Double: a few ulps of 1.
            #expect(abs(Double(q[i]) - expected) < 1e-5)
        }
    }

    @Test func validationLossIsMeasuredOnHeldOutText() throws {
        let (trainer, _, _) = try Self.run(.defaultAdam, settings: TrainingSettings(learningRate: 1e-2), steps: 80)
        let vocabulary = Vocabulary(charactersOf: Self.text)
        let summary = try Evaluator.evaluate(
            trainer.model, tokens: vocabulary.encode(Self.text), batchSize: 4, steps: 30)
        #expect(summary.characters == ((Self.text.unicodeScalars.count - 1) / 4) * 4)
        #expect(summary.natsPerCharacter < log(Double(vocabulary.count)) / 2)
        #expect(abs(summary.bitsPerCharacter - summary.natsPerCharacter / log(2)) < 1e-9)
    }
}

private func log(_ x: Double) -> Double {
    var y = 0.0
    var z = x
    while z > 2 { z /= 2; y += 0.693_147_180_559_945_3 }
    // log(z) for z in (0, 2] by the series of atanh: enough for a bound in a test.
    let t = (z - 1) / (z + 1)
    var term = t, sum = 0.0
    for k in stride(from: 1, to: 60, by: 2) { sum += term / Double(k); term *= t * t }
    return y + 2 * sum
}
