import RNNKernels
import Testing

@testable import RNNCore

/// Sampling from reduced weights (``SamplingPrecision``): the half-float kernel gives the bits
/// the single kernel gives over the widened values, the byte kernel exact integer sums of
/// its rounded inputs; a half-precision batch,
/// its rows alone or together, draws the texts ``Sampler`` draws from the rounded model; an
/// int8 batch draws the same text for a row alone as beside fifteen others.
@Suite struct ReducedPrecisionSamplingTests {
    static let paths = Kernels.supportedPaths

    /// Products on the kernels' row path (past an eighth of L2 on any CPU: 1.2 MiB and up),
    /// with every tail: `n % W`, `k % 4`, a leading dimension wider than the columns.
    static let shapes: [(k: Int, n: Int, ldb: Int)] = [(512, 2048, 2048), (301, 1100, 1100), (603, 517, 530)]

    @Test(arguments: paths)
    func halfFloatProductsAreTheProductsOfTheWidenedWeights(path: KernelPath) {
        let table = Kernels.table(for: path)!.pointee
        guard let half = table.vecmat_many_half else {
            #expect(path == .portable, "every vector path widens half floats")
            return
        }
        for (k, n, ldb) in Self.shapes {
            #expect(table.vecmat_packs(k, n) == 0, "k \(k) n \(n) is meant for the row path")
            let weights = KernelPathTests.values(k * ldb, seed: 31).map { $0 * 3 }
            let matrix = weights.withUnsafeBufferPointer { ReducedMatrix(half: $0, rows: k, kernels: table)! }
            let widened = matrix.widened()
            for (m, alpha, beta) in [(1, Float(1), Float(1)), (2, 1, 0), (3, 0.5, 2)] {
                let x = KernelPathTests.values(m * k, seed: 32)
                let start = KernelPathTests.values(m * n, seed: 33)
                var fromReduced = start
                var fromFloats = start
                guard case .half(let b) = matrix.source else {
                    Issue.record("not half floats")
                    return
                }
                half(m, k, n, alpha, x, k, b, ldb, beta, &fromReduced, n)
                table.vecmat_many(m, k, n, alpha, x, k, widened, ldb, beta, &fromFloats, n)
                let differs = fromReduced.indices.first { fromReduced[$0].bitPattern != fromFloats[$0].bitPattern }
                #expect(differs == nil, "\(path) half k \(k) n \(n) m \(m): first differing output \(differs ?? -1)")
            }
        }
    }

    /// What `vecmat_many_int8` computes, in Swift: each row of `x` times `scales` rounded to
    /// signed bytes at `127 / max|x·s|`, their exact sums with the bytes (`bytes`, row-major
    /// `k x ldb`), then `alpha·unit·sum + beta·y` one rounding at a time.
    static func int8Products(
        m: Int, k: Int, n: Int, alpha: Float, x: [Float], scales: [Float]?, bytes: [Float], ldb: Int, beta: Float,
        y: inout [Float]
    ) {
        let limit = 127
        for r in 0..<m {
            let row = (0..<k).map { i in scales.map { x[r * k + i] * $0[i] } ?? x[r * k + i] }
            let largest = row.reduce(Float(0)) { max($0, abs($1)) }
            var unit = largest / Float(limit)
            var integers = [Int](repeating: 0, count: k)
            if !row.allSatisfy(\.isFinite) {
                unit = .nan
            } else if largest > 0 {
                let inverse = Float(limit) / largest
                if inverse.isFinite {
                    integers = row.map { Int(($0 * inverse).rounded(.toNearestOrEven)) }
                } else {
                    unit = 0  // inputs below about 4e-37: nothing
                }
            }
            let scale = alpha * unit
            var sums = [Int](repeating: 0, count: n)
            bytes.withUnsafeBufferPointer { bytes in
                sums.withUnsafeMutableBufferPointer { sums in
                    for i in 0..<k where integers[i] != 0 {
                        for j in 0..<n { sums[j] += integers[i] * Int(bytes[i * ldb + j]) }
                    }
                }
            }
            let within = sums.allSatisfy { abs($0) < Int(Int32.max) }
            #expect(within, "integer sums within 32 bits")
            for j in 0..<n {
                let t = scale * Float(Int32(sums[j]))
                let old = y[r * n + j]
                y[r * n + j] = beta == 0 ? t : beta == 1 ? old + t : beta * old + t
            }
        }
    }

    /// On the AVX-512 path, with VNNI (where the CPU has it) and without: the same sums. Its
    /// cases run one at a time, as only the AVX-512 one switches VNNI (for the whole process:
    /// other tests' results cannot change with it, their sums being the same either way).
    @Test(.serialized, arguments: paths)
    func int8ProductsAreExactIntegerSums(path: KernelPath) {
        guard path == .avx512 else {
            expectExactIntegerSums(path: path, label: "\(path)")
            expectSumsAtTheRowLimit(path: path, label: "\(path)")
            return
        }
        let before = rk_int8_vnni()
        defer { _ = rk_set_int8_vnni(before) }
        let instructions: [Int32] = rk_set_int8_vnni(1) == 1 ? [1, 0] : [0]
        for vnni in instructions {
            #expect(rk_set_int8_vnni(vnni) == vnni)
            expectExactIntegerSums(path: path, label: "\(path) vnni \(vnni)")
            expectSumsAtTheRowLimit(path: path, label: "\(path) vnni \(vnni)")
        }
    }

