import Foundation
import RNNCore
import RNNJSON
import Testing
import _RNNTestSupport

/// min-char-rnn reproduced: from the same weights, Adagrad memory, hidden state and text,
/// one step gives the seed's loss, gradients (elementwise) and updated weights (normwise),
/// each to 1e-4 relative, and the free-running loop
/// gives its losses (fixture from Fixtures/make_seed_fixture.py, float64 numpy).
@Suite struct SeedReproductionTests {
    let fixture: SafeTensors
    let tokens: [Int32]
    let configuration: ModelConfiguration
    let seq: Int

    /// The seed's tensors and their PyTorch names in RNNCore (`b_hh` stays frozen at zero).
    static let tensors = [
        ("Wxh", "rnn.weight_ih_l0"), ("Whh", "rnn.weight_hh_l0"), ("Why", "out.weight"),
        ("bh", "rnn.bias_ih_l0"), ("by", "out.bias"),
    ]

    init() throws {
        let url = try #require(
            Bundle.module.url(forResource: "seed_minchar", withExtension: "safetensors", subdirectory: "Fixtures"))
        fixture = try SafeTensors(parsing: Array(try Data(contentsOf: url)))
        let scalars = try Self.json(fixture, "vocabulary").map { Unicode.Scalar(UInt32($0))! }
        let index = Dictionary(uniqueKeysWithValues: scalars.enumerated().map { ($1, Int32($0)) })
        tokens = try #require(fixture.metadata["text"]).unicodeScalars.map { index[$0]! }
        let hidden = Int(try #require(fixture.metadata["hidden"]))!
        seq = Int(try #require(fixture.metadata["seq"]))!
        configuration = ModelConfiguration(
            architecture: .rnnTanh, layers: 1, hiddenSize: hidden, vocabularySize: scalars.count)
    }

    static func json(_ fixture: SafeTensors, _ key: String) throws -> [Double] {
        let text = try #require(fixture.metadata[key])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Double])
    }

    /// A model whose tensors are the fixture's `prefix + seedName` (zero `b_hh`).
    func model(_ prefix: String) throws -> CharRNN {
        var model = try CharRNN(configuration: configuration, seed: 0)
        for (seedName, name) in Self.tensors {
            try model.setPyTorchTensor(named: name, to: try fixture.floats(prefix + seedName))
        }
        try model.setPyTorchTensor(named: "rnn.bias_hh_l0", to: [Float](repeating: 0, count: configuration.hiddenSize))
        return model
    }

    func batch(at p: Int) -> TokenBatch {
        TokenBatch(
            batchSize: 1, steps: seq, inputs: Array(tokens[p..<(p + seq)]), targets: Array(tokens[(p + 1)...(p + seq)]))
    }

    @Test func eachCheckedStepMatchesNumpy() throws {
        let losses = try Self.json(fixture, "losses")
        for step in try Self.json(fixture, "checked_steps").map(Int.init) {
            let before = try model("step\(step).before.")
            let moments = try model("step\(step).before.m").parameters
            let optimizer = try Optimizer(
                kind: .seedAdagrad, step: step - 1, moments: [moments], parameterCount: before.parameterCount)
            let trainer = try Trainer(model: before, optimizer: optimizer, settings: .seed)
            trainer.state.values = try fixture.floats("step\(step).before.hprev")
            let report = try trainer.step(batch(at: (step - 1) * seq))
            #expect(abs(report.totalLoss - losses[step - 1]) / losses[step - 1] < 1e-5, "loss of iteration \(step)")
            var gradientModel = before
            gradientModel.parameters = trainer.gradients
            for (seedName, name) in Self.tensors {
                let gradient = try gradientModel.pytorchTensor(named: name)
                let error = worstRelativeError(gradient, try fixture.floats("step\(step).grad.d\(seedName)"))
                #expect(error < 1e-4, "gradient d\(seedName) of iteration \(step): relative error \(error)")
                let updated = try trainer.model.pytorchTensor(named: name)
                // Normwise: Adagrad's first steps, g/sqrt(g² + 1e-8), turn float32 rounding of a gradient
                // element near 1e-4 into a visible difference of that one element.
                let updateError = normwiseRelativeError(updated, try fixture.floats("step\(step).after.\(seedName)"))
                #expect(updateError < 1e-4, "updated \(seedName) of iteration \(step): relative error \(updateError)")
            }
        }
    }

    @Test func freeRunningLossesMatchNumpy() throws {
        let losses = try Self.json(fixture, "losses")
        let start = try model("step1.before.")
        let trainer = try Trainer(
            model: start, optimizer: Optimizer(kind: .seedAdagrad, parameterCount: start.parameterCount),
            settings: .seed)
        for (k, expected) in losses.enumerated() {
            let report = try trainer.step(batch(at: k * seq))
            #expect(abs(report.totalLoss - expected) / expected < 1e-4, "loss of iteration \(k + 1)")
        }
    }
}
