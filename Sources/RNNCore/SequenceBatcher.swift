/// Cuts a token sequence into `batchSize` contiguous streams and walks them `steps` at a
/// time, as char-rnn and the PyTorch reference do: row `b` is chunk `b` of the data, batch
/// `k` is columns `[k·T, (k+1)·T)` of every row, and the state carries between batches.
/// After the last batch it wraps to the first and asks for a state reset.
public struct SequenceBatcher: Sendable {
    /// The tokens being walked.
    public let tokens: [Int32]
    /// One loss weight per token (the weight of predicting it), or nil for all ones.
    public let weights: [Float]?
    /// Streams per batch.
    public let batchSize: Int
    /// Steps per batch.
    public let steps: Int
    /// Batches in one pass over the data.
    public let batchesPerEpoch: Int
    /// Tokens per stream.
    private let streamLength: Int
    /// The next batch's index within the epoch.
    public private(set) var position = 0
    /// Completed passes over the data.
    public private(set) var epoch = 0

    /// - Parameters:
    ///   - weights: per token, the weight of predicting it (a loss mask); nil counts all.
    /// - Throws: ``RNNCoreError`` when the data is too short for even one batch.
    public init(tokens: [Int32], weights: [Float]? = nil, batchSize: Int, steps: Int) throws(RNNCoreError) {
        if let weights, weights.count != tokens.count {
            throw RNNCoreError(.shapeMismatch, "\(weights.count) weights for \(tokens.count) tokens")
        }
        guard batchSize > 0, steps > 0 else {
            throw RNNCoreError(.invalidArgument, "batch size and steps must be positive")
        }
        let perStream = (tokens.count - 1) / batchSize
        guard perStream >= steps else {
            throw RNNCoreError(
                .invalidArgument,
                "\(tokens.count) tokens are too few for batch \(batchSize) x steps \(steps); "
                    + "need at least \(batchSize * steps + 1)")
        }
        self.tokens = tokens
        self.weights = weights
        self.batchSize = batchSize
        self.steps = steps
        self.streamLength = perStream
        self.batchesPerEpoch = perStream / steps
    }

    /// The next batch; the first of each epoch resets the state.
    public mutating func next() -> TokenBatch {
        if position == batchesPerEpoch {
            position = 0
            epoch += 1
        }
        let k = position
        position += 1
        var inputs = [Int32](repeating: 0, count: batchSize * steps)
        var targets = inputs
        var batchWeights: [Float]? = weights.map { _ in [Float](repeating: 0, count: batchSize * steps) }
        for t in 0..<steps {
            for b in 0..<batchSize {
                let source = b * streamLength + k * steps + t
                inputs[t * batchSize + b] = tokens[source]
                targets[t * batchSize + b] = tokens[source + 1]
                if let weights { batchWeights?[t * batchSize + b] = weights[source + 1] }
            }
        }
        return TokenBatch(
            batchSize: batchSize, steps: steps, inputs: inputs, targets: targets, weights: batchWeights,
            resetsState: k == 0)
    }
}
