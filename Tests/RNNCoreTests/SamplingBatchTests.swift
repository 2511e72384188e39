import RNNKernels
import Testing

@testable import RNNCore

/// Batched sampling computes, for every row, exactly what one row alone computes: first the
/// products (bit for bit, on every shape and path), then whole samples (the same text and
/// stop reason as ``Sampler`` alone, whatever else is in the batch and whenever it joined).
@Suite struct SamplingBatchTests {
    /// Shapes that hit every tail (n % W, n % 4W), both paths of `vecmat` (columns while B
    /// fits an eighth of L2, rows beyond) and the two-thread column split (a million weights).
    static let shapes: [(k: Int, n: Int)] = [
        (1, 1), (5, 7), (17, 33), (24, 96), (37, 111), (128, 512), (100, 65), (160, 640), (301, 450),
        (512, 2048),
    ]

    @Test func everyRowOfAManyRowProductIsTheOneRowProduct() {
        for (k, n) in Self.shapes {
            for m in [1, 2, 3, 7, 16] {
                let x = VectorProductsTests.values(m * k, seed: 11)
                let b = VectorProductsTests.values(k * n, seed: 12)
                let start = VectorProductsTests.values(m * n, seed: 13)
                var many = start
                x.withUnsafeBufferPointer { xp in
                    b.withUnsafeBufferPointer { bp in
                        many.withUnsafeMutableBufferPointer { yp in
                            VectorProducts.vectorMatrixRows(
                                m: m, k: k, n: n, x: xp.baseAddress!, ldx: k, b: bp.baseAddress!,
                                y: yp.baseAddress!, ldy: n, splitColumns: true)
                        }
                    }
                }
                // Weights laid out ahead give the same bits, on either path.
                let kernels = Kernels.table.pointee
                var packedMany = start
                var packed = [Float](repeating: 0, count: k * n)
                kernels.vecmat_pack(k, n, b, n, &packed)
                kernels.vecmat_many_packed(m, k, n, 1, x, k, packed, 1, &packedMany, n)
                #expect(packedMany.map(\.bitPattern) == many.map(\.bitPattern), "packed k \(k) n \(n) m \(m)")
                for r in 0..<m {
                    var alone = Array(start[(r * n)..<((r + 1) * n)])
                    let row = Array(x[(r * k)..<((r + 1) * k)])
                    BLAS.gemm(m: 1, n: n, k: k, row, b, beta: 1, &alone)
                    let batched = Array(many[(r * n)..<((r + 1) * n)])
                    if batched.map(\.bitPattern) != alone.map(\.bitPattern) {
                        let j = batched.indices.first { batched[$0].bitPattern != alone[$0].bitPattern }!
                        Issue.record("k \(k) n \(n) m \(m) row \(r): \(batched[j]) vs alone \(alone[j]) at \(j)")
                        return
                    }
                }
            }
        }
    }

    @Test func everyRowOfAManyVectorDecoderIsTheOneVectorDecoder() {
        // The decoder's shape: n outputs (the vocabulary) of k inputs (the hidden size).
        let kernels = Kernels.table.pointee
        for (k, n) in Self.shapes {
            for m in [1, 3, 4, 5, 9, 16] {
                let b = VectorProductsTests.values(n * k, seed: 21)
                let x = VectorProductsTests.values(m * k, seed: 22)
                let start = VectorProductsTests.values(m * n, seed: 23)
                var many = start
                kernels.matvec_many(m, n, k, 1, b, k, x, k, 1, &many, n)
                for r in 0..<m {
                    var alone = Array(start[(r * n)..<((r + 1) * n)])
                    let row = Array(x[(r * k)..<((r + 1) * k)])
                    kernels.matvec(n, k, 1, b, k, row, 1, &alone)
                    let differs = (0..<n).first { many[r * n + $0].bitPattern != alone[$0].bitPattern }
                    #expect(differs == nil, "k \(k) n \(n) m \(m) row \(r): first differing output \(differs ?? -1)")
                }
            }
        }
    }

    static let text = String(repeating: "abcabcabd 你好🙂\n", count: 30)
    static let characters = Vocabulary(charactersOf: text)

    /// Sixteen different requests: seeds, temperatures, top-k/p, greedy, stop strings, primes
    /// (one with a character the vocabulary lacks), and lengths from 0 to 90.
    static let requests: [SamplingOptions] = (0..<16).map { i in
        var o = SamplingOptions(
            temperature: [1, 0.6, 1.4, 2][i % 4], seed: UInt64(1000 + i), length: [40, 90, 1, 0, 65, 17][i % 6])
        if i % 5 == 1 { o.topK = 3 }
        if i % 7 == 2 { o.topP = 0.8 }
        if i == 9 { o.argmax = true }
        if i % 3 == 0 { o.prime = String("abcabcabd 你好🙂\nxyz".prefix(i + 1)) }
        if i % 4 == 2 { o.stop = ["d ", "🙂\na"] }
        return o
    }

    func alone(_ model: CharRNN, _ vocabulary: Vocabulary, _ options: SamplingOptions) throws -> (
        String, StopReason?, UInt64
    ) {
        let sampler = try Sampler(model: model, vocabulary: vocabulary, options: options)
        var out = String.UnicodeScalarView()
        while let s = sampler.next() { out.append(s) }
        return (String(out), sampler.stopReason, sampler.fingerprint)
    }

    /// A request alone in a batch of its own, reading the weights in `precision`.
    func aloneInBatch(
        _ model: CharRNN, _ vocabulary: Vocabulary, _ options: SamplingOptions, _ precision: SamplingPrecision
    )
        throws -> (String, StopReason?, UInt64)
    {
        let batch = try SamplingBatch(model: model, vocabulary: vocabulary, capacity: 1, precision: precision)
        try batch.add(id: 0, options: options)
        var text = String.UnicodeScalarView()
        var ending: (StopReason?, UInt64) = (nil, 0)
        while !batch.isEmpty {
            batch.step { progress in
                text.append(contentsOf: progress.text)
                if let reason = progress.stopReason { ending = (reason, progress.fingerprint) }
            }
        }
        return (String(text), ending.0, ending.1)
    }

