import RNNCore
import Testing

@Suite struct SamplerTests {
    static let text = String(repeating: "abcabcabd 你好🙂\n", count: 30)

    /// A model trained until it has learnt the text's pattern.
    static func trained(_ vocabulary: Vocabulary) throws -> CharRNN {
        let configuration = ModelConfiguration(
            architecture: .lstm, layers: 1, hiddenSize: 24, vocabularySize: vocabulary.count)
        let model = try CharRNN(configuration: configuration, seed: 4)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: .defaultAdam, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: 2e-2))
        var batcher = try SequenceBatcher(tokens: vocabulary.encode(text), batchSize: 4, steps: 20)
        for _ in 0..<150 { try trainer.step(batcher.next()) }
        return trainer.model
    }

    static let characters = Vocabulary(charactersOf: text)
    static let model = Result { try trained(characters) }

    func sample(_ options: SamplingOptions, model: CharRNN? = nil, vocabulary: Vocabulary = characters) throws -> (
        String, Sampler
    ) {
        let sampler = try Sampler(model: model ?? Self.model.get(), vocabulary: vocabulary, options: options)
        var out = String.UnicodeScalarView()
        while let s = sampler.next() { out.append(s) }
        return (String(out), sampler)
    }

    @Test func sameSeedSameTextAndLengthIsRespected() throws {
        let options = SamplingOptions(temperature: 1.2, seed: 99, length: 150)
        let (a, sampler) = try sample(options)
        let (b, _) = try sample(options)
        #expect(a == b)
        #expect(a.unicodeScalars.count == 150)
        #expect(sampler.stopReason == .length)
        var other = options
        other.seed = 100
        #expect(try sample(other).0 != a)
    }

    @Test func argmaxFollowsTheLearntPattern() throws {
        let (text, _) = try sample(SamplingOptions(argmax: true, prime: "abcabcab", length: 12))
        #expect(text.hasPrefix("d 你好🙂\nabcab"), "greedy continuation was \(text.debugDescription)")
    }

    @Test func topKOfOneIsArgmaxAndLowTemperatureIsNearlyGreedy() throws {
        let greedy = try sample(SamplingOptions(argmax: true, prime: "ab", length: 60)).0
        #expect(try sample(SamplingOptions(topK: 1, seed: 5, prime: "ab", length: 60)).0 == greedy)
        #expect(try sample(SamplingOptions(temperature: 0.01, seed: 5, prime: "ab", length: 60)).0 == greedy)
        #expect(try sample(SamplingOptions(topP: 0.01, seed: 8, prime: "ab", length: 60)).0 == greedy)
    }

    @Test func topKRestrictsTheChoices() throws {
        // With k = 2 only the two most likely symbols can ever follow; the untrained model's
        // choices are spread, so a wide sample shows at most 2 distinct successors of a prefix.
        let model = try CharRNN(
            configuration: ModelConfiguration(
                architecture: .gru, layers: 1, hiddenSize: 8, vocabularySize: Self.characters.count),
            initialization: .uniform(scale: 0.01), seed: 3)
        var firsts = Set<Unicode.Scalar>()
        for seed in 0..<64 as Range<UInt64> {
            let (text, _) = try sample(SamplingOptions(topK: 2, seed: seed, prime: "a", length: 1), model: model)
            firsts.insert(text.unicodeScalars.first!)
        }
        #expect(firsts.count == 2)
    }

    @Test func stopStringsEndTheTextAndAreNotEmitted() throws {
        let (text, sampler) = try sample(SamplingOptions(argmax: true, prime: "abc", stop: ["你好"], length: 100))
        #expect(text == "abcabd ")
        #expect(sampler.stopReason == .stop)
        // A held-back prefix that never completes is released at the end.
        let (partial, s2) = try sample(SamplingOptions(argmax: true, prime: "abc", stop: ["abd!"], length: 6))
        #expect(partial == "abcabd")
        #expect(s2.stopReason == .length)
    }

    @Test func unseenCharactersNeverCrash() throws {
        let (text, _) = try sample(SamplingOptions(seed: 1, prime: "ŽŽŽ unseen ∑ text", length: 20))
        #expect(text.unicodeScalars.count == 20)
        let tokens = Self.characters.encode("∑x")
        #expect(tokens == [0, 0])
    }

    @Test func byteVocabularyAssemblesMultiByteCharacters() throws {
        let model = try Self.trained(.bytes)
        let (text, _) = try sample(
            SamplingOptions(argmax: true, prime: "abcabcabd ", length: 4), model: model, vocabulary: .bytes)
        #expect(text == "你好🙂\n")
    }

    @Test func badOptionsAreRefused() throws {
        for options in [
            SamplingOptions(temperature: 0), SamplingOptions(temperature: .nan), SamplingOptions(temperature: -1),
            SamplingOptions(topK: -1), SamplingOptions(topP: 0), SamplingOptions(topP: 1.5),
            SamplingOptions(stop: [""]),
            SamplingOptions(length: -1),
        ] {
            #expect(throws: RNNCoreError.self) { try sample(options) }
        }
    }
}
