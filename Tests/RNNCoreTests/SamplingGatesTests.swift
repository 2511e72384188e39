import RNNKernels
import Testing

@testable import RNNCore

/// The quicker LSTM gates of sampling and training's forward (`lstm_forward_quick`):
/// within 1e-6 of the exact ones (`lstm_forward`, evaluation's) on every path, NaN kept,
/// saturating without infinities.
@Suite struct SamplingGatesTests {
    /// `lstm_forward` and `lstm_forward_quick` on the same pre-activations (within ±20, so
    /// both saturated and linear ranges, and every lane count: 67 units).
    @Test(arguments: Kernels.supportedPaths)
    func quickGatesAreTheExactGatesWithinAMillionth(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        let (batch, hidden) = (3, 67)
        var pre = KernelPathTests.values(batch * 4 * hidden, seed: 41).map { $0 * 20 }
        pre[5] = .nan  // row 0's input gate of unit 5
        pre[4 * hidden + 2 * hidden + 7] = .infinity  // row 1's candidate of unit 7
        pre[2 * 4 * hidden + 3 * hidden + 9] = -.infinity  // row 2's output gate of unit 9
        let cPrev = KernelPathTests.values(batch * hidden, seed: 42).map { $0 * 3 }
        func run(
            _ kernel: (
                Int, Int, UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?
            ) -> Void
        ) -> (gates: [Float], c: [Float], h: [Float]) {
            var gates = pre
            var (c, tanhC, h) = (
                [Float](repeating: 0, count: batch * hidden), [Float](repeating: 0, count: batch * hidden),
                [Float](repeating: 0, count: batch * hidden)
            )
            kernel(batch, hidden, &gates, cPrev, &c, &tanhC, &h)
            return (gates, c, h)
        }
        let exact = run(table.lstm_forward)
        let quick = run(table.lstm_forward_quick)
        for (name, a, b) in [("gates", exact.gates, quick.gates), ("c", exact.c, quick.c), ("h", exact.h, quick.h)] {
            for i in a.indices {
                if a[i].isNaN || b[i].isNaN {
                    #expect(a[i].isNaN && b[i].isNaN, "\(path) \(name)[\(i)]: \(a[i]) against \(b[i])")
                } else {
                    #expect(
                        b[i].isFinite && abs(a[i] - b[i]) <= 1e-6 * max(1, abs(a[i])),
                        "\(path) \(name)[\(i)]: \(a[i]) against \(b[i])")
                }
            }
        }
        #expect(quick.h[5].isNaN && !quick.h[6].isNaN, "a NaN stays in its unit")
        #expect(quick.gates[4 * hidden + 2 * hidden + 7] == 1, "tanh(+inf) saturates to 1")
        #expect(quick.gates[2 * 4 * hidden + 3 * hidden + 9] < 1e-37, "σ(−inf) saturates to 0")
        // Gates in [0, 1] and tanh in [−1, 1], even where the rational function overshoots
        // (tanh between about 8.2 and 9, σ between about −18 and −15, before its result was
        // clamped): a sweep of those ranges, each sign, 2048 values each.
        let (rows, units) = (32, 64)
        var edge = [Float](repeating: 0, count: rows * 4 * units)
        for r in 0..<rows {
            for j in 0..<units {
                let step = Float(r / 2 * units + j) / Float(rows / 2 * units)
                let sign: Float = r % 2 == 0 ? 1 : -1
                for gate in [0, 1, 3] { edge[(r * 4 + gate) * units + j] = sign * (15 + 3.5 * step) }
                edge[(r * 4 + 2) * units + j] = sign * (8 + step)
            }
        }
        var (c, tanhC, h) = (
            [Float](repeating: 0, count: rows * units), [Float](repeating: 0, count: rows * units),
            [Float](repeating: 0, count: rows * units)
        )
        table.lstm_forward_quick(
            rows, units, &edge, [Float](repeating: 0, count: rows * units), &c, &tanhC, &h)
        for r in 0..<rows {
            for j in 0..<units {
                for gate in [0, 1, 3] {
                    let v = edge[(r * 4 + gate) * units + j]
                    #expect((0...1).contains(v), "\(path) row \(r) gate \(gate) unit \(j): \(v)")
                }
                let g = edge[(r * 4 + 2) * units + j]
                #expect((-1...1).contains(g), "\(path) row \(r) tanh, unit \(j): \(g)")
            }
        }
    }
}
