/// Where the batches of a training window come from: contiguous streams
/// (``SequenceBatcher``) or one sample per row (``SampleBatcher``).
public protocol Batcher: Sendable {
    /// Batches in one pass over the data.
    var batchesPerEpoch: Int { get }
    /// The next batch's index within the epoch.
    var position: Int { get }
    /// The next batch.
    mutating func next() -> TokenBatch
}

extension SequenceBatcher: Batcher {}

/// Separate sequences: the tokens are samples each ending with a separator (a newline for
/// learning-to-execute), and each row of a batch is one whole sample, from a zero state,
/// after the separator it follows: inputs `sep s₀ … sₙ₋₁`, targets `s₀ … sₙ₋₁ sep`. Rows
/// are padded to the longest sample with weight 0, so no gradient path is cut by a batch
/// boundary and no sample sees the one before it (as in evaluation).
public struct SampleBatcher: Batcher {
    /// The samples, each ending with the separator.
    private let samples: [ArraySlice<Int32>]
    private let sampleWeights: [ArraySlice<Float>]?
    /// The separator token.
    public let separator: Int32
    /// Rows per batch.
    public let batchSize: Int
    /// Steps per batch: the longest sample (with its separator).
    public let steps: Int
    public let batchesPerEpoch: Int
    public private(set) var position = 0

    /// - Parameters:
    ///   - tokens: samples, each ending with `separator`; a trailing piece without one is dropped.
    ///   - weights: per token, the weight of predicting it; nil counts all.
    /// - Throws: ``RNNCoreError`` when there are fewer whole samples than `batchSize`.
    public init(tokens: [Int32], weights: [Float]? = nil, separator: Int32, batchSize: Int) throws(RNNCoreError) {
        if let weights, weights.count != tokens.count {
            throw RNNCoreError(.shapeMismatch, "\(weights.count) weights for \(tokens.count) tokens")
        }
        guard batchSize > 0 else { throw RNNCoreError(.invalidArgument, "batch size must be positive") }
        var samples: [ArraySlice<Int32>] = []
        var sampleWeights: [ArraySlice<Float>] = []
        var start = 0
        for (i, token) in tokens.enumerated() where token == separator {
            if i > start {
                samples.append(tokens[start...i])
                if let weights { sampleWeights.append(weights[start...i]) }
            }
            start = i + 1
        }
        guard samples.count >= batchSize else {
            throw RNNCoreError(
                .invalidArgument, "\(samples.count) whole samples are too few for a batch of \(batchSize)")
        }
        self.samples = samples
        self.sampleWeights = weights == nil ? nil : sampleWeights
        self.separator = separator
        self.batchSize = batchSize
        self.steps = samples.map(\.count).max() ?? 1
        self.batchesPerEpoch = samples.count / batchSize
    }

    /// The next `batchSize` samples, one per row; every batch starts from a zero state.
    public mutating func next() -> TokenBatch {
        if position == batchesPerEpoch { position = 0 }
        let first = position * batchSize
        position += 1
        var inputs = [Int32](repeating: separator, count: batchSize * steps)
        var targets = inputs
        var weights = [Float](repeating: 0, count: batchSize * steps)
        for b in 0..<batchSize {
            let sample = samples[first + b]
            let sampleWeight = sampleWeights?[first + b]
            var previous = separator
            for (t, (token, i)) in zip(sample, sample.indices).enumerated() {
                inputs[t * batchSize + b] = previous
                targets[t * batchSize + b] = token
                weights[t * batchSize + b] = sampleWeight?[i] ?? 1
                previous = token
            }
        }
        return TokenBatch(
            batchSize: batchSize, steps: steps, inputs: inputs, targets: targets, weights: weights, resetsState: true)
    }
}
