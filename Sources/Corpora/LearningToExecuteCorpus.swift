public import RNNCore

/// Learning-to-execute samples as a corpus: programs, the addition task or the copy task,
/// with the paper's curricula, a loss mask on the answers, and a train/validation/test
/// split decided by a hash of each sample's text, so the sets never share a sample.
public struct LearningToExecuteCorpus: CorpusSource {
    public enum Task: String, Sendable, CaseIterable { case program, addition, copy }
    /// The paper's curricula: `baseline` always at the target difficulty; `naive` from the
    /// easiest up to the target; `mixed` each sample at a random difficulty up to the
    /// target; `combined` one sample in five a mixed draw, the rest at the naive level.
    public enum Curriculum: String, Sendable, CaseIterable { case baseline, naive, mixed, combined }
    public enum Split: String, Sendable, CaseIterable { case train, validation, test }

    public struct Options: Sendable, Hashable {
        public var task: Task = .program
        public var length = 4
        public var nesting = 3
        public var curriculum: Curriculum = .baseline
        /// Samples over which `naive` climbs to the target.
        public var curriculumSamples = 100_000
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

    public init(_ options: Options) throws(CorpusError) {
        guard (1...9).contains(options.length), (1...10).contains(options.nesting) else {
            throw CorpusError("l2e needs length in 1...9 and nesting in 1...10")
        }
        self.options = options
        self.generator = SplitMix64(state: options.seed)
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
        func naive() -> (Int, Int) {
            let progress = min(1, Double(produced) / Double(max(1, options.curriculumSamples)))
            return (1 + Int(progress * Double(target.0 - 1)), 1 + Int(progress * Double(target.1 - 1)))
        }
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
