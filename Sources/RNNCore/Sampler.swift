/// Draws text from a model one character at a time: iterate it, and each `next()` returns
/// the next character as soon as it is known not to start a stop string.
///
/// Runs at batch 1 on a preallocated workspace: nothing is allocated per character apart
/// from what a caller does with the characters. Confined to one thread. ``SamplingBatch``
/// draws the same text for the same options while stepping many samples together.
public final class Sampler: IteratorProtocol, Sequence {
    /// Why sampling ended; nil while it goes on.
    public var stopReason: StopReason? { draw.stopReason }
    /// Characters produced so far (including any held back or cut as a stop string).
    public var produced: Int { draw.produced }
    /// The options in force.
    public var options: SamplingOptions { draw.options }
    /// The draws' ``SampleDraw/fingerprint`` so far.
    var fingerprint: UInt64 { draw.fingerprint }

    private let model: CharRNN
    let workspace: SequenceWorkspace
    private let draw: SampleDraw
    private var token: [Int32] = [0]
    private var readHead = 0

    /// Prepares to sample: validates the options and feeds the priming text (or a newline
    /// when there is none) through the model.
    ///
    /// - Parameters:
    ///   - state: a state to continue from (batch 1); nil starts from zeros.
    /// - Throws: ``RNNCoreError`` when an option is out of range or the vocabulary does not
    ///   match the model.
    public init(model: CharRNN, vocabulary: Vocabulary, options: SamplingOptions, state: RecurrentState? = nil)
        throws(RNNCoreError)
    {
        draw = try SampleDraw(options: options, vocabulary: vocabulary)
        try vocabulary.check(fits: model)
        self.model = model
        self.workspace = SequenceWorkspace(
            configuration: model.configuration, batch: 1, steps: 1, training: false, quickGates: true)
        workspace.load(state ?? RecurrentState(model.configuration, batchSize: 1))
        for (i, t) in SampleDraw.primeTokens(options, vocabulary).enumerated() {
            if i > 0 { workspace.carryOver() }
            feed(t)
        }
    }

    /// The hidden state after the last character fed through the model.
    public var state: RecurrentState {
        var s = RecurrentState(model.configuration, batchSize: 1)
        workspace.store(into: &s)
        return s
    }

    /// The next character, or nil when the length is reached or a stop string appeared.
    public func next() -> Unicode.Scalar? {
        while readHead == draw.ready.count {
            draw.ready.removeAll(keepingCapacity: true)
            readHead = 0
            if draw.stopReason != nil { return nil }
            if draw.endIfDone() { continue }
            let t = draw.draw(workspace.logits.base)
            workspace.carryOver()
            feed(t)
            draw.accept(t)
        }
        defer { readHead += 1 }
        return draw.ready[readHead]
    }

    /// Runs one step of the model on `t`, leaving the next distribution's logits.
    private func feed(_ t: Int32) {
        token[0] = t
        var noDropout: RandomGenerator? = nil
        model.parameters.withUnsafeBufferPointer { p in
            token.withUnsafeBufferPointer { i in
                workspace.forward(parameters: p.baseAddress!, inputs: i.baseAddress!, dropout: &noDropout)
            }
        }
    }
}

extension Vocabulary {
    /// Throws unless this vocabulary has as many symbols as `model` has inputs.
    func check(fits model: CharRNN) throws(RNNCoreError) {
        guard count == model.configuration.vocabularySize else {
            throw RNNCoreError(
                .shapeMismatch,
                "the vocabulary has \(count) symbols but the model expects \(model.configuration.vocabularySize)")
        }
    }
}
