import Foundation
import RNNCore
import Testing
import _RNNTestSupport

@Suite struct CheckpointTests {
    static func fixture(_ name: String) throws -> URL {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return url.appendingPathComponent(name)
    }

    /// A model trained for a few steps, so that no tensor is at its initial value.
    static func trainedModel(_ architecture: CellArchitecture, embedding: Int = 0) throws -> (Trainer, Vocabulary) {
        let text = "hello, world — 你好，世界 🙂\n" + String(repeating: "the cat sat on the mat. ", count: 20)
        let vocabulary = Vocabulary(charactersOf: text)
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 16, vocabularySize: vocabulary.count,
            embeddingSize: embedding)
        let model = try CharRNN(configuration: configuration, seed: 1)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 1e-2))
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(text), batchSize: 4, steps: 10)
        for _ in 0..<5 { try trainer.step(batcher.next()) }
        return (trainer, vocabulary)
    }

    @Test(arguments: CellArchitecture.allCases)
    func roundTripGivesIdenticalLogits(_ architecture: CellArchitecture) throws {
        let (trainer, vocabulary) = try Self.trainedModel(architecture, embedding: architecture == .gru ? 8 : 0)
        let bytes = Checkpoint(model: trainer.model, vocabulary: vocabulary, metadata: ["steps": "5"]).encoded()
        let loaded = try Checkpoint(decoding: bytes)
        #expect(loaded.model.configuration == trainer.model.configuration)
        #expect(loaded.vocabulary == vocabulary)
        #expect(loaded.metadata["steps"] == "5")
        let tokens = vocabulary.encode("你好 the cat 🙂")
        #expect(try Evaluator.logits(loaded.model, tokens: tokens) == Evaluator.logits(trainer.model, tokens: tokens))
    }

    @Test func optimizerStateResumesTrainingExactly() throws {
        let (trainer, vocabulary) = try Self.trainedModel(.lstm)
        let text = String(repeating: "the cat sat on the mat. ", count: 20)
        let modelBytes = Checkpoint(model: trainer.model, vocabulary: vocabulary).encoded()
        let optimizerBytes = OptimizerCheckpoint.encode(trainer.optimizer, layout: trainer.model.layout)
        let model = try Checkpoint(decoding: modelBytes).model
        let resumed = try Trainer(
            model: model, optimizer: try OptimizerCheckpoint.decode(optimizerBytes, layout: model.layout),
            settings: trainer.settings)
        #expect(resumed.optimizer.step == 5)
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(text), batchSize: 4, steps: 10)
        for _ in 0..<3 {
            let batch = batcher.next()
            resumed.state = trainer.state
            try trainer.step(batch)
            try resumed.step(batch)
        }
        #expect(resumed.model.parameters == trainer.model.parameters)
    }

    @Test(arguments: ["lstm", "gru", "rnn-tanh"])
    func loadsWhatPythonSafetensorsWrote(_ architecture: String) throws {
        let bytes = Array(try Data(contentsOf: try Self.fixture("pytorch_\(architecture).safetensors")))
        let checkpoint = try Checkpoint(decoding: bytes)
        #expect(checkpoint.model.configuration.architecture.rawValue == architecture)
        #expect(checkpoint.model.configuration.layers == 2)
        #expect(checkpoint.vocabulary.encode("\nabc") == [0, 1, 2, 3])
        let file = try SafeTensors(parsing: bytes)
        let tokens = try #require(file.metadata["tokens"]).split(separator: ",").map {
            Int32($0.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")))!
        }
        let ours = try Evaluator.logits(checkpoint.model, tokens: tokens)
        let expected = try file.floats("expected_logits")
        let error = worstRelativeError(ours, expected)
        #expect(error < 1e-4, "logits against the numpy reference of PyTorch's equations: \(error)")
    }

    @Test(arguments: CellArchitecture.allCases)
    func pythonLoadsWhatRNNCoreWrote(_ architecture: CellArchitecture) throws {
        let (trainer, vocabulary) = try Self.trainedModel(architecture, embedding: architecture == .lstm ? 5 : 0)
        let tokens = vocabulary.encode("the 世界")
        let logits = try Evaluator.logits(trainer.model, tokens: tokens)
        let metadata = [
            "test_tokens": "[" + tokens.map(String.init).joined(separator: ",") + "]",
            "test_logits": "[" + logits.map { "\($0)" }.joined(separator: ",") + "]",
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rnncore-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(Checkpoint(model: trainer.model, vocabulary: vocabulary, metadata: metadata).encoded()).write(to: file)
        let run = try runPython([try Self.fixture("check_rnnd_checkpoint.py").path, file.path])
        #expect(run.status == 0, "python3 check_rnnd_checkpoint.py: \(run.output)")
    }
}
