package import RNNCore

/// `score`: how surprising many texts are to a model, batched across texts.
extension ModelService {
    /// Scores `texts` with `model`'s published weights: each from a fresh state, batched, or
    /// with `asOneStream` as consecutive parts of one text.
    package func score(_ model: String, texts: [String], asOneStream: Bool, surprisal: Bool) async throws(ServiceError)
        -> ScoringOutcome
    {
        let snapshot = try await loadedSnapshot(model)
        let tokens = texts.map { snapshot.vocabulary.encode($0) }
        return try await compute("score") { stop throws(ServiceError) -> ScoringOutcome in
            let start = ContinuousClock.now
            var scores: [ScoredText]
            do throws(RNNCoreError) {
                if asOneStream {
                    scores = try Self.scoreAsOneStream(
                        snapshot.model, tokens, surprisal: surprisal, shouldStop: { stop.isSet })
                } else {
                    scores = try Evaluator.score(
                        snapshot.model, texts: tokens, surprisal: surprisal, shouldStop: { stop.isSet })
                }
            } catch  where error.code == .stopped {
                throw StopFlag.stoppedError
            } catch {
                throw ServiceError(.invalidArgument, error.message)
            }
            let characters = scores.reduce(0) { $0 + $1.characters }
            ServiceMetrics.scored(texts: scores.count, characters: characters)
            return ScoringOutcome(
                scores: scores, perByte: snapshot.vocabulary.kind == .bytes,
                charactersPerSecond: Double(characters) / max(seconds(since: start), 1e-9))
        }
    }

    /// The texts as one stream: the first character of each text after the first is
    /// predicted from the end of the one before.
    static func scoreAsOneStream(
        _ model: CharRNN, _ texts: [[Int32]], surprisal: Bool, shouldStop: () -> Bool
    ) throws(RNNCoreError) -> [ScoredText] {
        let whole = try Evaluator.score(
            model, texts: [texts.flatMap { $0 }], batchSize: 1, surprisal: true, shouldStop: shouldStop)
        let all = whole.first?.surprisal ?? []
        var scores: [ScoredText] = []
        // Predictions cover the joined text's characters after its first, which is the first
        // character of the first text that has one (empty texts before it add nothing).
        let opening = texts.firstIndex { !$0.isEmpty }
        var position = 0
        for (i, text) in texts.enumerated() {
            let count = i == opening ? text.count - 1 : text.count
            let slice = Array(all[min(position, all.count)..<min(position + count, all.count)])
            scores.append(
                ScoredText(
                    nats: slice.reduce(0) { $0 + Double($1) }, characters: slice.count,
                    surprisal: surprisal ? slice : nil))
            position += count
        }
        return scores
    }
}

/// What `score` found: one score per text, whether they count bytes, and how fast.
package struct ScoringOutcome: Sendable {
    package var scores: [ScoredText]
    package var perByte: Bool
    package var charactersPerSecond: Double
}
