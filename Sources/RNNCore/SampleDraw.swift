/// One sample's side of drawing text: its options, random stream, decoder and stop strings.
/// Turns the logits of each step into the next token and the characters that token releases.
///
/// ``Sampler`` (one row) and ``SamplingBatch`` (many rows) both draw through it, so the same
/// logits give the same text whichever runs them. Confined to one thread at a time, so its
/// mutable state skips the run-time exclusivity checks (`@exclusivity(unchecked)`): they
/// cost a thread-local lookup per access on every character of every row.
final class SampleDraw {
    /// The options in force.
    let options: SamplingOptions
    /// Why the sample ended; nil while it goes on.
    @exclusivity(unchecked) private(set) var stopReason: StopReason?
    /// Characters produced so far (including any held back or cut as a stop string).
    @exclusivity(unchecked) private(set) var produced = 0
    /// Tokens drawn so far.
    @exclusivity(unchecked) private(set) var draws = 0
    /// Characters released and not yet taken by the caller.
    @exclusivity(unchecked) var ready: [Unicode.Scalar] = []
    @exclusivity(unchecked) var generator: RandomGenerator
    /// A hash of the bits of every logit drawn from: two runs with equal fingerprints saw
    /// the same numbers, not only the same text (what the tests of batching compare).
    @exclusivity(unchecked) var fingerprint: UInt64 = 0xcbf2_9ce4_8422_2325
    @exclusivity(unchecked) var probabilities: [Float]
    @exclusivity(unchecked) var order: [Int32]
    @exclusivity(unchecked) private var decoder: TokenDecoder
    private let stops: [[Unicode.Scalar]]
    @exclusivity(unchecked) private var held: [Unicode.Scalar] = []

    /// - Throws: ``RNNCoreError`` when an option is out of range.
    init(options: SamplingOptions, vocabulary: Vocabulary) throws(RNNCoreError) {
        try options.validate()
        self.options = options
        generator = RandomGenerator(seed: options.seed)
        decoder = TokenDecoder(vocabulary)
        probabilities = [Float](repeating: 0, count: vocabulary.count)
        order = [Int32](repeating: 0, count: vocabulary.count)
        stops = options.stop.map { Array($0.unicodeScalars) }
        held.reserveCapacity(stops.map(\.count).max() ?? 1)
    }

    /// The tokens that warm the state before the first draw: the prime, or a newline.
    static func primeTokens(_ options: SamplingOptions, _ vocabulary: Vocabulary) -> [Int32] {
        vocabulary.encode(options.prime.isEmpty ? "\n" : options.prime)
    }

    /// Ends the sample once its length is produced, releasing what was held back; true when
    /// it has ended (for this or an earlier reason).
    func endIfDone() -> Bool {
        if stopReason != nil { return true }
        // A byte model can draw bytes that never complete a character: four bytes a
        // character at most, so past that many draws the sample has its length all the same.
        guard produced >= options.length || draws >= 4 * options.length + 4 else { return false }
        ready.append(contentsOf: held)
        held.removeAll(keepingCapacity: true)
        stopReason = .length
        return true
    }

    /// Takes the drawn token `t`: decodes it and releases what cannot start a stop string.
    func accept(_ t: Int32) {
        draws += 1
        guard let scalar = decoder.decode(t) else { return }
        produced += 1
        hold(scalar)
    }

    /// Adds a sampled scalar to the held-back tail and releases what cannot start a stop string.
    private func hold(_ scalar: Unicode.Scalar) {
        if stops.isEmpty {
            ready.append(scalar)
            return
        }
        held.append(scalar)
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
