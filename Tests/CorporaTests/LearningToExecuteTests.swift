import Foundation
import RNNCore
import Testing

@testable import Corpora

@Suite struct LearningToExecuteTests {
    /// Runs programs through Python and returns what they print.
    func python(_ programs: [LearningToExecute.Program]) throws -> [String] {
        let source = programs.map { p in
            "def f():\n"
                + (p.lines + ["print(\(p.expression))"]).map { "    " + $0.replacingOccurrences(of: ";", with: "") }
                .joined(separator: "\n") + "\nf()\n"
        }.joined()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-"]
        let out = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(Data(source.utf8))
            try? input.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(arguments: [(1, 1), (2, 2), (4, 3), (6, 6)])
    func programsComputeWhatPythonComputes(_ length: Int, _ nesting: Int) throws {
        var g = SplitMix64(state: UInt64(length * 100 + nesting))
        let generator = LearningToExecute(length: length, nesting: nesting)
        let programs = (0..<1000).map { _ in generator.program(&g) }
        let printed = try python(programs)
        #expect(printed.count == programs.count)
        for (program, output) in zip(programs, printed) {
            #expect(String(program.value) == output, "\(program.text)")
        }
    }

    @Test func theTextHasThePapersShape() {
        var g = SplitMix64(state: 9)
        for _ in 0..<300 {
            let p = LearningToExecute(length: 3, nesting: 4).program(&g)
            let text = p.text
            #expect(text.hasSuffix("."))
            #expect(text.contains("print(\(p.expression))@\(p.value)."))
            for line in p.lines { #expect(text.contains(line + "#")) }
            let assigned = p.lines.compactMap { $0.first }.filter { $0 != "f" }
            #expect(Set(assigned).count == assigned.count, "variables are distinct")
            #expect(assigned.allSatisfy { "abcdefghij".contains($0) })
            for line in p.lines where line.hasPrefix("for ") { #expect(line.hasPrefix("for x in range(")) }
        }
    }

    @Test func theSameSeedGivesTheSameCorpus() throws {
        var options = LearningToExecuteCorpus.Options()
        options.seed = 77
        var a = try LearningToExecuteCorpus(options)
        var b = try LearningToExecuteCorpus(options)
        #expect(try a.next(maximumBytes: 5000) == b.next(maximumBytes: 5000))
        options.seed = 78
        var c = try LearningToExecuteCorpus(options)
        var a2 = try LearningToExecuteCorpus(LearningToExecuteCorpus.Options())
        #expect(try c.next(maximumBytes: 5000)?.text != a2.next(maximumBytes: 5000)?.text)
    }

    @Test func theMaskCountsOnlyAnswers() throws {
        var options = LearningToExecuteCorpus.Options()
        options.samples = 20
        var corpus = try LearningToExecuteCorpus(options)
        let chunk = try #require(try corpus.next(maximumBytes: 1 << 20))
        let mask = try #require(chunk.lossMask)
        let scalars = Array(chunk.text.unicodeScalars)
        #expect(mask.count == scalars.count)
        var inAnswer = false
        for (s, m) in zip(scalars, mask) {
            #expect(m == inAnswer, "mask at \(s)")
            if s == "@" { inAnswer = true } else if s == "." { inAnswer = false }
        }
        #expect(chunk.text.split(separator: "\n").count == 20)
        #expect(try corpus.next(maximumBytes: 100) == nil, "a finite corpus ends")
    }

    @Test func splitsNeverShareASample() throws {
        func samples(_ split: LearningToExecuteCorpus.Split) throws -> Set<Substring> {
            var options = LearningToExecuteCorpus.Options()
            options.length = 1
            options.nesting = 1
            options.split = split
            options.samples = 400
            var corpus = try LearningToExecuteCorpus(options)
            return Set(try #require(try corpus.next(maximumBytes: 1 << 22)).text.split(separator: "\n"))
        }
        let train = try samples(.train), validation = try samples(.validation), test = try samples(.test)
        #expect(train.isDisjoint(with: validation) && train.isDisjoint(with: test) && validation.isDisjoint(with: test))
        #expect(validation.allSatisfy { LearningToExecuteCorpus.split(of: String($0)) == .validation })
    }

    @Test func additionAndCopyWithTheirOptions() throws {
        var options = LearningToExecuteCorpus.Options()
        options.task = .addition
        options.length = 3
        options.samples = 50
        var plain = try LearningToExecuteCorpus(options)
        for line in try #require(try plain.next(maximumBytes: 1 << 20)).text.split(separator: "\n") {
            let parts = line.dropFirst(6).split(separator: ")")  // "print(" A+B ")@" S "."
            let operands = parts[0].split(separator: "+").map { Int($0)! }
            let answer = Int(line.split(separator: "@")[1].dropLast())!
            #expect(operands[0] + operands[1] == answer, "\(line)")
        }
        options.reverseAnswer = true
        options.doubleInput = true
        var reversed = try LearningToExecuteCorpus(options)
        let line = try #require(try reversed.next(maximumBytes: 200)?.text.split(separator: "\n").first)
        let input = String(line.split(separator: "@")[0])
        #expect(input.count % 2 == 0 && input.prefix(input.count / 2) == input.suffix(input.count / 2))
        options = LearningToExecuteCorpus.Options()
        options.task = .copy
        options.length = 5
        options.samples = 30
        var copy = try LearningToExecuteCorpus(options)
        for line in try #require(try copy.next(maximumBytes: 1 << 20)).text.split(separator: "\n") {
            let halves = line.dropLast().split(separator: "@")
            #expect(halves[0] == halves[1] && halves[0].count == 5)
        }
    }

    @Test func theNaiveCurriculumClimbsAndMixedStaysBelowTheTarget() throws {
        var options = LearningToExecuteCorpus.Options()
        options.curriculum = .naive
        options.length = 5
        options.nesting = 4
        var naive = try LearningToExecuteCorpus(options)
        var g = SplitMix64(state: 1)
        #expect(naive.difficulty(&g) == (1, 1))
        _ = try naive.next(maximumBytes: 1 << 20)  // samples alone do not raise the level
        #expect(naive.difficulty(&g) == (1, 1))
        naive.advance()
        #expect(naive.difficulty(&g) == (2, 1), "length first")
        for _ in 0..<3 { naive.advance() }
        #expect(naive.difficulty(&g) == (5, 1))
        naive.advance()
        #expect(naive.difficulty(&g) == (5, 2), "then nesting")
        while naive.advance() {}
        #expect(naive.difficulty(&g) == (5, 4))
        #expect(try LearningToExecuteCorpus(options, level: (3, 2)).level == (3, 2))
        options.curriculum = .mixed
        let mixed = try LearningToExecuteCorpus(options)
        for _ in 0..<100 {
            let d = mixed.difficulty(&g)
            #expect((1...5).contains(d.length) && (1...4).contains(d.nesting))
        }
    }
}
