import RNNKernels

/// The buffers of a ``SamplingBatch``: each layer's state per slot, and one step's scratch.
final class BatchState {
    let configuration: ModelConfiguration
    let layout: ParameterLayout
    let vocabularySize: Int
    /// Per layer, `capacity x H`: the state before the step, and the one the step writes.
    var hidden: [FloatBuffer]
    var nextHidden: [FloatBuffer]
    /// Per layer (LSTM), `capacity x H`.
    var cell: [FloatBuffer]
    var nextCell: [FloatBuffer]
    /// `capacity x G·H`: the gates of the layer being run; GRU's hidden part beside them.
    let gates: FloatBuffer
    let hiddenPart: FloatBuffer
    /// `capacity x H`: LSTM's tanh(c), which sampling does not keep.
    let tanhCell: FloatBuffer
    /// `capacity x E`, when the model has an embedding.
    let embedded: FloatBuffer?
    /// `capacity x V`.
    let logits: FloatBuffer
    /// Per layer, `G·H`: the bias every row's input part starts from (as ``SequenceWorkspace``
    /// forms it: `b_ih`, plus `b_hh` except for GRU).
    let rowBias: [FloatBuffer]
    /// Per layer, its input and recurrent weights laid out for the many-row products (nil
    /// for a one-hot input, and for a model whose products split by columns); empty until
    /// ``packWeights(_:)``.
    var packedInput: [FloatBuffer?] = []
    var packedHidden: [FloatBuffer?] = []
    /// For a model whose products split by columns: per layer, each product's column chunks
    /// (as ``VectorProducts`` splits them across the pool) laid out likewise.
    var inputParts: [[PackedColumns]] = []
    var hiddenParts: [[PackedColumns]] = []
    /// Whether the model has a product of a million weights or more, which is split by
    /// columns across the kernel pool (as one row alone splits it) rather than by rows.
    let splitsProducts: Bool
    /// A lone row's step split by units across the kernel pool, for the models that gain
    /// from one: made at the first lone step (a batch that never has one row alone never
    /// copies its weights for it), once ``unitSplitDecided``.
    var unitSplit: UnitSplit?
    var unitSplitDecided = false

    init(_ configuration: ModelConfiguration, capacity: Int) {
        self.configuration = configuration
        layout = ParameterLayout(configuration)
        vocabularySize = configuration.vocabularySize
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let layers = configuration.layers
        let isLSTM = configuration.architecture == .lstm
        hidden = (0..<layers).map { _ in FloatBuffer(capacity * h) }
        nextHidden = (0..<layers).map { _ in FloatBuffer(capacity * h) }
        cell = isLSTM ? (0..<layers).map { _ in FloatBuffer(capacity * h) } : []
        nextCell = isLSTM ? (0..<layers).map { _ in FloatBuffer(capacity * h) } : []
        gates = FloatBuffer(capacity * width)
        hiddenPart = FloatBuffer(configuration.architecture == .gru ? capacity * width : 0)
        tanhCell = FloatBuffer(isLSTM ? capacity * h : 0)
        embedded = configuration.embeddingSize > 0 ? FloatBuffer(capacity * configuration.embeddingSize) : nil
        logits = FloatBuffer(capacity * configuration.vocabularySize)
        rowBias = (0..<layers).map { _ in FloatBuffer(width) }
        splitsProducts = SamplingBatch.splitsProducts(configuration)
    }

    /// Fills ``rowBias`` from the parameters (which a batch never changes).
    func prepare(_ p: UnsafePointer<Float>) {
        let width = configuration.architecture.gateCount * configuration.hiddenSize
        for (l, offsets) in layout.layers.enumerated() {
            let bias = rowBias[l].base
            bias.update(from: p + offsets.inputBias, count: width)
            if configuration.architecture != .gru {
                for j in 0..<width { bias[j] += p[offsets.hiddenBias + j] }
            }
        }
    }

    /// Lays the weights out for the many-row products, at the first step of more than two
    /// rows (a batch that never has three keeps no copy): whole matrices, or for a model
    /// whose products split by columns, each column chunk as ``VectorProducts`` splits it.
    /// Any chunks of ``VectorProducts/columnChunks(k:n:threads:)`` give every element the
    /// same arithmetic, so chunks made for this thread count serve a step on any other.
    func packWeights(_ p: UnsafePointer<Float>) {
        guard packedInput.isEmpty else { return }
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let kernels = Kernels.table.pointee
        let threads = BLAS.threadCount
        func packed(_ weights: UnsafePointer<Float>, rows: Int) -> FloatBuffer? {
            guard !splitsProducts else { return nil }
            let buffer = FloatBuffer(rows * width)
            kernels.vecmat_pack(rows, width, weights, width, buffer.base)
            return buffer
        }
        func parts(_ weights: UnsafePointer<Float>, rows: Int) -> [PackedColumns] {
            guard splitsProducts else { return [] }
            return VectorProducts.columnChunks(k: rows, n: width, threads: threads).map { chunk in
                let buffer = FloatBuffer(rows * chunk.width)
                kernels.vecmat_pack(rows, chunk.width, weights + chunk.start, width, buffer.base)
                return PackedColumns(start: chunk.start, width: chunk.width, weights: buffer)
            }
        }
        for (l, offsets) in layout.layers.enumerated() {
            let oneHot = l == 0 && layout.embedding == nil
            packedInput.append(oneHot ? nil : packed(p + offsets.inputWeights, rows: offsets.inputSize))
            packedHidden.append(packed(p + offsets.hiddenWeights, rows: h))
            inputParts.append(oneHot ? [] : parts(p + offsets.inputWeights, rows: offsets.inputSize))
            hiddenParts.append(parts(p + offsets.hiddenWeights, rows: h))
        }
    }

