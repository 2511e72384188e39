import RNNCore
import Testing

@testable import Corpora

@Suite struct AnswerAccuracyTests {
    /// A model trained on the one-digit copy task learns it; an untrained one does not.
    @Test func aLearntTaskScoresHighAndAnUntrainedModelLow() throws {
        var options = LearningToExecuteCorpus.Options()
        options.task = .copy
        options.length = 1
        var corpus = try LearningToExecuteCorpus(options)
        let chunk = try #require(try corpus.next(maximumBytes: 20_000))
        let vocabulary = Vocabulary(charactersOf: "0123456789@.\n")
        let configuration = ModelConfiguration(
            architecture: .lstm, layers: 1, hiddenSize: 32, vocabularySize: vocabulary.count)
        let untrained = try CharRNN(configuration: configuration, seed: 3)
        let trainer = try Trainer(
            model: untrained, optimizer: Optimizer(kind: .defaultAdam, parameterCount: untrained.parameterCount),
            settings: TrainingSettings(learningRate: 1e-2))
        let weights = try #require(chunk.lossMask).map { $0 ? Float(1) : 0 }
        var batcher = try SequenceBatcher(
            tokens: vocabulary.encode(chunk.text), weights: weights, batchSize: 8, steps: 24)
        for _ in 0..<800 { try trainer.step(batcher.next()) }
        let test = (0..<10).map { "\($0)@\($0)." }
        let learnt = try AnswerAccuracy.measure(trainer.model, vocabulary: vocabulary, samples: test)
        #expect(learnt.samples == 10)
        #expect(learnt.characterAccuracy >= 0.8, "\(learnt)")
        #expect(learnt.exactMatch >= 0.7, "\(learnt)")
        let chance = try AnswerAccuracy.measure(untrained, vocabulary: vocabulary, samples: test)
        #expect(chance.exactMatch <= 0.2, "\(chance)")
    }
}