    /// The most rows a matrix may have (``SamplingWeights/maximumInt8Rows``), every byte and
    /// every input at its largest: the largest sums there are (with VNNI, those of the stored
    /// bytes, plus 128), still exact.
    private func expectSumsAtTheRowLimit(path: KernelPath, label: String) {
        let (k, n) = (SamplingWeights.maximumInt8Rows, 32)
        let weights = [Float](repeating: 1, count: k * n)
        let matrix = weights.withUnsafeBufferPointer { ReducedMatrix(int8: $0, rows: k)! }
        guard case .int8(let b, let scales) = matrix.source else {
            Issue.record("not bytes")
            return
        }
        for sign: Float in [1, -1] {
            let x = [Float](repeating: sign, count: 2 * k)
            var y = [Float](repeating: 0, count: 2 * n)
            Kernels.table(for: path)!.pointee.vecmat_many_int8(2, k, n, 1, x, k, scales, b, 0, &y, n)
            // Every input and byte 127, each unit worth 1/127²: k.
            let expected = sign * Float(k)
            #expect(y.allSatisfy { abs($0 - expected) <= 1e-5 * Float(k) }, "\(label): \(y[0]) for \(expected)")
        }
    }

    private func expectExactIntegerSums(path: KernelPath, label: String) {
        let table = Kernels.table(for: path)!.pointee
        // The one-row kernels' shapes, a 2x128 LSTM's, one with tails of every kind and one
        // whose last columns fill a one-vector tile on every path (240 = 7·32 + 16).
        for (k, n, ldb) in Self.shapes + [(128, 512, 512), (67, 203, 213), (40, 240, 240)] {
            let weights = KernelPathTests.values(k * ldb, seed: 31).map { $0 * 3 }
            let matrix = weights.withUnsafeBufferPointer { ReducedMatrix(int8: $0, rows: k)! }
            let bytes = matrix.widened()
            #expect(bytes.allSatisfy { abs($0) <= 127 && $0 == $0.rounded() })
            // Rows one at a time, in part-filled tiles, and in whole tiles and a remainder (16
            // and 17: tiles of 8 rows on AVX-512, 4 elsewhere); every column tail.
            for (m, alpha, beta) in [(1, Float(1), Float(1)), (2, 1, 0), (5, 0.5, 2), (16, 1, 1), (17, 1, 0)] {
                var x = KernelPathTests.values(m * k, seed: 32)
                if m == 5 {
                    for i in 0..<k { x[k + i] = 0 }  // a row of zeros: beta·y
                    x[4 * k + 3] = .nan  // a row with a NaN: NaN, as a float product would be
                    for i in 0..<k { x[2 * k + i] *= 1e-38 }  // too small to round: nothing
                }
                let start = KernelPathTests.values(m * n, seed: 33)
                var fromKernel = start
                var expected = start
                guard case .int8(let b, let matrixScales) = matrix.source else {
                    Issue.record("not bytes")
                    return
                }
                // The rows' scales on the inputs, as sampling passes them, or none.
                let scales = m == 2 ? nil : Array(UnsafeBufferPointer(start: matrixScales, count: k))
                table.vecmat_many_int8(m, k, n, alpha, x, k, scales, b, beta, &fromKernel, n)
                Self.int8Products(
                    m: m, k: k, n: n, alpha: alpha, x: x, scales: scales, bytes: bytes, ldb: ldb, beta: beta,
                    y: &expected)
                let differs = fromKernel.indices.first { fromKernel[$0].bitPattern != expected[$0].bitPattern }
                #expect(differs == nil, "\(label) int8 k \(k) n \(n) m \(m): first differing output \(differs ?? -1)")
                if m == 5 { #expect(fromKernel[(4 * n)..<(5 * n)].allSatisfy { $0.isNaN }) }
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
    /// columns across the pool (a lone half-precision row; a lone int8 row splits its units; a
    /// batch of more than two rows reads half floats packed from the same reduced values, int8
    /// through its own kernel); and a 1x256 one, whose 1 MiB matrix is reduced in half
    /// precision on CPUs with up to 8 MiB of L2 (in int8 on any) and whose batches split their
    /// rows across the pool instead.
    static func models() throws -> [CharRNN] {
        try [512, 256].map { try SamplingBatchTests.model(.lstm, layers: 1, hidden: $0, vocabulary: 256) }
    }

    /// Whether `precision` reduces a matrix of `model`, as it should on this CPU.
    static func expectReduced(_ model: CharRNN, _ precision: SamplingPrecision) {
        let kernels = Kernels.table.pointee
        let h = model.configuration.hiddenSize
        let expected =
            precision == .int8
            ? h * 4 * h >= SamplingWeights.minimumInt8Weights
            : kernels.vecmat_many_half != nil && kernels.vecmat_packs(h, 4 * h) == 0
        #expect((model.sampled(in: precision).parameters != model.parameters) == expected)
    }

    /// A batch scores a text (teacher-forced through its own products) as the evaluator does,
    /// and only when empty.
    @Test func aBatchScoresTextAsTheEvaluatorDoes() throws {
        let model = try SamplingBatchTests.model(.lstm, layers: 2, hidden: 48, vocabulary: 256)
        let vocabulary = Vocabulary.bytes
        let tokens = KernelPathTests.values(400, seed: 51).map { Int32(abs($0 * 1000)) % 256 }
        let expected = try Evaluator.evaluate(model, tokens: tokens).natsPerCharacter
        func nats(_ precision: SamplingPrecision) throws -> Double {
            try SamplingBatch(model: model, vocabulary: vocabulary, capacity: 2, precision: precision)
                .natsPerCharacter(of: tokens)
        }
        let single = try nats(.single)
        #expect(abs(single - expected) < 1e-5 * expected, "single \(single) against the evaluator's \(expected)")
        let batch = try SamplingBatch(model: model, vocabulary: vocabulary, capacity: 1)
        try batch.add(id: 1, options: SamplingOptions())
        #expect(throws: RNNCoreError.self) { try batch.natsPerCharacter(of: tokens) }
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

    /// A lone int8 sample split by units (two and four segments, on two threads and on one)
    /// draws the text it draws unsplit: each segment's bytes give the whole row's sums. A 2x128
    /// LSTM, every matrix reduced (64 Ki weights), each kept in L2 where a split needs it.
    @Test func anInt8SampleSplitByUnitsIsTheSampleUnsplit() throws {
        let model = try SamplingBatchTests.model(.lstm, layers: 2, hidden: 128, vocabulary: 256)
        guard Kernels.table.pointee.vecmat_packs(128, 512) != 0 else {
            // An L2 below 2 MiB streams these products, and no step splits them by units.
            return
        }
        let options = SamplingOptions(temperature: 1.1, seed: 17, prime: "ab", length: 150)
        func draw(_ batch: SamplingBatch) throws -> String? {
            try batch.add(id: 0, options: options)
            return UnitSplitTests().drain(batch)[0]?.0
        }
        let unsplit = try SamplingBatch(model: model, vocabulary: .bytes, capacity: 1, precision: .int8)
        unsplit.splitsUnits = false
        let expected = try draw(unsplit)
        #expect(expected?.unicodeScalars.count == 150)
        for threads in [2, 1] {
            try KernelThreads.with(threads) {
                for segments in [2, 4] {
                    let batch = try SamplingBatch(model: model, vocabulary: .bytes, capacity: 1, precision: .int8)
                    let split = model.parameters.withUnsafeBufferPointer {
                        UnitSplit.make(
                            model.configuration, layout: batch.state.layout, parameters: $0.baseAddress!,
                            rowBias: batch.state.rowBias, weights: batch.state.weights, threads: segments,
                            cores: segments, minimumUnits: 8, minimumParameters: 0)
                    }
                    let made = try #require(split)
                    #expect(made.hiddenBytes.allSatisfy { $0 != nil } && made.inputBytes[1] != nil)
                    // Nothing copied as floats: a one-hot layer is gathered from the model's own
                    // weights (a large vocabulary would make a copy hundreds of MiB).
                    #expect(
                        made.inputWeights.allSatisfy { $0.count == 0 }
                            && made.hiddenWeights.allSatisfy { $0.count == 0 })
                    batch.state.unitSplit = made
                    batch.state.unitSplitDecided = true
                    #expect(try draw(batch) == expected, "threads \(threads) segments \(segments)")
                }
            }
        }
    }

    @Test func anInt8SampleIsTheSameAloneAndInABatch() throws {
        let models = try Self.models() + [SamplingBatchTests.model(.lstm, layers: 2, hidden: 128, vocabulary: 256)]
        for model in models {
            Self.expectReduced(model, .int8)
            for threads in [2, 1] {
                try KernelThreads.with(threads) {
                    // On two threads a lone row splits its units: every product is read as bytes
                    // (even the 1x512's, which floats would split by columns).
                    let lone = try SamplingBatch(model: model, vocabulary: .bytes, capacity: 1, precision: .int8)
                    let split = model.parameters.withUnsafeBufferPointer {
                        lone.state.unitSplit(parameters: $0.baseAddress!)
                    }
                    #expect((split != nil) == (threads == 2 && rk_cores() > 1), "\(model.configuration.hiddenSize)")
                    try SamplingBatchTests().check(
                        model, .bytes, capacity: 20, lateJoin: 1, precision: .int8, aloneInBatch: true)
                }
            }
        }
    }
}
