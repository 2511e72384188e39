import RNNKernels

/// The buffers of a ``SamplingBatch``: each layer's state per slot, and one step's scratch.
/// Its batch's thread alone changes it (a split step's parts only read), so its variables
/// skip the run-time exclusivity checks, which cost a thread-local lookup per access.
final class BatchState {
    let configuration: ModelConfiguration
    let layout: ParameterLayout
    let vocabularySize: Int
    /// Per layer, `capacity x H`: the state before the step, and the one the step writes.
    @exclusivity(unchecked) var hidden: [FloatBuffer]
    @exclusivity(unchecked) var nextHidden: [FloatBuffer]
    /// Per layer (LSTM), `capacity x H`.
    @exclusivity(unchecked) var cell: [FloatBuffer]
    @exclusivity(unchecked) var nextCell: [FloatBuffer]
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
    @exclusivity(unchecked) var packedInput: [FloatBuffer?] = []
    @exclusivity(unchecked) var packedHidden: [FloatBuffer?] = []
    /// For a model whose products split by columns: per layer, each product's column chunks
    /// (as ``VectorProducts`` splits them across the pool) laid out likewise.
    @exclusivity(unchecked) var inputParts: [[PackedColumns]] = []
    @exclusivity(unchecked) var hiddenParts: [[PackedColumns]] = []
    /// Whether the model has a product of a million weights or more, which is split by
    /// columns across the kernel pool (as one row alone splits it) rather than by rows.
    let splitsProducts: Bool
    /// A lone row's step split by units across the kernel pool, for the models that gain
    /// from one: made at the first lone step (a batch that never has one row alone never
    /// copies its weights for it), once ``unitSplitDecided``.
    @exclusivity(unchecked) var unitSplit: UnitSplit?
    @exclusivity(unchecked) var unitSplitDecided = false
    /// The input and recurrent weights the products read (per ``SamplingPrecision``).
    let weights: SamplingWeights

    /// Buffers for `capacity` rows of a model whose parameters are at `p` (which a batch
    /// never changes): ``rowBias`` filled, ``weights`` rounded as `precision` asks.
    init(
        _ configuration: ModelConfiguration, capacity: Int, parameters p: UnsafePointer<Float>,
        precision: SamplingPrecision
    ) {
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
        weights = SamplingWeights(configuration, layout: layout, parameters: p, precision: precision)
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
    /// whose products split by columns, each column chunk as ``VectorProducts`` splits it;
    /// from the values ``weights`` gives, reduced or not.
    /// Any chunks of ``VectorProducts/columnChunks(k:n:threads:)`` give every element the
    /// same arithmetic, so chunks made for this thread count serve a step on any other.
    func packWeights(_ p: UnsafePointer<Float>) {
        guard packedInput.isEmpty else { return }
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let kernels = Kernels.table.pointee
        let threads = BLAS.threadCount
        func packed(_ weights: UnsafePointer<Float>?, rows: Int) -> FloatBuffer? {
            guard !splitsProducts, let weights else { return nil }
            let buffer = FloatBuffer(rows * width)
            kernels.vecmat_pack(rows, width, weights, width, buffer.base)
            return buffer
        }
        func parts(_ weights: UnsafePointer<Float>?, rows: Int) -> [PackedColumns] {
            guard splitsProducts, let weights else { return [] }
            return VectorProducts.columnChunks(k: rows, n: width, threads: threads).map { chunk in
                let buffer = FloatBuffer(rows * chunk.width)
                kernels.vecmat_pack(rows, chunk.width, weights + chunk.start, width, buffer.base)
                return PackedColumns(start: chunk.start, width: chunk.width, weights: buffer)
            }
        }
        for (l, offsets) in layout.layers.enumerated() {
            let oneHot = l == 0 && layout.embedding == nil
            weights.withFloats(layer: l, recurrent: false, layout: layout, parameters: p) { w in
                packedInput.append(oneHot ? nil : packed(w, rows: offsets.inputSize))
                inputParts.append(oneHot ? [] : parts(w, rows: offsets.inputSize))
            }
            weights.withFloats(layer: l, recurrent: true, layout: layout, parameters: p) { w in
                packedHidden.append(packed(w, rows: h))
                hiddenParts.append(parts(w, rows: h))
            }
        }
    }

    /// Layer `l`'s input (or, when `recurrent`, recurrent) weights as ``packWeights(_:)`` laid
    /// them out: the whole matrix, or its column chunks; neither before the first step of
    /// more than two rows, which reads the plain weights.
    func laidOut(layer l: Int, recurrent: Bool) -> (packed: FloatBuffer?, parts: [PackedColumns]) {
        guard !packedInput.isEmpty else { return (nil, []) }
        return recurrent ? (packedHidden[l], hiddenParts[l]) : (packedInput[l], inputParts[l])
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
                configuration, layout: layout, parameters: p, rowBias: rowBias, weights: weights,
                threads: BLAS.threadCount)
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
