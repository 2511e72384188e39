import RNNKernels
import Testing

@testable import RNNCore

/// One-row products (`BLAS.gemm` with m = 1, which runs ``VectorProducts``) against a
/// product in Double, over shapes that hit every tail of the vector loops and the
/// two-thread split.
@Suite struct VectorProductsTests {
    static let shapes: [(k: Int, n: Int)] = [
        (1, 1), (5, 7), (3, 8), (130, 31), (128, 32), (17, 33), (40, 100), (64, 70), (128, 512), (100, 65), (301, 450),
        (1024, 1100),
        (1100, 1024),
    ]

    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return (0..<count).map { _ in 2 * g.nextUnitFloat() - 1 }
    }

    func check(k: Int, n: Int, transposeB: Bool, alpha: Float, beta: Float) {
        let ldb = (transposeB ? k : n) + 3  // a leading dimension wider than the matrix
        let rows = transposeB ? n : k
        let x = Self.values(k, seed: 1)
        let b = Self.values(rows * ldb, seed: 2)
        let start = Self.values(n, seed: 3)
        var y = start
        BLAS.gemm(
            transposeB: transposeB, m: 1, n: n, k: k, alpha: alpha, x, b, ldb: ldb, beta: beta, &y)
        for j in 0..<n {
            var sum = 0.0
            for i in 0..<k {
                let weight = transposeB ? b[j * ldb + i] : b[i * ldb + j]
                sum += Double(x[i]) * Double(weight)
            }
            let expected = Double(alpha) * sum + Double(beta) * Double(start[j])
            // Float32 accumulation of k products of values in [-1, 1]: the rounding error is
            // a random walk of k steps of at most 2^-24·|sum| each, so √k·6e-8·(a few) per
            // unit; 4e-5·√k leaves a margin for FMA vs. separate rounding and any order.
            let tolerance = 1e-5 * Double(k).squareRoot() * 4 + 1e-6
            if abs(Double(y[j]) - expected) > tolerance {
                Issue.record("k \(k) n \(n) transposeB \(transposeB): y[\(j)] = \(y[j]), expected \(expected)")
                return
            }
        }
    }

    @Test(arguments: [false, true])
    func matchesDoublePrecision(transposeB: Bool) {
        for (k, n) in Self.shapes {
            check(k: k, n: n, transposeB: transposeB, alpha: 1, beta: 0)
            check(k: k, n: n, transposeB: transposeB, alpha: 0.5, beta: 1)
        }
    }

    @Test func betaZeroIgnoresWhatTheOutputHeld() {
        var y = [Float](repeating: .nan, count: 40)
        let x: [Float] = [1, 2]
        let b = [Float](repeating: 1, count: 80)
        BLAS.gemm(m: 1, n: 40, k: 2, x, b, beta: 0, &y)
        #expect(y.allSatisfy { $0 == 3 })
    }

    /// A large product's column chunks tile its columns and each takes the kernels' one-row
    /// path the whole takes, for any thread count: the bits never depend on how many threads
    /// ran it (with 16 threads a 512 x 2048 product's 128-column parts would take the column
    /// path on a 2 MiB L2, the whole the row path).
    @Test func columnChunksKeepTheWholeProductsPath() {
        let packs = Kernels.table.pointee.vecmat_packs!
        for (k, n) in [(512, 2048), (1024, 1100), (1100, 1024), (64, 20000), (4096, 300)] {
            for threads in [1, 2, 3, 7, 16, 64] {
                let chunks = VectorProducts.columnChunks(k: k, n: n, threads: threads)
                #expect(chunks.first?.start == 0 && chunks.count <= threads)
                for (a, b) in zip(chunks, chunks.dropFirst()) { #expect(a.start + a.width == b.start) }
                #expect(chunks.last.map { $0.start + $0.width } == n, "k \(k) n \(n) threads \(threads)")
                #expect(chunks.allSatisfy { packs(k, $0.width) == packs(k, n) }, "k \(k) n \(n) threads \(threads)")
            }
        }
    }

    /// The same product computed chunk by chunk as 1, 2 and 16 threads would split it, for
    /// one row and three: the same bits as the whole (run here on this thread, so that the
    /// pool's thread count, which other suites share, stays as it is).
    @Test func aSplitProductIsTheSameOnAnyThreadCount() {
        let (k, n) = (512, 2048)
        let x = Self.values(3 * k, seed: 4)
        let b = Self.values(k * n, seed: 5)
        let start = Self.values(3 * n, seed: 6)
        let kernel = Kernels.table.pointee.vecmat_many!
        for m in [1, 3] {
            var whole = start
            kernel(m, k, n, 1, x, k, b, n, 1, &whole, n)
            for threads in [1, 2, 16] {
                var chunked = start
                chunked.withUnsafeMutableBufferPointer { y in
                    b.withUnsafeBufferPointer { bp in
                        for chunk in VectorProducts.columnChunks(k: k, n: n, threads: threads) {
                            kernel(
                                m, k, chunk.width, 1, x, k, bp.baseAddress! + chunk.start, n, 1,
                                y.baseAddress! + chunk.start, n)
                        }
                    }
                }
                #expect(chunked.map(\.bitPattern) == whole.map(\.bitPattern), "m \(m) threads \(threads)")
            }
        }
    }
}