    /// Runs `requests` through one batch reading the weights in `precision`, the second half
    /// joining after `lateJoin` steps and request 5 dropped at step 3, and checks every other
    /// one against ``Sampler`` alone on `reference` (by default the model itself), or with
    /// `aloneInBatch` against a batch of its own in the same precision.
    func check(
        _ model: CharRNN, _ vocabulary: Vocabulary, capacity: Int = 16, lateJoin: Int = 4,
        precision: SamplingPrecision = .single, reference: CharRNN? = nil, aloneInBatch: Bool = false
    ) throws {
        let batch = try SamplingBatch(model: model, vocabulary: vocabulary, capacity: capacity, precision: precision)
        var texts = [String.UnicodeScalarView](repeating: .init(), count: Self.requests.count)
        var reasons = [StopReason?](repeating: nil, count: Self.requests.count)
        var fingerprints = [UInt64](repeating: 0, count: Self.requests.count)
        var ended = Set<Int>()
        // Even requests stream (reported as they release text), odd ones are reported once,
        // at their end, with all of it.
        for i in 0..<8 { try batch.add(id: i, options: Self.requests[i], streams: i % 2 == 0) }
        var steps = 0
        var parked: SamplingBatch.Suspended?
        var released = 0
        var dropped = 0
        while !batch.isEmpty || steps <= 10 {
            if steps == lateJoin {
                for i in 8..<16 { try batch.add(id: i, options: Self.requests[i], streams: i % 2 == 0) }
            }
            if steps == 3 { dropped = batch.remove(id: 5).count }
            // Request 4 sits out steps 6 to 9 (a slow reader), then goes on where it stopped.
            if steps == 6 { parked = batch.suspend(id: 4) }
            if steps == 10, let sample = parked { try batch.resume(sample) }
            released += batch.step { progress in
                texts[progress.id].append(contentsOf: progress.text)
                #expect(
                    progress.id % 2 == 0 || progress.stopReason != nil,
                    "request \(progress.id) does not stream but was reported before its end")
                if let reason = progress.stopReason {
                    reasons[progress.id] = reason
                    fingerprints[progress.id] = progress.fingerprint
                    #expect(ended.insert(progress.id).inserted, "request \(progress.id) ended twice")
                }
            }
            steps += 1
            #expect(steps < 10_000)
        }
        // Every character released is counted once, reported or not (request 5's were
        // handed back when it was dropped).
        #expect(released == texts.reduce(0) { $0 + $1.count } + dropped)
        for (i, options) in Self.requests.enumerated() where i != 5 {
            let (text, reason, fingerprint) =
                try aloneInBatch
                ? self.aloneInBatch(model, vocabulary, options, precision)
                : alone(reference ?? model, vocabulary, options)
            #expect(String(texts[i]) == text, "request \(i): batched \(String(texts[i]).debugDescription)")
            #expect(reasons[i] == reason, "request \(i)")
            // The same bits in every logit drawn from, not only the same text.
            #expect(fingerprints[i] == fingerprint, "request \(i): the logits differ")
        }
        #expect(!ended.contains(5))
    }

    static func model(_ architecture: CellArchitecture, layers: Int, hidden: Int, embedding: Int = 0, vocabulary: Int)
        throws -> CharRNN
    {
        let configuration = ModelConfiguration(
            architecture: architecture, layers: layers, hiddenSize: hidden, vocabularySize: vocabulary,
            embeddingSize: embedding)
        var model = try CharRNN(configuration: configuration, seed: 21)
        // Larger weights than the initialization's, so that the distributions are far from
        // uniform and every step's arithmetic shows in the text.
        for i in model.parameters.indices { model.parameters[i] *= 6 }
        return model
    }

    @Test(arguments: [
        (CellArchitecture.lstm, 2, 24, 0), (.gru, 1, 37, 0), (.rnnTanh, 2, 19, 7), (.rnnReLU, 1, 33, 0),
        (.lstm, 1, 160, 5),
    ])
    func aSampleIsTheSameAloneAndInABatch(shape: (CellArchitecture, Int, Int, Int)) throws {
        let v = Self.characters
        try check(
            Self.model(shape.0, layers: shape.1, hidden: shape.2, embedding: shape.3, vocabulary: v.count), v)
    }

    @Test func byteModelsAndProductsSplitAcrossThreadsToo() throws {
        // 512 x 2048 recurrent weights: every product is split by columns, as for one row,
        // and a batch of more than two rows reads each part's weights laid out ahead.
        let bytes = Vocabulary.bytes
        let model = try Self.model(.lstm, layers: 1, hidden: 512, vocabulary: bytes.count)
        for threads in [2, 1] {
            try KernelThreads.with(threads) { try check(model, bytes, capacity: 20, lateJoin: 1) }
        }
    }

    @Test func aFullBatchRefusesAndOptionsAreChecked() throws {
        let v = Self.characters
        let batch = try SamplingBatch(
            model: Self.model(.lstm, layers: 1, hidden: 8, vocabulary: v.count), vocabulary: v, capacity: 1)
        #expect(throws: RNNCoreError.self) { try batch.add(id: 0, options: SamplingOptions(temperature: 0)) }
        try batch.add(id: 1, options: SamplingOptions())
        #expect(throws: RNNCoreError.self) { try batch.add(id: 2, options: SamplingOptions()) }
        #expect(batch.count == 1)
    }
}
