import Foundation
import RNNKernels
import Testing

@testable import RNNCore

/// Every kernel path this CPU can run, against products and gates in Double: the shapes hit
/// each tail of the micro-tiles (rows not a multiple of MR, columns not a multiple of NR,
/// depths across the KC block), both transposes, wide leading dimensions, alpha and beta.
/// The process's own path is not switched, so the other suites running alongside keep theirs.
@Suite struct KernelPathTests {
    static let paths = Kernels.supportedPaths

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return (0..<count).map { _ in 2 * g.nextUnitFloat() - 1 }
    }

    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (2, 1, 1), (3, 5, 7), (12, 32, 16), (13, 33, 257), (50, 512, 128), (50, 128, 512), (25, 65, 128),
        (130, 48, 300), (7, 100, 600), (97, 17, 31),
    ]

    func checkGemm(
        path: KernelPath, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float
    )
        -> Bool
    {
        let table = Kernels.table(for: path)!.pointee
        let lda = (transposeA ? m : k) + 3
        let ldb = (transposeB ? k : n) + 5
        let ldc = n + 2
        let a = Self.values((transposeA ? k : m) * lda, seed: 11)
        let b = Self.values((transposeB ? n : k) * ldb, seed: 12)
        let start = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : Self.values(m * ldc, seed: 13)
        var c = start
        table.sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, &c, ldc)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                let expected = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(start[i * ldc + j]))
                let tolerance = 2e-6 * Double(k).squareRoot() * 4 + 1e-6
                if !(abs(Double(c[i * ldc + j]) - expected) <= tolerance) {
                    Issue.record(
                        "\(path) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB): C[\(i),\(j)] = \(c[i * ldc + j]), expected \(expected)"
                    )
                    return false
                }
            }
            // Columns past n belong to someone else.
            for j in n..<ldc where c[i * ldc + j].bitPattern != start[i * ldc + j].bitPattern {
                Issue.record("\(path) wrote past column \(n) in row \(i)")
                return false
            }
        }
        return true
    }

    @Test(arguments: paths)
    func gemmMatchesDoublePrecision(path: KernelPath) {
        for (m, n, k) in Self.shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    guard
                        checkGemm(
                            path: path, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 1,
                            beta: 0),
                        checkGemm(
                            path: path, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 0.5,
                            beta: 1)
                    else { return }
                }
            }
        }
    }

    /// The gradient's sum of squares (in Double) and value clipping, on lengths that hit every
    /// tail of the vector loops; NaN and infinity propagate to the norm.
    @Test(arguments: paths)
    func wholeGradientOperationsMatchDouble(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        for count in [0, 1, 7, 31, 32, 33, 100, 1000, 23_466] {
            let x = Self.values(count, seed: UInt64(40 + count)).map { $0 * 9 }
            let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            let sum = table.sum_squares(count, x)
            #expect(abs(sum - expected) <= 1e-12 * max(expected, 1), "\(path) n \(count): \(sum) vs \(expected)")
            var clamped = x + [1]  // one past the end, which must stay as it was
            table.clamp(count, 5, &clamped)
            #expect(clamped.dropLast() == x.map { min(max($0, -5), 5) }[...], "\(path) n \(count)")
            #expect(clamped.last == 1)
            // In one pass: the same sum, bit for bit, and the same clamped values.
            var fused = x + [1]
            let fusedSum = table.sum_squares_then_clamp(count, 5, &fused)
            #expect(fusedSum.bitPattern == sum.bitPattern, "\(path) n \(count): \(fusedSum) vs \(sum)")
            #expect(fused == clamped, "\(path) n \(count)")
        }
        // In the vector body (5, 40) and in the scalar tail (97) of every path.
        for index in [5, 40, 97] {
            var poisoned = Self.values(100, seed: 9)
            poisoned[index] = .nan
            #expect(table.sum_squares(100, poisoned).isNaN, "\(path) NaN at \(index)")
            var clamped = poisoned
            table.clamp(100, 5, &clamped)
            #expect(clamped[index].isNaN, "\(path) clamp keeps NaN at \(index)")
            var fused = poisoned
            #expect(table.sum_squares_then_clamp(100, 5, &fused).isNaN && fused[index].isNaN, "\(path) \(index)")
            poisoned[index] = .infinity
            #expect(table.sum_squares(100, poisoned) == .infinity, "\(path) infinity at \(index)")
            fused = poisoned
            #expect(table.sum_squares_then_clamp(100, 5, &fused) == .infinity && fused[index] == 5, "\(path) \(index)")
        }
    }

    /// Adagrad's update (1/√ by an estimate and a Newton step) against Double, in the vector
    /// body and the scalar tail, with an infinite memory leaving its parameter alone.
    @Test(arguments: paths)
    func adagradMatchesDouble(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        for count in [1, 7, 33, 1000] {
            let g = Self.values(count, seed: UInt64(80 + count)).map { $0 * 5 }
            var m = Self.values(count, seed: UInt64(90 + count)).map { abs($0) * 30 }
            m[0] = .infinity
            let start = Self.values(count, seed: UInt64(100 + count))
            var p = start
            var updated = m
            table.adagrad(count, 0.1, 1e-8, g, &updated, &p)
            for i in 0..<count {
                let memory = Double(m[i]) + Double(g[i]) * Double(g[i])
                let step = 0.1 * Double(g[i]) / (memory + 1e-8).squareRoot()
                let expected = Double(start[i]) - step
                // A few units in the last place of the step, and the rounding of the subtraction.
                let tolerance = 1e-6 * abs(step) + 1.2e-7 * abs(expected)
                #expect(abs(Double(p[i]) - expected) <= tolerance, "\(path) n \(count) [\(i)]: \(p[i]) vs \(expected)")
            }
            #expect(p[0] == start[0], "\(path): an infinite memory must not move its parameter")
        }
    }

    /// Softmax cross-entropy rows (weighted, every tail of the vector loops, a row whose
    /// logits would overflow exp unshifted) and bias-gradient column sums, against Double.
    @Test(arguments: paths)
    func lossAndColumnSumsMatchDouble(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        for v in [1, 7, 16, 33, 65, 100] {
            let rows = 5
            var logits = Self.values(rows * v, seed: UInt64(60 + v)).map { $0 * 6 }
            logits[v - 1] = 200  // row 0: exp(200) overflows unless shifted by the maximum
            let start = logits
            let targets: [Int32] = (0..<rows).map { Int32(($0 * 7 + 3) % v) }
            let weights: [Float] = [1, 0.5, 0, 2, 1]
            var sums = [0.0, 0.0]
            table.softmax_xent(rows, v, &logits, targets, weights, 0.25, &sums)
            var loss = 0.0
            for r in 0..<rows {
                let row = start[(r * v)..<((r + 1) * v)].map(Double.init)
                let m = row.max()!
                let z = row.reduce(0.0) { $0 + exp($1 - m) }
                let t = Int(targets[r])
                loss += Double(weights[r]) * (log(z) - (row[t] - m))
                for j in 0..<v {
                    let expected = (exp(row[j] - m) / z - (j == t ? 1 : 0)) * Double(weights[r]) * 0.25
                    let got = Double(logits[r * v + j])
                    #expect(abs(got - expected) <= 1e-6, "\(path) v \(v) row \(r) col \(j): \(got) vs \(expected)")
                }
            }
            #expect(abs(sums[0] - loss) <= 1e-5 * max(1, loss), "\(path) v \(v): loss \(sums[0]) vs \(loss)")
            #expect(sums[1] == 4.5)

            let m = Self.values(9 * (v + 3), seed: UInt64(80 + v))
            var out = Self.values(v + 1, seed: 7)
            let before = out
            table.add_column_sums(9, v, m, v + 3, &out)
            for j in 0..<v {
                let expected = Double(before[j]) + (0..<9).reduce(0.0) { $0 + Double(m[$1 * (v + 3) + j]) }
                #expect(abs(Double(out[j]) - expected) <= 1e-5, "\(path) column \(j) of \(v)")
            }
            #expect(out[v] == before[v], "\(path) wrote past column \(v)")
        }
        // A NaN logit, in the first vector (where it sits in a lane of the running maximum)
        // or later, makes the loss and the whole gradient row NaN.
        for index in [0, 3, 21, 39] {
            var poisoned = Self.values(40, seed: 3)
            poisoned[index] = .nan
            var sums = [0.0, 0.0]
            table.softmax_xent(1, 40, &poisoned, [2], nil, 1, &sums)
            #expect(sums[0].isNaN, "\(path): a NaN logit at \(index) must make the loss NaN")
            let everyGradientNaN = poisoned.allSatisfy { $0.isNaN }
            #expect(everyGradientNaN, "\(path): NaN at \(index) must reach every gradient")
        }
    }

    /// The fused LSTM and GRU gates of each path against the portable path's, which the
    /// gradient checks and the PyTorch fixtures cover.
    @Test(arguments: paths)
    func gatesAgreeWithThePortablePath(path: KernelPath) {
        let portable = Kernels.table(for: .portable)!.pointee
        let table = Kernels.table(for: path)!.pointee
        let (batch, hidden) = (3, 37)
        func compare(_ name: String, _ x: [Float], _ y: [Float]) {
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 2e-6, "\(path) \(name): differs from portable by \(worst)")
        }
        let pre = Self.values(batch * 4 * hidden, seed: 21).map { $0 * 4 }
        let cPrev = Self.values(batch * hidden, seed: 22)
        var outs: [[[Float]]] = []
        for t in [portable, table] {
            var a = pre
            var c = [Float](repeating: 0, count: batch * hidden)
            var tanhC = c
            var h = c
            t.lstm_forward(batch, hidden, &a, cPrev, &c, &tanhC, &h)
            var dc = Self.values(batch * hidden, seed: 23)
            var da = [Float](repeating: 0, count: batch * 4 * hidden)
            t.lstm_backward(batch, hidden, a, cPrev, tanhC, Self.values(batch * hidden, seed: 24), &dc, &da)
            var g = Array(pre[0..<(batch * 3 * hidden)])
            let gh = Self.values(batch * 3 * hidden, seed: 25)
            var gruH = c
            t.gru_forward(batch, hidden, &g, gh, cPrev, &gruH)
            var dax = g
            var dgh = g
            var direct = c
            t.gru_backward(batch, hidden, g, gh, cPrev, Self.values(batch * hidden, seed: 26), &dax, &dgh, &direct)
            outs.append([a, c, tanhC, h, dc, da, g, gruH, dax, dgh, direct])
        }
        let names = ["lstm gates", "c", "tanh c", "h", "dc", "da", "gru gates", "gru h", "dax", "dgh", "dh direct"]
        for (i, name) in names.enumerated() { compare(name, outs[0][i], outs[1][i]) }
    }

    @Test func theActivePathIsOneThisCPUCanRun() {
        #expect(Kernels.supportedPaths.contains(Kernels.path))
        #expect(Kernels.supportedPaths.first == .portable)
        #expect(!Kernels.cpuName.isEmpty)
    }
}