    /// Zeroes the state of `slot` (a sample starting).
    func zero(slot: Int) {
        let h = configuration.hiddenSize
        for buffer in hidden + cell { buffer[slot * h].update(repeating: 0, count: h) }
    }

    /// The state of `slot`, every layer's hidden (and cell) values in turn.
    func copy(slot: Int) -> [Float] {
        let h = configuration.hiddenSize
        return (hidden + cell).flatMap { UnsafeBufferPointer(start: $0[slot * h], count: h) }
    }

    /// Puts back a state that ``copy(slot:)`` took.
    func restore(_ values: [Float], slot: Int) {
        let h = configuration.hiddenSize
        for (i, buffer) in (hidden + cell).enumerated() {
            values.withUnsafeBufferPointer { buffer[slot * h].update(from: $0.baseAddress! + i * h, count: h) }
        }
    }

    /// The lone row's unit split (see ``unitSplit``), made now if not yet decided.
    func unitSplit(parameters p: UnsafePointer<Float>) -> UnitSplit? {
        if !unitSplitDecided {
            unitSplit = UnitSplit.make(
                configuration, layout: layout, parameters: p, rowBias: rowBias, threads: BLAS.threadCount)
            unitSplitDecided = true
        }
        return unitSplit
    }

    /// Moves the state and logits of slot `from` into slot `to`.
    func move(slot from: Int, to: Int) {
        let h = configuration.hiddenSize
        for buffer in hidden + cell { buffer[to * h].update(from: buffer[from * h], count: h) }
        logits[to * vocabularySize].update(from: logits[from * vocabularySize], count: vocabularySize)
    }

    /// Makes the state the step wrote the state before the next.
    func advance() {
        swap(&hidden, &nextHidden)
        swap(&cell, &nextCell)
    }
}

/// Columns `start..<start+width` of a product's weights, laid out by `vecmat_pack`.
struct PackedColumns {
    let start: Int
    let width: Int
    let weights: FloatBuffer
}

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
                    decode(rows: 0..<1, parameters: p, splitColumns: true)
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
            k: Int, _ x: UnsafePointer<Float>, _ b: UnsafePointer<Float>, packed: FloatBuffer?,
            parts pieces: [PackedColumns], _ y: UnsafeMutablePointer<Float>
        ) {
            let kernel = Kernels.table.pointee.vecmat_many_packed!
            // One or two rows take the unpacked weights, in tiles wide enough for few rows.
            if let packed, m > 2 {
                kernel(m, k, width, 1, x, k, packed.base, 1, y, width)
            } else if m > 2, splitColumns, !pieces.isEmpty {
                Parallel.forEachPart { part, parts in
                    for (i, piece) in pieces.enumerated() where i % parts == part {
                        kernel(m, k, piece.width, 1, x, k, piece.weights.base, 1, y + piece.start, width)
                    }
                }
            } else {
                VectorProducts.vectorMatrixRows(
                    m: m, k: k, n: width, x: x, ldx: k, b: b, y: y, ldy: width, splitColumns: splitColumns)
            }
        }
        // Laid out at the first step of more than two rows; until then the plain weights.
        let packed = !state.packedInput.isEmpty
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
                product(
                    k: offsets.inputSize, input, p + offsets.inputWeights, packed: packed ? state.packedInput[l] : nil,
                    parts: packed ? state.inputParts[l] : [], gates)
            }
            let hPrev = UnsafePointer(state.hidden[l][r0 * h])
            let hNext = state.nextHidden[l][r0 * h]
            switch configuration.architecture {
            case .rnnTanh, .rnnReLU:
                product(
                    k: h, hPrev, p + offsets.hiddenWeights, packed: packed ? state.packedHidden[l] : nil,
                    parts: packed ? state.hiddenParts[l] : [], gates)
                if configuration.architecture == .rnnReLU {
                    for i in 0..<(m * h) { hNext[i] = max(gates[i], 0) }
                } else {
                    VectorMath.tanh(gates, hNext, count: m * h)
                }
            case .lstm:
                product(
                    k: h, hPrev, p + offsets.hiddenWeights, packed: packed ? state.packedHidden[l] : nil,
                    parts: packed ? state.hiddenParts[l] : [], gates)
                Kernels.table.pointee.lstm_forward(
                    m, h, gates, state.cell[l][r0 * h], state.nextCell[l][r0 * h], state.tanhCell[r0 * h], hNext)
            case .gru:
                let gh = state.hiddenPart[r0 * width]
                for r in rows { state.hiddenPart[r * width].update(from: p + offsets.hiddenBias, count: width) }
                product(
                    k: h, hPrev, p + offsets.hiddenWeights, packed: packed ? state.packedHidden[l] : nil,
                    parts: packed ? state.hiddenParts[l] : [], gh)
                Kernels.table.pointee.gru_forward(m, h, gates, gh, hPrev, hNext)
            }
        }
        decode(rows: rows, parameters: p, splitColumns: splitColumns)
    }

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
