/// Many samples of one model stepped together (continuous batching): a sample joins at any
/// step, primes through the batch one token per step, draws one character per step, and
/// leaves when its length is produced or a stop string appears.
///
/// Every row computes exactly what it computes alone in a batch (per element the same
/// operations in the same order: the kernels' `vecmat_many`), so a seeded sample gives the
/// same text whatever else shares the batch; in ``SamplingPrecision/single`` that is what
/// ``Sampler`` computes, in ``SamplingPrecision/half`` what it computes for
/// ``CharRNN/sampled(in:)``. The gain is in the products: each weight loaded
/// serves several rows. Confined to one thread; spreads its rows over the kernel pool.
public final class SamplingBatch {
    /// What one step did to one sample, as ``step(_:)`` reports it.
    public struct Progress {
        /// The id the sample was added with.
        public let id: Int
        /// Characters released this step (none while priming or while a possible stop
        /// string is held back), or for a sample that does not stream, all of its text at
        /// its end; valid during the report only.
        public let text: ArraySlice<Unicode.Scalar>
        /// Set when the sample ended this step; it has left the batch when the step returns.
        public let stopReason: StopReason?
        /// The draws' ``SampleDraw/fingerprint`` so far.
        let fingerprint: UInt64
    }

    /// Rows the batch holds at most.
    public let capacity: Int
    /// Whether a step spreads its rows over the kernel pool (true by default). A caller that
    /// runs one batch per core turns it off, and ``splitsUnits`` with it while another batch
    /// runs: its batches then never wait on each other.
    public var splitsRows = true
    /// Whether a step with one row alone spreads each layer's units over the kernel pool
    /// (true by default; the models that gain, see ``UnitSplit``). A caller whose other
    /// threads keep the cores busy turns it off: the pool's threads meet once per layer, and a
    /// thread waiting for a core would hold the step up.
    public var splitsUnits = true
    /// Samples in the batch.
    public var count: Int { rows.count }
    /// Whether no sample is in the batch.
    public var isEmpty: Bool { rows.isEmpty }

    let model: CharRNN
    let vocabulary: Vocabulary
    let state: BatchState
    /// Active rows; row `i`'s state is in slot `i` of ``state``.
    var rows: [Row] = []
    /// Each row's input token for the next step.
    var inputs: [Int32]

    /// One sample in the batch.
    final class Row {
        let id: Int
        let draw: SampleDraw
        let prime: [Int32]
        /// Whether its text is reported as it is released (else once, when it ends).
        let streams: Bool
        @exclusivity(unchecked) var primed = 0
        /// Characters of ``SampleDraw/ready`` already counted as released.
        @exclusivity(unchecked) var counted = 0
        /// The token drawn last, fed at the next step once the prime is through (the batch's
        /// thread alone touches a row: no run-time exclusivity checks).
        @exclusivity(unchecked) var drawn: Int32 = 0

        init(id: Int, draw: SampleDraw, prime: [Int32], streams: Bool) {
            self.id = id
            self.draw = draw
            self.prime = prime
            self.streams = streams
        }

        /// Whether this step's logits are to be drawn from (the prime is through).
        var draws: Bool { primed == prime.count }
    }

    /// A batch of up to `capacity` samples of `model`, its products reading the weights in
    /// `precision` (``SamplingPrecision/single`` by default: the texts ``Sampler`` draws).
    ///
    /// - Throws: ``RNNCoreError`` when the vocabulary does not fit the model or the capacity
    ///   is not positive.
    public init(model: CharRNN, vocabulary: Vocabulary, capacity: Int, precision: SamplingPrecision = .single)
        throws(RNNCoreError)
    {
        try vocabulary.check(fits: model)
        guard capacity > 0 else { throw RNNCoreError(.invalidArgument, "a batch needs room for a row") }
        self.model = model
        self.vocabulary = vocabulary
        self.capacity = capacity
        state = model.parameters.withUnsafeBufferPointer {
            BatchState(model.configuration, capacity: capacity, parameters: $0.baseAddress!, precision: precision)
        }
        inputs = [Int32](repeating: 0, count: capacity)
    }

