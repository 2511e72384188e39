/// A loss measured without training: nats and bits per character.
public struct LossSummary: Sendable, Hashable {
    /// Mean loss per character in nats.
    public var natsPerCharacter: Double
    /// Characters the loss covered.
    public var characters: Int
    /// Mean loss per character in bits.
    public var bitsPerCharacter: Double { natsPerCharacter * Self.bitsPerNat }

    /// 1 / ln 2: nats to bits.
    public static let bitsPerNat = 1 / 0.693_147_180_559_945_3
}

/// Measures a model's loss on a token sequence, with no dropout and no gradient.
public enum Evaluator {
    /// The mean next-token loss over `tokens`, laid out as `batchSize` contiguous streams read
    /// `steps` at a time with the state carried (as the PyTorch reference validates); the last
    /// chunk of each stream may be shorter, so every position of the streams is counted.
    ///
    /// - Throws: ``RNNCoreError`` when a token is outside the vocabulary or the text is shorter
    ///   than 2 tokens per stream; `.stopped` once `shouldStop` (asked before each chunk) says so.
    ///
    /// - Parameter weights: per token, the weight of predicting it (a loss mask); nil counts all.
    public static func evaluate(
        _ model: CharRNN, tokens: [Int32], weights: [Float]? = nil, batchSize: Int = 1, steps: Int = 128,
        shouldStop: () -> Bool = { false }
    ) throws(RNNCoreError) -> LossSummary {
        if let weights, weights.count != tokens.count {
            throw RNNCoreError(.shapeMismatch, "\(weights.count) weights for \(tokens.count) tokens")
        }
        let v = model.configuration.vocabularySize
        guard batchSize > 0, steps > 0 else { throw RNNCoreError(.invalidArgument, "batch and steps must be positive") }
        let perStream = (tokens.count - 1) / batchSize
        guard perStream >= 1 else {
            throw RNNCoreError(
                .invalidArgument, "need at least \(batchSize + 1) tokens to evaluate, got \(tokens.count)")
        }
        for t in tokens where t < 0 || Int(t) >= v {
            throw RNNCoreError(.invalidArgument, "token \(t) is outside the vocabulary of \(v)")
        }
        var state = RecurrentState(model.configuration, batchSize: batchSize)
        var workspaces: [Int: SequenceWorkspace] = [:]
        var total = 0.0
        var count = 0
        var start = 0
        var noDropout: RandomGenerator? = nil
        while start < perStream {
            if shouldStop() { throw RNNCoreError(.stopped, "the evaluation was stopped before its end") }
            let t = min(steps, perStream - start)
            let ws =
                workspaces[t]
                ?? SequenceWorkspace(configuration: model.configuration, batch: batchSize, steps: t, training: false)
            workspaces[t] = ws
            var inputs = [Int32](repeating: 0, count: t * batchSize)
            var targets = inputs
            var rowWeights = [Float](repeating: 1, count: t * batchSize)
            for s in 0..<t {
                for b in 0..<batchSize {
                    let source = b * perStream + start + s
                    inputs[s * batchSize + b] = tokens[source]
                    targets[s * batchSize + b] = tokens[source + 1]
                    if let weights { rowWeights[s * batchSize + b] = weights[source + 1] }
                }
            }
            ws.load(state)
            model.parameters.withUnsafeBufferPointer { p in
                inputs.withUnsafeBufferPointer { i in
                    ws.forward(parameters: p.baseAddress!, inputs: i.baseAddress!, dropout: &noDropout)
                }
            }
            let result = targets.withUnsafeBufferPointer { tg in
                rowWeights.withUnsafeBufferPointer { w in
                    SoftmaxCrossEntropy.lossAndGradient(
                        logits: ws.logits.base, rows: t * batchSize, vocabulary: v, targets: tg.baseAddress!,
                        weights: weights == nil ? nil : w.baseAddress, scale: 1)
                }
            }
            ws.store(into: &state)
            total += result.loss
            count += Int(result.weight.rounded())
            start += t
        }
        return LossSummary(natsPerCharacter: total / Double(max(count, 1)), characters: count)
    }
}

extension Evaluator {
    /// The logits after each of `tokens` (`tokens.count x vocabulary`, row-major), run at
    /// batch 1 from `state` (zeros when nil), without dropout.
    ///
    /// - Throws: ``RNNCoreError`` when a token is outside the vocabulary.
    public static func logits(_ model: CharRNN, tokens: [Int32], state: RecurrentState? = nil) throws(RNNCoreError)
        -> [Float]
    {
        let v = model.configuration.vocabularySize
        for t in tokens where t < 0 || Int(t) >= v {
            throw RNNCoreError(.invalidArgument, "token \(t) is outside the vocabulary of \(v)")
        }
        guard !tokens.isEmpty else { return [] }
        let ws = SequenceWorkspace(configuration: model.configuration, batch: 1, steps: tokens.count, training: false)
        ws.load(state ?? RecurrentState(model.configuration, batchSize: 1))
        var noDropout: RandomGenerator? = nil
        model.parameters.withUnsafeBufferPointer { p in
            tokens.withUnsafeBufferPointer { i in
                ws.forward(parameters: p.baseAddress!, inputs: i.baseAddress!, dropout: &noDropout)
            }
        }
        return Array(UnsafeBufferPointer(start: ws.logits.base, count: tokens.count * v))
    }
}

extension Evaluator {
    /// The mean loss over whole batches, each run from a zero state (separate sequences,
    /// as ``SampleBatcher`` makes them), with the batches' weights.
    public static func evaluate(_ model: CharRNN, batches: [TokenBatch]) throws(RNNCoreError) -> LossSummary {
        var workspaces: [[Int]: SequenceWorkspace] = [:]
        var total = 0.0
        var count = 0.0
        var noDropout: RandomGenerator? = nil
        let v = model.configuration.vocabularySize
        for batch in batches {
            try batch.validate(vocabularySize: v)
            let key = [batch.batchSize, batch.steps]
            let ws =
                workspaces[key]
                ?? SequenceWorkspace(
                    configuration: model.configuration, batch: batch.batchSize, steps: batch.steps, training: false)
            workspaces[key] = ws
            ws.load(RecurrentState(model.configuration, batchSize: batch.batchSize))
            model.parameters.withUnsafeBufferPointer { p in
                batch.inputs.withUnsafeBufferPointer { i in
                    ws.forward(parameters: p.baseAddress!, inputs: i.baseAddress!, dropout: &noDropout)
                }
            }
            let weights = batch.weights ?? []
            let result = batch.targets.withUnsafeBufferPointer { tg in
                weights.withUnsafeBufferPointer { w in
                    SoftmaxCrossEntropy.lossAndGradient(
                        logits: ws.logits.base, rows: batch.batchSize * batch.steps, vocabulary: v,
                        targets: tg.baseAddress!, weights: batch.weights == nil ? nil : w.baseAddress, scale: 1)
                }
            }
            total += result.loss
            count += result.weight
        }
        return LossSummary(natsPerCharacter: total / max(count, 1e-12), characters: Int(count.rounded()))
    }
}
