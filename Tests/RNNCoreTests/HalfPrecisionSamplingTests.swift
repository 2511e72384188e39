import RNNKernels
import Testing

@testable import RNNCore

/// Sampling from half-precision weights (``SamplingPrecision/half``) is sampling from the
/// model with those weights rounded: the half-float kernel gives the bits the single kernel
/// gives over the widened values, and a whole batch, its rows alone or together, draws the
/// texts ``Sampler`` draws from the rounded model.
@Suite struct HalfPrecisionSamplingTests {
    static let paths = Kernels.supportedPaths

    /// Products on the kernels' row path (past an eighth of L2 on any CPU: 1.2 MiB and up),
    /// with every tail: `n % W`, `k % 4`, a leading dimension wider than the columns.
    static let shapes: [(k: Int, n: Int, ldb: Int)] = [(512, 2048, 2048), (301, 1100, 1100), (603, 517, 530)]

    @Test(arguments: paths)
    func halfFloatProductsAreTheProductsOfTheWidenedWeights(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        guard let half = table.vecmat_many_half else {
            #expect(path == .portable, "every vector path converts half floats")
            return
        }
        for (k, n, ldb) in Self.shapes {
            #expect(table.vecmat_packs(k, n) == 0, "k \(k) n \(n) is meant for the row path")
            let weights = KernelPathTests.values(k * ldb, seed: 31).map { $0 * 3 }
            let rounded = HalfBuffer(rounding: weights.withUnsafeBufferPointer { $0 })!
            let widened = (0..<rounded.count).map { Float(Float16(bitPattern: rounded.base[$0])) }
            #expect(widened != weights, "rounding changed nothing: the test would not tell the kernels apart")
            for (m, alpha, beta) in [(1, Float(1), Float(1)), (2, 1, 0), (3, 0.5, 2)] {
                let x = KernelPathTests.values(m * k, seed: 32)
                let start = KernelPathTests.values(m * n, seed: 33)
                var fromHalf = start
                var fromFloats = start
                half(m, k, n, alpha, x, k, rounded.base, ldb, beta, &fromHalf, n)
                table.vecmat_many(m, k, n, alpha, x, k, widened, ldb, beta, &fromFloats, n)
                let differs = fromHalf.indices.first { fromHalf[$0].bitPattern != fromFloats[$0].bitPattern }
                #expect(differs == nil, "\(path) k \(k) n \(n) m \(m): first differing output \(differs ?? -1)")
            }
        }
    }

    @Test func roundingRefusesWeightsBeyondHalfPrecision() {
        #expect(HalfBuffer(rounding: [1, 70_000].withUnsafeBufferPointer { $0 }) == nil)
        #expect(HalfBuffer(rounding: [1, .nan].withUnsafeBufferPointer { $0 }) == nil)
        let kept = HalfBuffer(rounding: [65_504, -1e-9, 0.1].withUnsafeBufferPointer { $0 })!
        #expect(
            (0..<3).map { Float(Float16(bitPattern: kept.base[$0])) }
                == [65_504, -1e-9, 0.1].map { Float(Float16($0)) })
    }

    @Test func aHalfPrecisionBatchSamplesTheRoundedModelAloneAndTogether() throws {
        // 512 x 2048 matrices: rounded on any CPU, split by columns across the pool; a batch
        // of more than two rows reads its parts packed from the rounded values.
        let bytes = Vocabulary.bytes
        let model = try SamplingBatchTests.model(.lstm, layers: 1, hidden: 512, vocabulary: bytes.count)
        let reference = model.sampled(in: .half)
        let roundsAny = Kernels.table.pointee.vecmat_many_half != nil
        #expect((reference.parameters != model.parameters) == roundsAny)
        for threads in [2, 1] {
            try KernelThreads.with(threads) {
                try SamplingBatchTests().check(
                    model, bytes, capacity: 20, lateJoin: 1, precision: .half, reference: reference)
            }
        }
    }
}
