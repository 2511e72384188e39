/// What a model makes of one text: the nats it needed to predict each character after the
/// first, in total and (on request) one by one.
public struct ScoredText: Sendable, Hashable {
    /// The summed surprisal of the predicted characters, in nats.
    public var nats: Double
    /// Characters predicted (the text's length less one; 0 for shorter texts).
    public var characters: Int
    /// Each predicted character's surprisal in nats, when asked for.
    public var surprisal: [Float]?

    public init(nats: Double, characters: Int, surprisal: [Float]? = nil) {
        self.nats = nats
        self.characters = characters
        self.surprisal = surprisal
    }
}

extension Evaluator {
    /// Scores many texts, each from a zero state, `batchSize` of them stepping together
    /// (one matrix product per layer and step for the whole batch). Texts of similar length
    /// are batched together; a finished text's row runs on as padding until its batch ends.
    /// `shouldStop` is asked before each chunk of steps.
    ///
    /// - Throws: ``RNNCoreError`` when a token is outside the vocabulary, `.stopped` once
    ///   `shouldStop` says so.
    public static func score(
        _ model: CharRNN, texts: [[Int32]], batchSize: Int = 64, steps: Int = 128, surprisal: Bool = false,
        shouldStop: () -> Bool = { false }
    ) throws(RNNCoreError) -> [ScoredText] {
        let v = model.configuration.vocabularySize
        for text in texts {
            for t in text where t < 0 || Int(t) >= v {
                throw RNNCoreError(.invalidArgument, "token \(t) is outside the vocabulary of \(v)")
            }
        }
        var scores = texts.map {
            ScoredText(nats: 0, characters: max(0, $0.count - 1), surprisal: surprisal ? [] : nil)
        }
        // Longest first, so that a batch's rows have similar lengths and little padding.
        let order = texts.indices.filter { texts[$0].count >= 2 }.sorted { texts[$0].count > texts[$1].count }
        // One workspace per batch size, as long as the longest chunk; shorter chunks run in its
        // first rows (a workspace per length held ~10 MB each for lines of ~80 characters).
        let longest = order.first.map { min(steps, texts[$0].count - 1) } ?? 1
        var workspaces: [Int: SequenceWorkspace] = [:]
        var noDropout: RandomGenerator? = nil
        for groupStart in stride(from: 0, to: order.count, by: max(1, batchSize)) {
            let group = Array(order[groupStart..<min(order.count, groupStart + max(1, batchSize))])
            let b = group.count
            let predictions = texts[group[0]].count - 1
            var state = RecurrentState(model.configuration, batchSize: b)
            var start = 0
            while start < predictions {
                if shouldStop() { throw RNNCoreError(.stopped, "the scoring was stopped before its end") }
                let t = min(steps, predictions - start)
                let ws =
                    workspaces[b]
                    ?? SequenceWorkspace(configuration: model.configuration, batch: b, steps: longest, training: false)
                workspaces[b] = ws
                ws.run(steps: t)
                var inputs = [Int32](repeating: 0, count: t * b)
                for s in 0..<t {
                    for (row, index) in group.enumerated() where start + s < texts[index].count - 1 {
                        inputs[s * b + row] = texts[index][start + s]
                    }
                }
                ws.load(state)
                model.parameters.withUnsafeBufferPointer { p in
                    inputs.withUnsafeBufferPointer { i in
                        ws.forward(parameters: p.baseAddress!, inputs: i.baseAddress!, dropout: &noDropout)
                    }
                }
                for s in 0..<t {
                    for (row, index) in group.enumerated() where start + s < texts[index].count - 1 {
                        let target = Int(texts[index][start + s + 1])
                        let nats = negativeLogSoftmax(ws.logits.base + (s * b + row) * v, count: v, at: target)
                        scores[index].nats += Double(nats)
                        scores[index].surprisal?.append(nats)
                    }
                }
                ws.store(into: &state)
                start += t
            }
        }
        return scores
    }

    /// -log softmax(logits)[target], computed stably.
    static func negativeLogSoftmax(_ logits: UnsafePointer<Float>, count: Int, at target: Int) -> Float {
        var peak = -Float.infinity
        for i in 0..<count { peak = max(peak, logits[i]) }
        var sum: Float = 0
        for i in 0..<count { sum += _exp(logits[i] - peak) }
        return peak + _log(sum) - logits[target]
    }
}
