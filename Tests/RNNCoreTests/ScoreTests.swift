import RNNCore
import Testing

/// `Evaluator.score`: per-text surprisal, batched across texts of different lengths.
@Suite struct ScoreTests {
    static func model(_ architecture: CellArchitecture) throws -> (CharRNN, Vocabulary) {
        let vocabulary = Vocabulary(charactersOf: "abcdefgh \n")
        let configuration = ModelConfiguration(
            architecture: architecture, layers: 2, hiddenSize: 24, vocabularySize: vocabulary.count)
        return (try CharRNN(configuration: configuration, initialization: .uniform(scale: 0.5), seed: 3), vocabulary)
    }

    static let texts = ["abc", "a", "", "hgfedcba abcdefgh\nabc", "bad cab", String(repeating: "ab", count: 300)]

    /// A text scored in a batch of others scores as it does alone, and as the evaluator's
    /// loss says (float32 sums in a different order: 1e-4 relative).
    @Test(arguments: [CellArchitecture.lstm, .gru, .rnnTanh])
    func batchedScoresMatchScoringAlone(_ architecture: CellArchitecture) throws {
        let (model, vocabulary) = try Self.model(architecture)
        let tokens = Self.texts.map { vocabulary.encode($0) }
        let together = try Evaluator.score(model, texts: tokens, batchSize: 4, steps: 7, surprisal: true)
        #expect(together.map(\.characters) == Self.texts.map { max(0, $0.count - 1) })
        for (i, text) in tokens.enumerated() where text.count >= 2 {
            let alone = try Evaluator.score(model, texts: [text], batchSize: 1, steps: 256)[0]
            #expect(abs(together[i].nats - alone.nats) <= 1e-4 * max(1, alone.nats), "text \(i)")
            let loss = try Evaluator.evaluate(model, tokens: text, batchSize: 1, steps: 256)
            #expect(abs(alone.nats / Double(alone.characters) - loss.natsPerCharacter) < 1e-4, "text \(i)")
            #expect(together[i].surprisal?.count == text.count - 1)
            let summed = together[i].surprisal?.reduce(0) { $0 + Double($1) } ?? .nan
            #expect(abs(summed - together[i].nats) < 1e-3)
        }
    }

    @Test func aTokenOutsideTheVocabularyIsRefused() throws {
        let (model, _) = try Self.model(.lstm)
        #expect(throws: RNNCoreError.self) { try Evaluator.score(model, texts: [[0, 1, 999]]) }
    }
}
