import RNNKernels
import Testing

@testable import RNNCore

/// Sampling from reduced weights (``SamplingPrecision``): the half-float and byte kernels
/// give the bits the single kernel gives over the widened values; a half-precision batch,
/// its rows alone or together, draws the texts ``Sampler`` draws from the rounded model; an
/// int8 batch draws the same text for a row alone as beside fifteen others.
@Suite struct ReducedPrecisionSamplingTests {
    static let paths = Kernels.supportedPaths

    /// Products on the kernels' row path (past an eighth of L2 on any CPU: 1.2 MiB and up),
    /// with every tail: `n % W`, `k % 4`, a leading dimension wider than the columns.
    static let shapes: [(k: Int, n: Int, ldb: Int)] = [(512, 2048, 2048), (301, 1100, 1100), (603, 517, 530)]

    @Test(arguments: paths)
    func reducedProductsAreTheProductsOfTheWidenedWeights(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        guard let half = table.vecmat_many_half, let int8 = table.vecmat_many_int8 else {
            #expect(path == .portable, "every vector path widens half floats and bytes")
            return
        }
        for (k, n, ldb) in Self.shapes {
            #expect(table.vecmat_packs(k, n) == 0, "k \(k) n \(n) is meant for the row path")
            let weights = KernelPathTests.values(k * ldb, seed: 31).map { $0 * 3 }
            let matrices = weights.withUnsafeBufferPointer {
                [ReducedMatrix(half: $0, rows: k, kernels: table)!, ReducedMatrix(int8: $0, rows: k)!]
            }
            for matrix in matrices {
                let widened = matrix.widened()
                for (m, alpha, beta) in [(1, Float(1), Float(1)), (2, 1, 0), (3, 0.5, 2)] {
                    let x = KernelPathTests.values(m * k, seed: 32)
                    let start = KernelPathTests.values(m * n, seed: 33)
                    var fromReduced = start
                    var fromFloats = start
                    switch matrix.source {
                    case .half(let b): half(m, k, n, alpha, x, k, b, ldb, beta, &fromReduced, n)
                    case .int8(let b, _): int8(m, k, n, alpha, x, k, b, ldb, beta, &fromReduced, n)
                    case .single: Issue.record("a reduced matrix reads as single")
                    }
                    table.vecmat_many(m, k, n, alpha, x, k, widened, ldb, beta, &fromFloats, n)
                    let differs = fromReduced.indices.first {
                        fromReduced[$0].bitPattern != fromFloats[$0].bitPattern
                    }
                    #expect(
                        differs == nil,
                        "\(path) \(matrix.scales == nil ? "half" : "int8") k \(k) n \(n) m \(m): first differing output \(differs ?? -1)"
                    )
                }
            }
        }
    }

    @Test func reducingRefusesWhatItCannotHold() {
        func half(_ values: [Float]) -> ReducedMatrix? {
            values.withUnsafeBufferPointer { ReducedMatrix(half: $0, rows: 1) }
        }
        #expect(half([1, 70_000]) == nil)
        #expect(half([1, .nan]) == nil)
        if Kernels.table.pointee.to_half != nil {
            #expect(half([65_504, -1e-9, 0.1])?.widened() == [65_504, -1e-9, 0.1].map { Float(Float16($0)) })
            // The kernels' rounding (vector body and scalar tail) is Swift's Float16 rounding,
            // on magnitudes from subnormal halves to the largest finite one.
            let spread = KernelPathTests.values(1001, seed: 41).enumerated().map { i, v in
                v * [1e-7, 3e-5, 0.02, 1, 700, 65_000][i % 6]
            }
            #expect(half(spread)?.widened().map(\.bitPattern) == spread.map { Float(Float16($0)).bitPattern })
            #expect(half(spread + [-65_520]) == nil)
            #expect(half([.infinity] + spread) == nil)
        } else {
            #expect(half([1]) == nil, "the portable path rounds nothing")
        }
        let values: [Float] = [2.54, -1, 0.01, 0, 0, 0, -3, 1.5, 0.5]
        let bytes = values.withUnsafeBufferPointer { ReducedMatrix(int8: $0, rows: 3)! }
        // Row 0's scale is 2.54/127 = 0.02; an all-zero row keeps scale 0 and zero bytes.
        #expect(bytes.widened() == [127, -50, 1, 0, 0, 0, -127, 64, 21])
        #expect(bytes.scales![1] == 0)
        #expect(values.withUnsafeBufferPointer { ReducedMatrix(int8: $0, rows: 3) } != nil)
        #expect([Float.infinity].withUnsafeBufferPointer { ReducedMatrix(int8: $0, rows: 1) } == nil)
    }

    /// A 1x512 LSTM over bytes, whose 512 x 2048 matrix is reduced on any CPU and split by
    /// columns across the pool (a batch of more than two rows reads its parts packed from the
    /// same reduced values); and a 1x256 one, whose 1 MiB matrix is reduced on CPUs with up to
    /// 8 MiB of L2 and whose batches split their rows across the pool instead (each part
    /// scales its own rows' inputs for int8).
    static func models() throws -> [CharRNN] {
        try [512, 256].map { try SamplingBatchTests.model(.lstm, layers: 1, hidden: $0, vocabulary: 256) }
    }

    /// Whether `precision` reduces a matrix of `model`, as it should on this CPU.
    static func expectReduced(_ model: CharRNN, _ precision: SamplingPrecision) {
        let kernels = Kernels.table.pointee
        let h = model.configuration.hiddenSize
        let available = precision == .half ? kernels.vecmat_many_half != nil : kernels.vecmat_many_int8 != nil
        let expected = available && kernels.vecmat_packs(h, 4 * h) == 0
        #expect((model.sampled(in: precision).parameters != model.parameters) == expected)
    }

    @Test func aHalfPrecisionBatchSamplesTheRoundedModelAloneAndTogether() throws {
        for model in try Self.models() {
            Self.expectReduced(model, .half)
            let reference = model.sampled(in: .half)
            for threads in [2, 1] {
                try KernelThreads.with(threads) {
                    try SamplingBatchTests().check(
                        model, .bytes, capacity: 20, lateJoin: 1, precision: .half, reference: reference)
                }
            }
        }
    }

    @Test func anInt8SampleIsTheSameAloneAndInABatch() throws {
        for model in try Self.models() {
            Self.expectReduced(model, .int8)
            for threads in [2, 1] {
                try KernelThreads.with(threads) {
                    try SamplingBatchTests().check(
                        model, .bytes, capacity: 20, lateJoin: 1, precision: .int8, aloneInBatch: true)
                }
            }
        }
    }
}
