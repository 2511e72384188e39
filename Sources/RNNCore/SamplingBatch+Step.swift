import RNNKernels

extension SamplingBatch {
    /// Whether a model's steps split each product's columns across the kernel pool (it has a
    /// product of a million weights or more): its rows are best stepped in one batch, which
    /// reads the weights once per step for all of them and puts both cores on each product.
    public static func splitsProducts(_ configuration: ModelConfiguration) -> Bool {
        let width = configuration.architecture.gateCount * configuration.hiddenSize
        let largestProduct =
            max(width, configuration.vocabularySize) * max(configuration.hiddenSize, configuration.embeddingSize)
        return largestProduct >= VectorProducts.parallelThreshold
    }

    /// Multiply-adds of a step below which its rows stay on one thread.
    static let minimumParallelWork = 1 << 16

    /// Runs every row one step on ``inputs`` and draws each row's next token from its
    /// logits. Rows are independent, so small models split them across the kernel pool (each thread
    /// running its rows through every layer) unless ``splitsRows`` is off; models with products
    /// of a million weights or more split each product's columns instead, as one row alone does.
    /// A lone row splits each layer's units instead (``UnitSplit``) unless ``splitsUnits`` is off.
    func forward() {
        let n = rows.count
        model.parameters.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            inputs.withUnsafeBufferPointer { tokens in
                let t = tokens.baseAddress!
                if n > 2 { state.packWeights(p) }
                if n == 1, splitsUnits, let split = state.unitSplit(parameters: p) {
                    forwardSplittingUnits(split, parameters: p, token: t[0])
                    draw(rows: 0..<1)
                } else if !splitsRows || state.splitsProducts || n < 2
                    // Splitting rows pays once a step's products reach ~64 Ki multiply-adds.
                    || n * model.parameterCount < Self.minimumParallelWork
                {
                    forward(rows: 0..<n, parameters: p, inputs: t, splitColumns: true)
                    draw(rows: 0..<n)
                } else {
                    Parallel.forEachPart { part, parts in
                        let per = (n + parts - 1) / parts
                        let start = min(n, part * per)
                        let end = min(n, start + per)
                        guard start < end else { return }
                        forward(rows: start..<end, parameters: p, inputs: t, splitColumns: false)
                        draw(rows: start..<end)
                    }
                }
            }
        }
        state.advance()
    }

    /// One step for `rows`, on the calling thread (`splitColumns`: each large product on
    /// the pool, as ``VectorProducts`` splits it for one row).
    private func forward(
        rows: Range<Int>, parameters p: UnsafePointer<Float>, inputs: UnsafePointer<Int32>, splitColumns: Bool
    ) {
        let configuration = model.configuration
        let layout = state.layout
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let (r0, m) = (rows.lowerBound, rows.count)
        let gates = state.gates[r0 * width]
        func product(
            k: Int, _ input: UnsafePointer<Float>, layer l: Int, recurrent: Bool, _ y: UnsafeMutablePointer<Float>
        ) {
            let source = state.weights.source(layer: l, recurrent: recurrent, layout: layout, parameters: p)
            if case .int8(let b, let scales) = source {
                VectorProducts.int8Rows(
                    m: m, k: k, n: width, x: input, ldx: k, scales: scales, b: b, y: y, ldy: width,
                    splitColumns: splitColumns)
                return
            }
            let (packed, pieces) = state.laidOut(layer: l, recurrent: recurrent)
            let kernel = Kernels.table.pointee.vecmat_many_packed!
            // One or two rows take the unpacked weights, in tiles wide enough for few rows (and
            // int8 matrices, never packed, always their own kernel).
            if let packed, m > 2 {
                kernel(m, k, width, 1, input, k, packed.base, 1, y, width)
            } else if m > 2, splitColumns, !pieces.isEmpty {
                Parallel.forEachItem(of: pieces.count) { i in
                    let piece = pieces[i]
                    kernel(m, k, piece.width, 1, input, k, piece.weights.base, 1, y + piece.start, width)
                }
            } else {
                let kernels = Kernels.table.pointee
                func rows<Element>(
                    _ b: UnsafePointer<Element>,
                    _ kernel: (
                        Int, Int, Int, Float, UnsafePointer<Float>?, Int, UnsafePointer<Element>?, Int, Float,
                        UnsafeMutablePointer<Float>?, Int
                    ) -> Void
                ) {
                    VectorProducts.vectorMatrixRows(
                        m: m, k: k, n: width, x: input, ldx: k, reduced: b, kernel: kernel, y: y, ldy: width,
                        splitColumns: splitColumns)
                }
                switch source {
                case .half(let b) where kernels.vecmat_many_half != nil: rows(b, kernels.vecmat_many_half!)
                case .single(let b): rows(b, kernels.vecmat_many!)
                case .half:
                    // Kernels switched to a path without the half kernel after the batch was
                    // made: the same values, widened for every step.
                    state.weights.withFloats(layer: l, recurrent: recurrent, layout: layout, parameters: p) { b in
                        VectorProducts.vectorMatrixRows(
                            m: m, k: k, n: width, x: input, ldx: k, b: b!, y: y, ldy: width, splitColumns: splitColumns)
                    }
                case .int8: preconditionFailure("int8 products returned above")
                }
            }
        }
        for (l, offsets) in layout.layers.enumerated() {
            let bias = state.rowBias[l].base
            if l == 0, layout.embedding == nil {
                for r in rows {
                    let row = state.gates[r * width]
                    let w = p + offsets.inputWeights + Int(inputs[r]) * width
                    for j in 0..<width { row[j] = w[j] + bias[j] }
                }
            } else {
                let input: UnsafePointer<Float>
                if l == 0, let embedding = layout.embedding, let embedded = state.embedded {
                    let e = configuration.embeddingSize
                    for r in rows {
                        embedded[r * e].update(from: p + embedding.offset + Int(inputs[r]) * e, count: e)
                    }
                    input = UnsafePointer(embedded[r0 * e])
                } else {
                    input = UnsafePointer(state.nextHidden[l - 1][r0 * h])
                }
                for r in rows { state.gates[r * width].update(from: bias, count: width) }
                product(k: offsets.inputSize, input, layer: l, recurrent: false, gates)
            }
            let hPrev = UnsafePointer(state.hidden[l][r0 * h])
            let hNext = state.nextHidden[l][r0 * h]
            switch configuration.architecture {
            case .rnnTanh, .rnnReLU:
                product(k: h, hPrev, layer: l, recurrent: true, gates)
                if configuration.architecture == .rnnReLU {
                    for i in 0..<(m * h) { hNext[i] = max(gates[i], 0) }
                } else {
                    VectorMath.tanh(gates, hNext, count: m * h)
                }
            case .lstm:
                product(k: h, hPrev, layer: l, recurrent: true, gates)
                let (cell, nextCell, tanhCell) = (
                    state.cell[l][r0 * h], state.nextCell[l][r0 * h], state.tanhCell[r0 * h]
                )
                func activate(_ part: Range<Int>) {
                    let (start, count) = (part.lowerBound, part.count)
                    Kernels.table.pointee.lstm_forward_quick(
                        count, h, gates + start * width, cell + start * h, nextCell + start * h, tanhCell + start * h,
                        hNext + start * h)
                }
                // Only where the products are split across the pool too: a smaller model's
                // daemon loops run one per core, and a helper woken for their gates would take
                // a core from the other loop.
                if splitColumns, state.splitsProducts, m * h >= Self.minimumSplitCells {
                    Parallel.forEachRange(of: m, minimumRows: 1, activate)
                } else {
                    activate(0..<m)
                }
            case .gru:
                let gh = state.hiddenPart[r0 * width]
                for r in rows { state.hiddenPart[r * width].update(from: p + offsets.hiddenBias, count: width) }
                product(k: h, hPrev, layer: l, recurrent: true, gh)
                Kernels.table.pointee.gru_forward(m, h, gates, gh, hPrev, hNext)
            }
        }
        decode(rows: rows, parameters: p, splitColumns: splitColumns)
    }

    /// Cells of a step below which its gates stay on one thread: a 16-row 2x512 batch's
    /// (8,192 cells, about 35 us a layer) are split by rows across the pool, a handful of
    /// rows are not. Each row's cells are its own, so the split never changes a bit.
    static let minimumSplitCells = 4096

    /// The logits of `rows` from the top layer's new state.
    private func decode(rows: Range<Int>, parameters p: UnsafePointer<Float>, splitColumns: Bool) {
        let configuration = model.configuration
        let layout = state.layout
        let (r0, m) = (rows.lowerBound, rows.count)
        let h = configuration.hiddenSize
        let v = configuration.vocabularySize
        let top = state.nextHidden[configuration.layers - 1]
        for r in rows { state.logits[r * v].update(from: p + layout.decoderBias, count: v) }
        VectorProducts.matrixVectorRows(
            m: m, n: v, k: h, alpha: 1, b: p + layout.decoderWeight, ldb: h, x: top[r0 * h], ldx: h, beta: 1,
            y: state.logits[r0 * v], ldy: v, split: splitColumns)
    }
}
