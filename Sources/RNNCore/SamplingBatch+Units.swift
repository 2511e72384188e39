import RNNKernels

/// A lone sample's step spread over the kernel pool: each layer's hidden units are cut into
/// ``segments`` equal segments that the pool's threads compute side by side, meeting once per
/// layer (the next layer reads all of this one's state). One row alone otherwise runs on one
/// core while the others idle, and its products, which read every weight once per
/// character, are bound by how fast one core's caches deliver the weights.
///
/// Each segment's gate columns (its units of every gate) are regrouped to be adjacent in a
/// copy of the weights, so that one product per segment and layer covers them and the cell
/// kernel runs on them as on a layer of ``units`` units. Every element meets the operations
/// the whole-row step gives it, in the same order: the same text, bit for bit.
final class UnitSplit {
    /// Segments per layer, and hidden units per segment.
    let segments: Int
    let units: Int
    /// Per layer, the weights `W_ihᵀ` and `W_hhᵀ` with columns regrouped and each segment's
    /// blocks of up to ``blockColumns`` columns stored whole, one after the other (a product
    /// then streams contiguous weights; the rows of a whole matrix, 4·G·H bytes apart, left
    /// every load of a lone row waiting on L2); a one-hot first layer's `W_ihᵀ`, whose one
    /// row per step is gathered, only regrouped. The row bias (as ``BatchState/rowBias``)
    /// and, for GRU, `b_hh`, regrouped alike.
    let inputWeights: [FloatBuffer]
    let hiddenWeights: [FloatBuffer]
    let rowBias: [FloatBuffer]
    let hiddenBias: [FloatBuffer]
    /// One row's gates (and GRU's hidden part), regrouped.
    let gates: FloatBuffer
    let hiddenPart: FloatBuffer
    let barrier = PartBarrier()

    /// A split for `configuration` over at most `threads` threads (never more than the
    /// `cores`), or nil when the model does not gain from one or would not give the same bits:
    /// a step too short to share (below `minimumParameters`), no count of segments from
    /// `threads` down to 2 that divides the hidden units into at least `minimumUnits` each, a
    /// model whose products split by columns already (``SamplingBatch/splitsProducts(_:)``),
    /// or a product that its size sends down the kernels' other one-row path.
    static func make(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        rowBias: [FloatBuffer], threads: Int, cores: Int = Int(rk_cores()), minimumUnits: Int = minimumUnits,
        minimumParameters: Int = minimumParameters, blockColumns: Int = 128
    ) -> UnitSplit? {
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let kernels = Kernels.table.pointee
        // The products a split step runs: a one-hot first layer gathers a row instead.
        let products = layout.layers.enumerated().flatMap { l, offsets in
            l == 0 && layout.embedding == nil ? [h] : [offsets.inputSize, h]
        }
        let most = min(threads, cores)
        guard most > 1, layout.count >= minimumParameters, !SamplingBatch.splitsProducts(configuration),
            products.allSatisfy({ kernels.vecmat_packs($0, width) != 0 }),
            let segments = stride(from: most, through: 2, by: -1).first(where: {
                h % $0 == 0 && h / $0 >= minimumUnits
            })
        else { return nil }
        return UnitSplit(
            configuration, layout: layout, parameters: p, rowBias: rowBias, segments: segments,
            blockColumns: blockColumns)
    }

    /// Columns of a block of stored weights: by default a lone row's widest register tile
    /// (eight vectors of 16 lanes).
    let blockColumns: Int

    /// `y += x·W` for segment `s`'s columns of `weights` (laid out by the initializer's
    /// blocks), `x` of length `k`: each block with the one-row kernel, the same arithmetic
    /// per element as over the whole row.
    func product(
        _ weights: FloatBuffer, segment s: Int, k: Int, columns: Int, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>
    ) {
        let vecmat = Kernels.table.pointee.vecmat!
        let base = weights[s * k * columns]
        for c in stride(from: 0, to: columns, by: blockColumns) {
            let block = min(blockColumns, columns - c)
            vecmat(k, block, 1, x, base + k * c, block, 1, y + c)
        }
    }

    /// Units a segment needs for its share to outweigh the threads' meeting.
    static let minimumUnits = 32
    /// Parameters below which a step is too short to share (the seed's 1x100 RNN has 23 Ki).
    static let minimumParameters = 1 << 17

