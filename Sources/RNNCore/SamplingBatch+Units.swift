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
    /// every load of a lone row waiting on L2); none for a one-hot first layer, whose one row
    /// per step is gathered from the model's own weights through ``sourceColumns``. The row
    /// bias (as ``BatchState/rowBias``) and, for GRU, `b_hh`, regrouped.
    let inputWeights: [FloatBuffer]
    let hiddenWeights: [FloatBuffer]
    /// Per layer, where the batch reads a matrix as bytes (``SamplingPrecision/int8``), the
    /// same bytes for each segment's regrouped columns, which the products read instead.
    let inputBytes: [SegmentBytes?]
    let hiddenBytes: [SegmentBytes?]
    let rowBias: [FloatBuffer]
    let hiddenBias: [FloatBuffer]
    /// One row's gates (and GRU's hidden part), regrouped.
    let gates: FloatBuffer
    let hiddenPart: FloatBuffer
    let barrier = PartBarrier()
    /// One step's addresses per layer, filled by the calling thread before the parts run.
    let steps: UnsafeMutableBufferPointer<LayerStep>
    /// Per regrouped column, the model's column it holds (a vocabulary of thousands would
    /// make a regrouped copy of a one-hot layer's weights hundreds of MiB).
    let sourceColumns: UnsafeMutableBufferPointer<Int32>

    deinit {
        steps.deallocate()
        sourceColumns.deallocate()
    }

    /// A split for `configuration` over at most `threads` threads (never more than the
    /// `cores`), or nil when the model does not gain from one or would not give the same bits:
    /// a step too short to share (below `minimumParameters`), no count of segments from
    /// `threads` down to 2 that divides the hidden units into at least `minimumUnits` each, or
    /// (unless every product is read as bytes) a model whose products split by columns already
    /// (``SamplingBatch/splitsProducts(_:)``) or a product that its size sends down the
    /// kernels' other one-row path. `weights` are the batch's (its int8 matrices are
    /// multiplied as bytes here too).
    static func make(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        rowBias: [FloatBuffer], weights: SamplingWeights? = nil, threads: Int, cores: Int = Int(rk_cores()),
        minimumUnits: Int = minimumUnits, minimumParameters: Int = minimumParameters, blockColumns: Int = 128
    ) -> UnitSplit? {
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let kernels = Kernels.table.pointee
        // The products a split step runs: a one-hot first layer gathers a row instead.
        let products = layout.layers.enumerated().flatMap { l, offsets in
            l == 0 && layout.embedding == nil ? [h] : [offsets.inputSize, h]
        }
        // Products read as bytes (int8) take no float path, and gain from a split at any size:
        // the cell's work is shared too, and the threads meet once per layer, not per product.
        let allBytes =
            weights.map { weights in
                layout.layers.indices.allSatisfy { l in
                    (l == 0 && layout.embedding == nil || weights.input[l]?.scales != nil)
                        && weights.hidden[l]?.scales != nil
                }
            } ?? false
        let most = min(threads, cores)
        guard most > 1, layout.count >= minimumParameters,
            allBytes
                || (!SamplingBatch.splitsProducts(configuration)
                    && products.allSatisfy({ kernels.vecmat_packs($0, width) != 0 })),
            let segments = stride(from: most, through: 2, by: -1).first(where: {
                h % $0 == 0 && h / $0 >= minimumUnits
            })
        else { return nil }
        // Half floats go only to products past an eighth of L2, which a split never runs.
        if let weights, (weights.input + weights.hidden).contains(where: { $0 != nil && $0!.scales == nil }) {
            return nil
        }
        return UnitSplit(
            configuration, layout: layout, parameters: p, rowBias: rowBias, weights: weights, segments: segments,
            blockColumns: blockColumns)
    }

    /// Columns of a block of stored weights: by default a lone row's widest register tile
    /// (eight vectors of 16 lanes).
    let blockColumns: Int

    /// Units a segment needs for its share to outweigh the threads' meeting.
    static let minimumUnits = 32
    /// Parameters below which a step is too short to share (the seed's 1x100 RNN has 23 Ki).
    static let minimumParameters = 1 << 17

    private init(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        rowBias: [FloatBuffer], weights: SamplingWeights?, segments: Int, blockColumns: Int
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
        func bytes(_ l: Int, recurrent: Bool) -> SegmentBytes? {
            guard let matrix = weights?.reduced(layer: l, recurrent: recurrent) else { return nil }
            return SegmentBytes(matrix, segments: segments, columns: columns, source: source)
        }
        let inputBytes = layout.layers.indices.map { bytes($0, recurrent: false) }
        let hiddenBytes = layout.layers.indices.map { bytes($0, recurrent: true) }
        self.inputBytes = inputBytes
        self.hiddenBytes = hiddenBytes
        // A matrix read as bytes needs no floats.
        inputWeights = layout.layers.enumerated().map { l, offsets in
            let oneHot = l == 0 && layout.embedding == nil
            if inputBytes[l] != nil || oneHot { return FloatBuffer(0) }
            return blocked(p + offsets.inputWeights, rows: offsets.inputSize)
        }
        hiddenWeights = layout.layers.enumerated().map { l, offsets in
            hiddenBytes[l] != nil ? FloatBuffer(0) : blocked(p + offsets.hiddenWeights, rows: h)
        }
        self.rowBias = rowBias.map { regroup($0.base, rows: 1) }
        hiddenBias = configuration.architecture == .gru ? layout.layers.map { regroup(p + $0.hiddenBias, rows: 1) } : []
        gates = FloatBuffer(width)
        hiddenPart = FloatBuffer(configuration.architecture == .gru ? width : 0)
        // Plain addresses, written whole before each use.
        steps = .allocate(capacity: configuration.layers)
        sourceColumns = .allocate(capacity: width)
        _ = sourceColumns.initialize(from: source.map { Int32($0) })
    }
}

