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