    private init(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        rowBias: [FloatBuffer], segments: Int, blockColumns: Int
    ) {
        let h = configuration.hiddenSize
        let gateCount = configuration.architecture.gateCount
        let width = gateCount * h
        self.segments = segments
        self.blockColumns = blockColumns
        units = h / segments
        // Regrouped column s·(G·u) + g·u + i holds column g·H + s·u + i (gate g, unit s·u + i).
        let units = units
        let columns = gateCount * units
        let source = (0..<width).map { c -> Int in
            let (segment, gate, unit) = (c / columns, c % columns / units, c % units)
            return gate * h + segment * units + unit
        }
        func regroup(_ weights: UnsafePointer<Float>, rows: Int) -> FloatBuffer {
            let buffer = FloatBuffer(rows * width)
            for r in 0..<rows {
                for c in 0..<width { buffer[r * width + c].pointee = weights[r * width + source[c]] }
            }
            return buffer
        }
        // Segment s's block at column c (within the segment) holds rows x min(B, G·u − c).
        func blocked(_ weights: UnsafePointer<Float>, rows: Int) -> FloatBuffer {
            let buffer = FloatBuffer(rows * width)
            for segment in 0..<segments {
                let base = segment * rows * columns
                for c in stride(from: 0, to: columns, by: blockColumns) {
                    let block = min(blockColumns, columns - c)
                    for r in 0..<rows {
                        let out = buffer[base + rows * c + r * block]
                        for i in 0..<block { out[i] = weights[r * width + source[segment * columns + c + i]] }
                    }
                }
            }
            return buffer
        }
        inputWeights = layout.layers.enumerated().map { l, offsets in
            let oneHot = l == 0 && layout.embedding == nil
            return oneHot
                ? regroup(p + offsets.inputWeights, rows: offsets.inputSize)
                : blocked(p + offsets.inputWeights, rows: offsets.inputSize)
        }
        hiddenWeights = layout.layers.map { blocked(p + $0.hiddenWeights, rows: h) }
        self.rowBias = rowBias.map { regroup($0.base, rows: 1) }
        hiddenBias = configuration.architecture == .gru ? layout.layers.map { regroup(p + $0.hiddenBias, rows: 1) } : []
        gates = FloatBuffer(width)
        hiddenPart = FloatBuffer(configuration.architecture == .gru ? width : 0)
    }
}

extension SamplingBatch {
    /// Runs the lone row (row 0) through every layer with `split`'s segments spread over the
    /// kernel pool; the decoder and the draw are the caller's.
    func forwardSplittingUnits(_ split: UnitSplit, parameters p: UnsafePointer<Float>, token: Int32) {
        let layers = model.configuration.layers
        Parallel.forEachPart { part, parts in
            for l in 0..<layers {
                for segment in stride(from: part, to: split.segments, by: parts) {
                    forward(segment: segment, layer: l, split, parameters: p, token: token)
                }
                if l < layers - 1 { split.barrier.wait(parts: parts) }
            }
        }
    }

    /// Segment `s` of layer `l`: its gate columns from the bias, the input and the previous
    /// state, then the cell on its units.
    private func forward(
        segment s: Int, layer l: Int, _ split: UnitSplit, parameters p: UnsafePointer<Float>, token: Int32
    ) {
        let configuration = model.configuration
        let layout = state.layout
        let h = configuration.hiddenSize
        let u = split.units
        let width = configuration.architecture.gateCount * h
        let columns = configuration.architecture.gateCount * u
        let start = s * columns
        let gates = split.gates[start]
        let bias = split.rowBias[l][start]
        if l == 0, layout.embedding == nil {
            let w = split.inputWeights[0][Int(token) * width + start]
            for j in 0..<columns { gates[j] = w[j] + bias[j] }
        } else {
            let input: UnsafePointer<Float>
            if l == 0, let embedding = layout.embedding {
                input = p + embedding.offset + Int(token) * configuration.embeddingSize
            } else {
                input = UnsafePointer(state.nextHidden[l - 1].base)
            }
            let k = layout.layers[l].inputSize
            gates.update(from: bias, count: columns)
            split.product(split.inputWeights[l], segment: s, k: k, columns: columns, input, gates)
        }
        let hPrev = UnsafePointer(state.hidden[l].base)
        let hNext = state.nextHidden[l][s * u]
        let recurrent = split.hiddenWeights[l]
        switch configuration.architecture {
        case .rnnTanh, .rnnReLU:
            split.product(recurrent, segment: s, k: h, columns: columns, hPrev, gates)
            if configuration.architecture == .rnnReLU {
                for i in 0..<u { hNext[i] = max(gates[i], 0) }
            } else {
                VectorMath.tanh(gates, hNext, count: u)
            }
        case .lstm:
            split.product(recurrent, segment: s, k: h, columns: columns, hPrev, gates)
            Kernels.table.pointee.lstm_forward(
                1, u, gates, state.cell[l][s * u], state.nextCell[l][s * u], state.tanhCell[s * u], hNext)
        case .gru:
            let gh = split.hiddenPart[start]
            gh.update(from: split.hiddenBias[l][start], count: columns)
            split.product(recurrent, segment: s, k: h, columns: columns, hPrev, gh)
            Kernels.table.pointee.gru_forward(1, u, gates, gh, hPrev + s * u, hNext)
        }
    }
}
