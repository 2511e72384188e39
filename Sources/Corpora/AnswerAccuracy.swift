public import RNNCore

/// The paper's two measures on question/answer samples (`prompt@answer.`): teacher-forced
/// per-character accuracy of the answer, and greedy exact match (the model's own characters
/// fed back until `.`).
public struct AnswerAccuracy: Sendable, Hashable {
    /// Answer characters (the final `.` included) predicted right with the true prefix given.
    public var characterAccuracy: Double
    /// Samples whose greedy answer is exactly right.
    public var exactMatch: Double
    /// Samples measured.
    public var samples: Int

    /// Measures `model` on `samples` (whole lines such as `print(12+34)@64.`). Each sample
    /// starts from a zero state after a newline, as samples follow newlines in training;
    /// `shouldStop` is asked before each (`RNNCoreError` `.stopped` once it says so).
    public static func measure(
        _ model: CharRNN, vocabulary: Vocabulary, samples: [String], shouldStop: () -> Bool = { false }
    ) throws(RNNCoreError) -> AnswerAccuracy {
        var right = 0, total = 0, exact = 0, counted = 0
        for sample in samples {
            if shouldStop() { throw RNNCoreError(.stopped, "the accuracy measurement was stopped before its end") }
            guard let at = sample.firstIndex(of: "@") else { continue }
            let prompt = "\n" + sample[...at]
            let answer = String(sample[sample.index(after: at)...])
            let promptTokens = vocabulary.encode(String(prompt))
            let answerTokens = vocabulary.encode(answer)
            guard !answerTokens.isEmpty else { continue }
            counted += 1
            let v = model.configuration.vocabularySize
            let logits = try Evaluator.logits(model, tokens: promptTokens + answerTokens.dropLast())
            for (k, target) in answerTokens.enumerated() {
                let row = (promptTokens.count - 1 + k) * v
                var best = 0
                for j in 1..<v where logits[row + j] > logits[row + best] { best = j }
                if Int32(best) == target { right += 1 }
                total += 1
            }
            let sampler = try Sampler(
                model: model, vocabulary: vocabulary,
                options: SamplingOptions(
                    argmax: true, prime: String(prompt), stop: ["."], length: answer.unicodeScalars.count + 2))
            var produced = String.UnicodeScalarView()
            while let s = sampler.next() { produced.append(s) }
            if sampler.stopReason == .stop && String(produced) + "." == answer { exact += 1 }
        }
        return AnswerAccuracy(
            characterAccuracy: Double(right) / Double(max(total, 1)),
            exactMatch: Double(exact) / Double(max(counted, 1)),
            samples: counted)
    }
}
