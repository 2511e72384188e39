import Foundation
import RNNKernels
import Testing

@testable import RNNCore

/// A draw's weights (`draw_weights`): the tempered softmax's numerators and their sum, the
/// same bits on every path, and a fingerprint that sees every bit of every logit.
@Suite struct DrawWeightsTests {
    /// Logit counts of every remainder against 16 partials and every vector width.
    static let counts = [1, 3, 16, 17, 65, 256]

    @Test func weightsAndTheirSumMatchDoublePrecisionAndEveryPathAgrees() throws {
        for v in Self.counts {
            let logits = KernelPathTests.values(v, seed: UInt64(50 + v)).map { $0 * 8 }
            let invT: Float = 1 / 0.7
            // From the argument as floats compute it (a rounding of 1e-6 of an argument of 20
            // is an error of 2e-5 in its exponential), exponentiated in double precision.
            let m = logits.max()!
            let expected = logits.map { exp(Double(($0 - m) * invT)) }
            var results: [(p: [Float], total: Float, fingerprint: UInt64)] = []
            for path in Kernels.supportedPaths {
                var p = [Float](repeating: 0, count: v)
                var fingerprint: UInt64 = 7
                let total = Kernels.table(for: path)!.pointee.draw_weights(v, logits, invT, &p, &fingerprint)
                for j in 0..<v {
                    #expect(abs(Double(p[j]) - expected[j]) <= 1e-6 * expected[j] + 1e-30, "\(path) v \(v) p[\(j)]")
                }
                let sum = expected.reduce(0, +)
                #expect(abs(Double(total) - sum) <= 1e-6 * sum, "\(path) v \(v): \(total) against \(sum)")
                results.append((p, total, fingerprint))
            }
            // Every path: the same weights, sum and fingerprint, bit for bit.
            for other in results.dropFirst() {
                #expect(other.p.map(\.bitPattern) == results[0].p.map(\.bitPattern), "v \(v)")
                #expect(other.total.bitPattern == results[0].total.bitPattern, "v \(v)")
                #expect(other.fingerprint == results[0].fingerprint, "v \(v)")
            }
        }
    }

    /// One bit of one logit changed anywhere changes the fingerprint; so does the order of
    /// two logits, and the fingerprint it starts from. With `p` NULL only the fingerprint.
    @Test func theFingerprintSeesEveryBitOfEveryLogit() {
        let table = Kernels.table.pointee
        let v = 65
        let logits = KernelPathTests.values(v, seed: 60)
        func fingerprint(_ values: [Float], from start: UInt64 = 1) -> UInt64 {
            var f = start
            _ = table.draw_weights(v, values, 1, nil, &f)
            return f
        }
        let base = fingerprint(logits)
        var seen: Set<UInt64> = [base]
        for j in 0..<v {
            for bit in [0, 17, 31] {
                var changed = logits
                changed[j] = Float(bitPattern: changed[j].bitPattern ^ (1 << UInt32(bit)))
                seen.insert(fingerprint(changed))
            }
        }
        #expect(seen.count == 1 + 3 * v)
        var swapped = logits
        swapped.swapAt(0, 4)
        #expect(fingerprint(swapped) != base)
        #expect(fingerprint(logits, from: 2) != base)
        var p = [Float](repeating: 0, count: v)
        var withWeights: UInt64 = 1
        _ = table.draw_weights(v, logits, 1, &p, &withWeights)
        #expect(withWeights == base)
    }

    /// A NaN among the logits makes the weights NaN (a draw from them picks no real token),
    /// as the maximum and the exponential would in Swift.
    @Test func aNaNLogitPoisonsTheSumAndLeavesTheOthersAlike() {
        // A NaN in a vector's first lanes, or first of all: the other weights are the same
        // bits on every path (the maximum skips the NaN, or is NaN when it comes first).
        for at in [0, 1, 20] {
            var logits = KernelPathTests.values(40, seed: 61).map { $0 * 4 }
            logits[at] = .nan
            // The largest at 5: in the NaN's lane (1) of a 4-lane vector, not of 8 or 16.
            logits[5] = 100
            var weights: [[UInt32]] = []
            for path in Kernels.supportedPaths {
                var p = [Float](repeating: 0, count: 40)
                var f: UInt64 = 0
                #expect(Kernels.table(for: path)!.pointee.draw_weights(40, logits, 1, &p, &f).isNaN, "\(path) \(at)")
                weights.append(p.map(\.bitPattern))
                if at != 0 { #expect(p[5] == 1, "\(path) NaN at \(at): the maximum skips it") }
            }
            #expect(weights.allSatisfy { $0 == weights[0] }, "NaN at \(at)")
        }
    }
}
