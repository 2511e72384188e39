/// One minibatch for truncated BPTT: `batchSize` parallel streams of `steps` tokens each.
public struct TokenBatch: Sendable, Hashable {
    /// Number of parallel streams (B).
    public var batchSize: Int
    /// Steps per stream (T).
    public var steps: Int
    /// `T·B` input tokens, time-major: index `t·B + b` is step `t` of stream `b`.
    public var inputs: [Int32]
    /// `T·B` target tokens, laid out as `inputs` (usually the next input).
    public var targets: [Int32]
    /// `T·B` loss weights (a mask: 0 leaves a position out of the loss), or nil for all ones.
    public var weights: [Float]?
    /// Whether the carried state must be zeroed before this batch (the start of the data).
    public var resetsState: Bool

    /// Creates a batch.
    public init(
        batchSize: Int, steps: Int, inputs: [Int32], targets: [Int32], weights: [Float]? = nil,
        resetsState: Bool = false
    ) {
        self.batchSize = batchSize
        self.steps = steps
        self.inputs = inputs
        self.targets = targets
        self.weights = weights
        self.resetsState = resetsState
    }

    /// Throws when the arrays do not match the shape or a token is out of the vocabulary.
    public func validate(vocabularySize: Int) throws(RNNCoreError) {
        let n = batchSize * steps
        guard batchSize > 0, steps > 0 else {
            throw RNNCoreError(.invalidArgument, "batch size and steps must be positive, got \(batchSize)x\(steps)")
        }
        guard inputs.count == n, targets.count == n, weights.map({ $0.count == n }) ?? true else {
            throw RNNCoreError(.shapeMismatch, "a \(batchSize)x\(steps) batch needs \(n) inputs, targets and weights")
        }
        for token in inputs where token < 0 || Int(token) >= vocabularySize {
            throw RNNCoreError(.invalidArgument, "input token \(token) is outside the vocabulary of \(vocabularySize)")
        }
        for token in targets where token < 0 || Int(token) >= vocabularySize {
            throw RNNCoreError(.invalidArgument, "target token \(token) is outside the vocabulary of \(vocabularySize)")
        }
    }
}
