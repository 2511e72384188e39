/// Draws text from a model one character at a time: iterate it, and each `next()` returns
/// the next character as soon as it is known not to start a stop string.
///
/// Runs at batch 1 on a preallocated workspace: nothing is allocated per character apart
/// from what a caller does with the characters. Confined to one thread.
public final class Sampler: IteratorProtocol, Sequence {
    /// Why sampling ended; nil while it goes on.
    public private(set) var stopReason: StopReason?
    /// Characters produced so far (including any held back or cut as a stop string).
    public private(set) var produced = 0
    /// The options in force.
    public let options: SamplingOptions

    private let model: CharRNN
    private let vocabulary: Vocabulary
    let workspace: SequenceWorkspace
    private var decoder: TokenDecoder
    var generator: RandomGenerator
    private var token: [Int32] = [0]
    var probabilities: [Float]
    var order: [Int32]
    private var stops: [[Unicode.Scalar]]
    private var held: [Unicode.Scalar] = []
    private var ready: [Unicode.Scalar] = []
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
        try options.validate()
        guard vocabulary.count == model.configuration.vocabularySize else {
            throw RNNCoreError(
                .shapeMismatch,
                "the vocabulary has \(vocabulary.count) symbols but the model expects \(model.configuration.vocabularySize)"
            )
        }
        self.model = model
        self.vocabulary = vocabulary
        self.options = options
        self.decoder = TokenDecoder(vocabulary)
        self.generator = RandomGenerator(seed: options.seed)
        self.workspace = SequenceWorkspace(configuration: model.configuration, batch: 1, steps: 1, training: false)
        let v = model.configuration.vocabularySize
        self.probabilities = [Float](repeating: 0, count: v)
        self.order = [Int32](repeating: 0, count: v)
        self.stops = options.stop.map { Array($0.unicodeScalars) }
        held.reserveCapacity(stops.map(\.count).max() ?? 1)
        workspace.load(state ?? RecurrentState(model.configuration, batchSize: 1))
        let primeTokens = vocabulary.encode(options.prime.isEmpty ? "\n" : options.prime)
        for (i, t) in primeTokens.enumerated() {
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
        while readHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readHead = 0
            if stopReason != nil { return nil }
            if produced >= options.length {
                ready.append(contentsOf: held)
                held.removeAll(keepingCapacity: true)
                stopReason = .length
                continue
            }
            let t = draw()
            workspace.carryOver()
            feed(t)
            if let scalar = decoder.decode(t) {
                produced += 1
                hold(scalar)
            }
        }
        defer { readHead += 1 }
        return ready[readHead]
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

    /// Adds a sampled scalar to the held-back tail and releases what cannot start a stop string.
    private func hold(_ scalar: Unicode.Scalar) {
        held.append(scalar)
        if stops.isEmpty {
            ready.append(contentsOf: held)
            held.removeAll(keepingCapacity: true)
            return
        }
        for stop in stops where held.count >= stop.count && held.suffix(stop.count).elementsEqual(stop) {
            ready.append(contentsOf: held.dropLast(stop.count))
            held.removeAll(keepingCapacity: true)
            stopReason = .stop
            return
        }
        // Keep the longest tail of `held` that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: Swift.min(held.count, stop.count - 1), to: keep, by: -1)
            where held.suffix(length).elementsEqual(stop.prefix(length)) {
                keep = length
                break
            }
        }
        ready.append(contentsOf: held.dropLast(keep))
        held.removeFirst(held.count - keep)
    }
}