    /// Adds a sample under `id`, from a zero state; it primes from the next step on. A sample
    /// that `streams` is reported at every step that releases characters; one that does not
    /// keeps its text and is reported once, when it ends, with all of it (a report per row
    /// and step cost a 16-row batch about 4% of its time).
    ///
    /// - Throws: ``RNNCoreError`` when an option is out of range or the batch is full.
    public func add(id: Int, options: SamplingOptions, streams: Bool = true) throws(RNNCoreError) {
        guard rows.count < capacity else {
            throw RNNCoreError(.invalidArgument, "the batch is full (\(capacity) rows)")
        }
        let draw = try SampleDraw(options: options, vocabulary: vocabulary)
        if !streams { draw.ready.reserveCapacity(Self.reservedCharacters(options)) }
        state.zero(slot: rows.count)
        rows.append(Row(id: id, draw: draw, prime: SampleDraw.primeTokens(options, vocabulary), streams: streams))
    }

    /// Characters to reserve room for ahead of a sample's text: its length, up to 64 Ki.
    public static func reservedCharacters(_ options: SamplingOptions) -> Int { min(options.length, 1 << 16) }

    /// Drops the sample `id` (its client went away) and returns the characters it released
    /// and did not report; nothing when it is not in the batch.
    @discardableResult
    public func remove(id: Int) -> [Unicode.Scalar] {
        guard let i = rows.firstIndex(where: { $0.id == id }) else { return [] }
        let unreported = rows[i].draw.ready
        removeRow(at: i)
        return unreported
    }

    /// A sample taken out of its batch with its state, to rejoin where it stopped (its
    /// client reads more slowly than the batch draws).
    public final class Suspended {
        /// The id the sample was added with.
        public var id: Int { row.id }
        let row: Row
        let state: [Float]

        init(row: Row, state: [Float]) {
            self.row = row
            self.state = state
        }
    }

    /// Takes the sample `id` out of the batch, keeping everything it needs to go on.
    public func suspend(id: Int) -> Suspended? {
        guard let i = rows.firstIndex(where: { $0.id == id }) else { return nil }
        let suspended = Suspended(row: rows[i], state: state.copy(slot: i))
        removeRow(at: i)
        return suspended
    }

    /// Puts a suspended sample back; it goes on at the next step exactly as if it had never
    /// left.
    ///
    /// - Throws: ``RNNCoreError`` when the batch is full.
    public func resume(_ suspended: Suspended) throws(RNNCoreError) {
        guard rows.count < capacity else {
            throw RNNCoreError(.invalidArgument, "the batch is full (\(capacity) rows)")
        }
        state.restore(suspended.state, slot: rows.count)
        rows.append(suspended.row)
    }

    /// Advances every sample by one token and reports each one that ended, and each one that
    /// streams and released characters; the ended ones have left the batch when this
    /// returns. Returns the characters the samples released in the step, reported or not.
    @discardableResult
    public func step(_ report: (Progress) -> Void) -> Int {
        guard !rows.isEmpty else { return 0 }
        for (i, row) in rows.enumerated() {
            if row.draws {
                inputs[i] = row.drawn
            } else {
                inputs[i] = row.prime[row.primed]
                row.primed += 1
            }
        }
        forward()
        var released = 0
        var i = 0
        while i < rows.count {
            let row = rows[i]
            let ended = row.draws && row.draw.endIfDone()
            let ready = row.draw.ready.count
            released += ready - row.counted
            if ended || row.streams && ready > 0 {
                report(
                    Progress(
                        id: row.id, text: row.draw.ready[...], stopReason: row.draw.stopReason,
                        fingerprint: row.draw.fingerprint))
                row.draw.ready.removeAll(keepingCapacity: true)
                row.counted = 0
            } else {
                row.counted = ready
            }
            if ended {
                removeRow(at: i)
            } else {
                i += 1
            }
        }
        return released
    }

    /// Draws the next token of each of `rows` from its logits (a sample that asked for no
    /// characters ends once primed, without a draw).
    func draw(rows range: Range<Int>) {
        for i in range {
            let row = rows[i]
            guard row.draws, !row.draw.endIfDone() else { continue }
            let t = row.draw.draw(state.logits[i * state.vocabularySize])
            row.draw.accept(t)
            row.drawn = t
        }
    }

    private func removeRow(at i: Int) {
        let last = rows.count - 1
        if i != last {
            state.move(slot: last, to: i)
            rows.swapAt(i, last)
            inputs[i] = inputs[last]
        }
        rows.removeLast()
    }
}
