import RNNKernels
import Testing

@testable import RNNCore

/// The dropout kernel: masks of `scale` or 0 at the rate asked, the same on every path, the
/// output the input times the mask, nothing written past the end.
@Suite struct DropoutKernelTests {
    /// Element counts of every remainder against a block of 16 draws.
    static let counts = [1, 7, 15, 16, 17, 33, 1000, 4099]

    private static func run(
        _ table: rk_kernels, n: Int, keep: Float, seed: UInt64, input: [Float]
    ) -> (mask: [Float], out: [Float]) {
        // Two sentinels past the end: the kernel must leave them alone.
        var mask = [Float](repeating: -7, count: n + 2)
        var out = [Float](repeating: -7, count: n + 2)
        table.dropout(n, keep, 1 / keep, seed, input, &mask, &out)
        return (mask, out)
    }

    @Test func everyPathGivesTheSameMasksAndTheOutputIsTheInputTimesTheMask() {
        for n in Self.counts {
            let input = KernelPathTests.values(n, seed: UInt64(70 + n))
            var first: [UInt32]?
            for path in Kernels.supportedPaths {
                let (mask, out) = Self.run(Kernels.table(for: path)!.pointee, n: n, keep: 0.75, seed: 99, input: input)
                #expect(mask[n] == -7 && mask[n + 1] == -7 && out[n] == -7 && out[n + 1] == -7, "\(path) n \(n)")
                for i in 0..<n {
                    #expect(mask[i] == 0 || mask[i] == 1 / Float(0.75), "\(path) n \(n) mask[\(i)] = \(mask[i])")
                    #expect(out[i] == input[i] * mask[i], "\(path) n \(n) out[\(i)]")
                }
                let bits = mask[..<n].map(\.bitPattern)
                if let first { #expect(bits == first, "\(path) n \(n)") } else { first = bits }
            }
        }
    }

    /// Stream 0 is the generator `RandomGenerator(seed:)` makes (SplitMix64 expands the seed
    /// into streams one after another): elements 16·b and 16·b + 8 are the high and low draws
    /// of its output b. A short run's masks are the start of a long one's.
    @Test func theFirstStreamIsTheEnginesGeneratorAndShortRunsArePrefixes() {
        let n = 4099
        let input = [Float](repeating: 1, count: n)
        let keep: Float = 0.6
        let below = UInt64((Double(keep) * 16_777_216).rounded(.up))
        let table = Kernels.table.pointee
        let mask = Self.run(table, n: n, keep: keep, seed: 1234, input: input).mask
        var generator = RandomGenerator(seed: 1234)
        for block in stride(from: 0, to: n, by: 16) {
            let r = generator.next()
            #expect((mask[block] != 0) == (r >> 40 < below), "element \(block)")
            if block + 8 < n {
                #expect((mask[block + 8] != 0) == ((r >> 8) & 0xFF_FFFF < below), "element \(block + 8)")
            }
        }
        for m in Self.counts {
            let short = Self.run(table, n: m, keep: keep, seed: 1234, input: input).mask
            #expect(Array(short[..<m]) == Array(mask[..<m]), "n \(m)")
        }
    }

    /// Neighbouring lanes (different streams) and the two halves of a block (the high and low
    /// bits of one output) agree about half the time at keep 0.5: independent draws.
    @Test func lanesAndHalvesAreIndependent() {
        let n = 1 << 18
        let input = [Float](repeating: 1, count: n)
        let mask = Self.run(Kernels.table.pointee, n: n, keep: 0.5, seed: 77, input: input).mask
        for distance in [1, 8] {
            var (alike, pairs) = (0, 0)
            for block in stride(from: 0, to: n, by: 16) {
                for j in 0..<8 where j + distance < 16 {
                    alike += (mask[block + j] == mask[block + j + distance]) ? 1 : 0
                    pairs += 1
                }
            }
            let share = Double(alike) / Double(pairs)
            // 131,072 pairs: a standard deviation of 0.0014, and 7 of them.
            #expect(abs(share - 0.5) < 0.01, "lanes \(distance) apart agree \(share) of the time")
        }
    }

    @Test func theKeptShareIsTheKeepProbabilityAndSeedsDiffer() {
        let n = 1 << 20
        let input = [Float](repeating: 1, count: n)
        let table = Kernels.table.pointee
        for keep: Float in [0.5, 0.75, 0.9] {
            let mask = Self.run(table, n: n, keep: keep, seed: 5, input: input).mask
            let kept = Double(mask[..<n].reduce(0) { $0 + ($1 == 0 ? 0 : 1) }) / Double(n)
            // The binomial's standard deviation is at most 0.0005 here: 6 of them.
            #expect(abs(kept - Double(keep)) < 0.003, "keep \(keep): kept \(kept)")
            // Each half of a block (high and low halves of the streams' outputs) on its own.
            for half in 0..<2 {
                let part = stride(from: half * 8, to: n, by: 16).flatMap { mask[$0..<($0 + 8)] }
                let share = Double(part.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }) / Double(part.count)
                #expect(abs(share - Double(keep)) < 0.004, "keep \(keep) half \(half): \(share)")
            }
        }
        let a = Self.run(table, n: 4096, keep: 0.5, seed: 1, input: input).mask
        let b = Self.run(table, n: 4096, keep: 0.5, seed: 2, input: input).mask
        let same = zip(a, b).prefix(4096).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        // Independent masks agree on about half the elements.
        #expect(same > 1800 && same < 2300, "\(same) of 4096 alike across seeds")
        let all = Self.run(table, n: 4096, keep: 1, seed: 3, input: input).mask
        #expect(all.prefix(4096).allSatisfy { $0 == 1 })
    }
}
