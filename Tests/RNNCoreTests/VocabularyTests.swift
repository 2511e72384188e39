import RNNCore
import Testing

@Suite struct VocabularyTests {
    @Test func charactersRoundTripMultiByteText() {
        let text = "min-char-rnn 的种子 🙂👍🏽 naïve"
        let vocabulary = Vocabulary(charactersOf: text)
        #expect(vocabulary.scalars[0] == Vocabulary.unknownScalar)
        var decoder = TokenDecoder(vocabulary)
        let back = String(String.UnicodeScalarView(vocabulary.encode(text).compactMap { decoder.decode($0) }))
        #expect(back == text)
    }

    /// PyTorch's `sorted(set(text))` puts "\n" at index 0: an imported vocabulary's first
    /// character decodes as itself, not as the unknown slot rnnd's own vocabularies keep there.
    @Test func aFirstCharacterOfAnImportedVocabularyDecodesAsItself() {
        let vocabulary = Vocabulary(restoring: ["\n", "I", "a"])
        var decoder = TokenDecoder(vocabulary)
        let text = "I\na\n"
        #expect(String(String.UnicodeScalarView(vocabulary.encode(text).compactMap { decoder.decode($0) })) == text)
        var own = TokenDecoder(Vocabulary(charactersOf: "ab"))
        #expect(own.decode(0) == Vocabulary.unknownScalar)
    }

    @Test func bytesRoundTripAnyText() {
        let text = "bytes: 种子 🙂 \u{0}\u{7F}"
        var decoder = TokenDecoder(.bytes)
        let tokens = Vocabulary.bytes.encode(text)
        #expect(tokens.count == text.utf8.count)
        #expect(String(String.UnicodeScalarView(tokens.compactMap { decoder.decode($0) })) == text)
    }

    @Test func malformedByteSequencesDecodeAsReplacement() {
        var decoder = TokenDecoder(.bytes)
        let out = [0xE4, 0xBD, 0x41, 0xFF, 0x42].compactMap { decoder.decode(Int32($0)) }
        #expect(out == ["A", Vocabulary.unknownScalar, "B"])
    }

    @Test func growthAppendsAndRespectsTheLimit() throws {
        var vocabulary = Vocabulary(charactersOf: "abc")
        let unseen = vocabulary.unseenScalars(in: "abxyx种")
        #expect(unseen == ["x", "y", "种"])
        try vocabulary.grow(with: unseen, limit: 10)
        #expect(vocabulary.count == 7)
        #expect(vocabulary.encode("种x") == [6, 4])
        #expect(throws: RNNCoreError.self) { try vocabulary.grow(with: ["q", "r", "s", "t"], limit: 10) }
        #expect(vocabulary.count == 7)
    }

    @Test func grownModelLearnsTheNewCharacter() throws {
        // Train on text without "z", grow, then train on text with it: the model learns that
        // "z" follows "y", and everything it knew stays in place.
        var vocabulary = Vocabulary(charactersOf: "xy")
        let configuration = ModelConfiguration(
            architecture: .lstm, layers: 2, hiddenSize: 16, vocabularySize: vocabulary.count)
        let model = try CharRNN(configuration: configuration, seed: 9)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 2e-2))
        var batcher = try SequenceBatcher(
            tokens: vocabulary.encode(String(repeating: "xy", count: 50)), batchSize: 2, steps: 10)
        for _ in 0..<20 { try trainer.step(batcher.next()) }
        let before = trainer.model
        let beforeMoments = trainer.optimizer.moments
        let text = String(repeating: "xyz", count: 40)
        try vocabulary.grow(with: vocabulary.unseenScalars(in: text), limit: 100)
        var generator = RandomGenerator(seed: 1)
        try trainer.growVocabulary(to: vocabulary.count, generator: &generator)
        #expect(trainer.model.configuration.vocabularySize == 4)
        for spec in before.layout.tensors {
            let old = try before.pytorchTensor(named: spec.name)
            let new = try trainer.model.pytorchTensor(named: spec.name)
            if spec.name == "rnn.weight_ih_l0" {
                // PyTorch layout (4H x V): each row gains one column at its end.
                let rows = spec.shape[1]
                for r in 0..<rows { #expect(Array(new[(r * 4)..<(r * 4 + 3)]) == Array(old[(r * 3)..<(r * 3 + 3)])) }
            } else {
                #expect(Array(new.prefix(old.count)) == old, "\(spec.name) changed while growing")
            }
        }
        #expect(trainer.optimizer.moments.map(\.count) == beforeMoments.map { _ in trainer.model.parameterCount })
        var grownBatcher = try SequenceBatcher(tokens: vocabulary.encode(text), batchSize: 2, steps: 10)
        for _ in 0..<200 { try trainer.step(grownBatcher.next()) }
        let sampler = try Sampler(
            model: trainer.model, vocabulary: vocabulary,
            options: SamplingOptions(argmax: true, prime: "xyzxy", length: 1))
        #expect(sampler.next() == "z")
    }
}