extension SamplingBatch {
    /// Runs the lone row (row 0) through every layer and the decoder with `split`'s segments
    /// spread over the kernel pool (each part then computes a share of the logits, rows of
    /// the decoder in multiples of eight, each logit with its whole-row arithmetic); the draw
    /// is the caller's.
    func forwardSplittingUnits(_ split: UnitSplit, parameters p: UnsafePointer<Float>, token: Int32) {
        let configuration = model.configuration
        let layout = state.layout
        // Every address a part needs, gathered here once: the parts then touch no reference
        // count, which both threads would otherwise bounce between their caches dozens of
        // times a character.
        let steps = split.steps
        for l in 0..<configuration.layers {
            let input: UnsafePointer<Float>?
            if l == 0, layout.embedding == nil {
                input = nil
            } else if l == 0, let embedding = layout.embedding {
                input = p + embedding.offset + Int(token) * configuration.embeddingSize
            } else {
                input = UnsafePointer(state.nextHidden[l - 1].base)
            }
            (steps.baseAddress! + l).initialize(
                to: UnitSplit.LayerStep(
                    inputWeights: input == nil
                        ? p + layout.layers[l].inputWeights : UnsafePointer(split.inputWeights[l].base),
                    hiddenWeights: UnsafePointer(split.hiddenWeights[l].base),
                    inputBytes: split.inputBytes[l]?.step, hiddenBytes: split.hiddenBytes[l]?.step,
                    rowBias: UnsafePointer(split.rowBias[l].base),
                    hiddenBias: split.hiddenBias.isEmpty ? nil : UnsafePointer(split.hiddenBias[l].base),
                    input: input, inputSize: layout.layers[l].inputSize, hPrev: UnsafePointer(state.hidden[l].base),
                    hNext: state.nextHidden[l].base, cPrev: state.cell.isEmpty ? nil : state.cell[l].base,
                    cNext: state.nextCell.isEmpty ? nil : state.nextCell[l].base))
        }
        let shape = UnitSplit.StepShape(
            architecture: configuration.architecture, hidden: configuration.hiddenSize, units: split.units,
            segments: split.segments, layers: configuration.layers, blockColumns: split.blockColumns,
            gates: split.gates.base, hiddenPart: split.hiddenPart.base, tanhCell: state.tanhCell.base,
            sourceColumns: UnsafePointer(split.sourceColumns.baseAddress!), token: Int(token),
            barrier: split.barrier.state)
        let (v, h) = (configuration.vocabularySize, configuration.hiddenSize)
        let decoderWeights = p + layout.decoderWeight
        let decoderBias = p + layout.decoderBias
        let top = UnsafePointer(state.nextHidden[configuration.layers - 1].base)
        let logits = state.logits.base
        Parallel.forEachPart { part, parts in
            for l in 0..<shape.layers {
                for segment in stride(from: part, to: shape.segments, by: parts) {
                    UnitSplit.forward(segment: segment, steps[l], shape, oneHot: l == 0 && steps[l].input == nil)
                }
                rk_barrier_wait(shape.barrier, Int32(parts))
            }
            let rows = Parallel.part(part, of: parts, count: v, alignment: 8)
            guard !rows.isEmpty else { return }
            let (start, count) = (rows.lowerBound, rows.count)
            (logits + start).update(from: decoderBias + start, count: count)
            Kernels.table.pointee.matvec(count, h, 1, decoderWeights + start * h, h, top, 1, logits + start)
        }
    }
}

