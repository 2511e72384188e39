public import RNNCore

/// Learning-to-execute samples as a corpus: programs, the addition task or the copy task,
/// with the paper's curricula, a loss mask on the answers, and a train/validation/test
/// split decided by a hash of each sample's text, so the sets never share a sample.
public struct LearningToExecuteCorpus: CorpusSource {
    public enum Task: String, Sendable, CaseIterable { case program, addition, copy }
    /// The paper's curricula: `baseline` always at the target difficulty; `naive` from (1, 1),
    /// raised by ``advance()`` when the trainer sees the level learnt (validation accuracy
    /// above 95% or training stalled); `mixed` each sample at a random difficulty up to the
    /// target; `combined` one sample in five a mixed draw, the rest at the naive level.
    public enum Curriculum: String, Sendable, CaseIterable { case baseline, naive, mixed, combined }
    public enum Split: String, Sendable, CaseIterable { case train, validation, test }

    public struct Options: Sendable, Hashable {
        public var task: Task = .program
        public var length = 4
        public var nesting = 3
        public var curriculum: Curriculum = .baseline
        /// Train on each sample as a row of its own from a zero state (true), or on the
        /// samples as one stream (false). The corpus's text is the same either way.
        public var separateSequences = true
        public var split: Split = .train
        public var seed: UInt64 = 1
        /// Count only the answer characters (after `@`, through `.`) in the loss.
        public var answerOnlyLoss = true
        public var reverseAnswer = false
        public var reverseInput = false
        public var doubleInput = false
        /// Stop after this many samples (nil: endless).
        public var samples: Int?
        public init() {}
    }

    public let options: Options
    private var generator: SplitMix64
    private var produced = 0
    /// The naive curriculum's level (length, nesting), raised by ``advance()``.
    public private(set) var level: (length: Int, nesting: Int) = (1, 1)

    /// - Parameter level: where a naive curriculum resumes (from a checkpoint); nil starts at (1, 1).
    public init(_ options: Options, level: (length: Int, nesting: Int)? = nil) throws(CorpusError) {
        guard (1...9).contains(options.length), (1...10).contains(options.nesting) else {
            throw CorpusError("l2e needs length in 1...9 and nesting in 1...10")
        }
        self.options = options
        self.generator = SplitMix64(state: options.seed)
        if let level {
            self.level = (min(max(1, level.length), options.length), min(max(1, level.nesting), options.nesting))
        }
    }

    /// Whether the curriculum has a level that feedback raises.
    public var hasLevels: Bool { options.curriculum == .naive || options.curriculum == .combined }

    /// Raises the naive level: length first, then nesting (the paper's order; programs only,
    /// since addition and copy have no nesting). Returns false at the target.
    @discardableResult
    public mutating func advance() -> Bool {
        if level.length < options.length {
            level.length += 1
        } else if options.task == .program, level.nesting < options.nesting {
            level.nesting += 1
        } else {
            return false
        }
        return true
    }

    /// Held-out samples at the current level (the validation split), for measuring it.
    public func validationSamples(_ count: Int, seed: UInt64) -> [String] {
        var options = self.options
        options.split = .validation
        options.curriculum = .baseline
        options.length = hasLevels ? level.length : options.length
        options.nesting = hasLevels ? level.nesting : options.nesting
        options.seed = seed
        guard var corpus = try? LearningToExecuteCorpus(options) else { return [] }
        return (0..<count).map { _ in corpus.nextSample() }
    }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        var text = ""
        var mask: [Bool] = []
        while text.utf8.count < maximumBytes {
            if let limit = options.samples, produced >= limit { break }
            let sample = nextSample() + "\n"
            var answer = false
            for scalar in sample.unicodeScalars {
                // Predicting a character counts when it lies in the answer: after "@" up to ".".
                mask.append(!options.answerOnlyLoss || answer)
                if scalar == "@" { answer = true } else if scalar == "." { answer = false }
            }
            text += sample
            produced += 1
        }
        return text.isEmpty ? nil : CorpusChunk(text: text, lossMask: options.answerOnlyLoss ? mask : nil)
    }

    /// The difficulty of the next sample under the curriculum.
    func difficulty(_ g: inout SplitMix64) -> (length: Int, nesting: Int) {
        let target = (options.length, options.nesting)
        func naive() -> (Int, Int) { level }
        func mixed() -> (Int, Int) {
            (Int(g.next() % UInt64(target.0)) + 1, Int(g.next() % UInt64(target.1)) + 1)
        }
        switch options.curriculum {
        case .baseline: return target
        case .naive: return naive()
        case .mixed: return mixed()
        case .combined: return g.next() % 5 == 0 ? mixed() : naive()
        }
    }

    /// The next sample that falls in the requested split.
    mutating func nextSample() -> String {
        while true {
            let (length, nesting) = difficulty(&generator)
            let text: String
            switch options.task {
            case .program: text = LearningToExecute(length: length, nesting: nesting).program(&generator).text
            case .addition: text = addition(length)
            case .copy: text = copy(length)
            }
            if Self.split(of: text) == options.split { return text }
        }
    }

    private mutating func number(_ digits: Int) -> Int {
        var top = 1
        for _ in 0..<digits { top *= 10 }
        return Int(generator.next() % UInt64(top))
    }

    private func transform(_ input: String) -> String {
        let i = options.reverseInput ? String(input.reversed()) : input
        return options.doubleInput ? i + i : i
    }

    private func answer(_ s: String) -> String { options.reverseAnswer ? String(s.reversed()) : s }

    /// `print(A+B)@S.`
    private mutating func addition(_ length: Int) -> String {
        let a = number(length), b = number(length)
        let input =
            "print(\(options.reverseInput ? String(String(a).reversed()) : String(a))+\(options.reverseInput ? String(String(b).reversed()) : String(b)))"
        return (options.doubleInput ? input + input : input) + "@" + answer(String(a + b)) + "."
    }

    /// `A@A.`: the answer is the input again.
    private mutating func copy(_ length: Int) -> String {
        let digits = (0..<length).map { _ in String(generator.next() % 10) }.joined()
        return transform(digits) + "@" + answer(digits) + "."
    }

    /// 80% train, 10% validation, 10% test, by FNV-1a of the text.
    public static func split(of text: String) -> Split {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        switch hash % 10 {
        case 8: return .validation
        case 9: return .test
        default: return .train
        }
    }
}
