import RNNKernels
import Testing

@testable import RNNCore

/// A large product split across 2, 3 or 4 threads, by rows or by columns, writes every
/// element of C once and exactly as one thread does; a column split covers every column once.
@Suite(.serialized) struct ParallelSplitTests {
    /// Shapes that reach each branch of the split on a 2 MiB L2: more rows than columns (by
    /// rows), more columns (by columns), too few panels for the parts (by rows), too few rows
    /// (by columns); k past one KC block of 256 in the first two.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(300, 130, 300), (130, 300, 300), (700, 40, 50), (40, 700, 50)]

    func product(_ shape: (m: Int, n: Int, k: Int), transposeA: Bool, transposeB: Bool, threads: Int) -> [Float] {
        let a = (0..<(shape.m * shape.k)).map { Float(($0 * 37) % 101) / 101 - 0.5 }
        let b = (0..<(shape.k * shape.n)).map { Float(($0 * 53) % 97) / 97 - 0.5 }
        var c = (0..<(shape.m * shape.n)).map { Float($0 % 7) }
        KernelThreads.with(threads) {
            BLAS.gemm(
                transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k, alpha: 0.75, a,
                b, beta: 0.5, &c)
        }
        return c
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func everyThreadCountGivesTheProductOfOne(_ transposes: (a: Bool, b: Bool)) {
        for shape in Self.shapes {
            let one = product(shape, transposeA: transposes.a, transposeB: transposes.b, threads: 1)
            for threads in [2, 3, 4] {
                let many = product(shape, transposeA: transposes.a, transposeB: transposes.b, threads: threads)
                let differing = zip(one, many).filter { $0 != $1 }.count
                #expect(differing == 0, "\(shape) transposes \(transposes) on \(threads) threads: \(differing) differ")
            }
        }
    }

    @Test func columnRangesCoverEveryColumnOnce() {
        for threads in [1, 2, 3, 4] {
            for count in [128, 130, 191, 512, 5000] {
                let visits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                visits.initialize(repeating: 0, count: count)
                defer { visits.deallocate() }
                KernelThreads.with(threads) {
                    Parallel.forEachColumnRange(of: count, rows: 1 << 16) { range in
                        for j in range { visits[j] += 1 }
                    }
                }
                let wrong = (0..<count).filter { visits[$0] != 1 }
                #expect(
                    wrong.isEmpty, "\(count) columns on \(threads) threads: columns \(wrong.prefix(5)) visited not once"
                )
            }
        }
    }
}