extension UnitSplit {
    /// One layer's addresses for one step.
    struct LayerStep {
        /// Regrouped in blocks; for a one-hot first layer, the model's own `W_ihᵀ`.
        var inputWeights: UnsafePointer<Float>
        var hiddenWeights: UnsafePointer<Float>
        /// The same matrices as bytes, when the batch reads them so (the floats unused).
        var inputBytes: SegmentBytes.Step?
        var hiddenBytes: SegmentBytes.Step?
        var rowBias: UnsafePointer<Float>
        var hiddenBias: UnsafePointer<Float>?
        /// The layer's input: the embedded token, or the state of the layer below; nil for a
        /// one-hot first layer, which gathers a row of its weights instead.
        var input: UnsafePointer<Float>?
        var inputSize: Int
        var hPrev: UnsafePointer<Float>
        var hNext: UnsafeMutablePointer<Float>
        /// LSTM's cell state (nil for the other cells).
        var cPrev: UnsafeMutablePointer<Float>?
        var cNext: UnsafeMutablePointer<Float>?

    }

    /// What every layer's step shares.
    struct StepShape {
        let architecture: CellArchitecture
        let hidden: Int
        let units: Int
        let segments: Int
        let layers: Int
        let blockColumns: Int
        let gates: UnsafeMutablePointer<Float>
        let hiddenPart: UnsafeMutablePointer<Float>
        let tanhCell: UnsafeMutablePointer<Float>
        /// ``UnitSplit/sourceColumns``.
        let sourceColumns: UnsafePointer<Int32>
        let token: Int
        let barrier: UnsafeMutablePointer<rk_barrier>
    }

    /// `y += x·W` for segment `s`'s columns of `weights` (laid out by the initializer's
    /// blocks), `x` of length `k`: each block with the one-row kernel, the same arithmetic
    /// per element as over the whole row; or, with `bytes`, the int8 kernel over the
    /// segment's bytes, the same integer sums as over the whole row.
    static func product(
        _ weights: UnsafePointer<Float>, bytes: SegmentBytes.Step?, segment s: Int, k: Int, columns: Int,
        _ shape: StepShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
    ) {
        if let bytes {
            Kernels.table.pointee.vecmat_many_int8(
                1, k, columns, 1, x, k, bytes.scales, bytes.groups + s * bytes.perSegment, 1, y, columns)
            return
        }
        let blockColumns = shape.blockColumns
        let vecmat = Kernels.table.pointee.vecmat!
        let base = weights + s * k * columns
        for c in stride(from: 0, to: columns, by: blockColumns) {
            let block = min(blockColumns, columns - c)
            vecmat(k, block, 1, x, base + k * c, block, 1, y + c)
        }
    }

    /// Segment `s` of one layer: its gate columns from the bias, the input and the previous
    /// state, then the cell on its units.
    static func forward(segment s: Int, _ step: LayerStep, _ shape: StepShape, oneHot: Bool) {
        let (h, u) = (shape.hidden, shape.units)
        let width = shape.architecture.gateCount * h
        let columns = shape.architecture.gateCount * u
        let start = s * columns
        let gates = shape.gates + start
        let bias = step.rowBias + start
        if oneHot {
            // The token's row of the model's own weights, its columns in this segment's order.
            let w = step.inputWeights + shape.token * width
            let source = shape.sourceColumns + start
            for j in 0..<columns { gates[j] = w[Int(source[j])] + bias[j] }
        } else if let input = step.input {
            gates.update(from: bias, count: columns)
            product(
                step.inputWeights, bytes: step.inputBytes, segment: s, k: step.inputSize, columns: columns, shape,
                input, gates)
        }
        let hNext = step.hNext + s * u
        switch shape.architecture {
        case .rnnTanh, .rnnReLU:
            product(
                step.hiddenWeights, bytes: step.hiddenBytes, segment: s, k: h, columns: columns, shape, step.hPrev,
                gates)
            if shape.architecture == .rnnReLU {
                for i in 0..<u { hNext[i] = max(gates[i], 0) }
            } else {
                VectorMath.tanh(gates, hNext, count: u)
            }
        case .lstm:
            product(
                step.hiddenWeights, bytes: step.hiddenBytes, segment: s, k: h, columns: columns, shape, step.hPrev,
                gates)
            Kernels.table.pointee.lstm_forward_quick(
                1, u, gates, step.cPrev! + s * u, step.cNext! + s * u, shape.tanhCell + s * u, hNext)
        case .gru:
            let gh = shape.hiddenPart + start
            gh.update(from: step.hiddenBias! + start, count: columns)
            product(
                step.hiddenWeights, bytes: step.hiddenBytes, segment: s, k: h, columns: columns, shape, step.hPrev, gh)
            Kernels.table.pointee.gru_forward(1, u, gates, gh, step.hPrev + s * u, hNext)
        }
    }
}
