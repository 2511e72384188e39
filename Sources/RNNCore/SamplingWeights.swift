import RNNKernels

/// How a ``SamplingBatch`` holds the weights of its products.
public enum SamplingPrecision: String, CaseIterable, Sendable {
    /// The model's weights as they are.
    case single
    /// Every input and recurrent weight matrix too large for the kernels to keep in L2
    /// between characters (the products whose speed is memory bandwidth, such as a 2x512
    /// LSTM's three of 4 MiB) rounded to IEEE half precision, 11 significant bits, and stored
    /// as half floats where the kernel path converts them: half the bytes to read per
    /// character. The arithmetic stays single precision, and every row of the batch reads the
    /// same rounded values, so a seeded text still does not depend on what else is in the
    /// batch. Smaller matrices, the embedding, the decoder and the biases are left alone, and
    /// so is a matrix with a weight beyond half precision's range (±65504).
    case half
}

extension CharRNN {
    /// The model a ``SamplingBatch`` reading its weights in `precision` samples from: with
    /// ``SamplingPrecision/half``, this one with the matrices it rounds rounded (on this CPU
    /// and kernel path, which decide which matrices those are), to score or compare against.
    public func sampled(in precision: SamplingPrecision) -> CharRNN {
        let layout = ParameterLayout(configuration)
        let weights = parameters.withUnsafeBufferPointer {
            SamplingWeights(configuration, layout: layout, parameters: $0.baseAddress!, precision: precision)
        }
        var copy = self
        for (l, offsets) in layout.layers.enumerated() {
            for (matrix, offset) in [
                (weights.input[l], offsets.inputWeights), (weights.hidden[l], offsets.hiddenWeights),
            ] {
                guard let matrix else { continue }
                for i in 0..<matrix.count { copy.parameters[offset + i] = Float(Float16(bitPattern: matrix.base[i])) }
            }
        }
        return copy
    }
}

/// The input and recurrent weights a ``SamplingBatch``'s products read: the model's own,
/// or per ``SamplingPrecision/half`` rounded copies of the large ones.
final class SamplingWeights {
    /// Where a product finds its weights, row-major `k x G·H`.
    enum Source {
        case single(UnsafePointer<Float>)
        /// Half floats, for `vecmat_many_half`.
        case half(UnsafePointer<UInt16>)
    }

    /// Per layer, the input and recurrent matrices as half floats, or nil where the batch reads
    /// the model's own weights.
    let input: [HalfBuffer?]
    let hidden: [HalfBuffer?]
    /// Whether any matrix is rounded.
    var roundsAny: Bool { (input + hidden).contains { $0 != nil } }

    init(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        precision: SamplingPrecision
    ) {
        let width = configuration.architecture.gateCount * configuration.hiddenSize
        let kernels = Kernels.table.pointee
        func rounded(_ weights: UnsafePointer<Float>, rows: Int) -> HalfBuffer? {
            // The portable path has no kernel for half floats; matrices the kernels keep in L2
            // gain nothing from half the bytes.
            guard precision == .half, kernels.vecmat_many_half != nil, kernels.vecmat_packs(rows, width) == 0
            else { return nil }
            return HalfBuffer(rounding: UnsafeBufferPointer(start: weights, count: rows * width))
        }
        input = layout.layers.enumerated().map { l, offsets in
            l == 0 && layout.embedding == nil ? nil : rounded(p + offsets.inputWeights, rows: offsets.inputSize)
        }
        hidden = layout.layers.map { rounded(p + $0.hiddenWeights, rows: configuration.hiddenSize) }
    }

    /// Layer `l`'s input (or, when `recurrent`, recurrent) weights, `p` the model's parameters.
    func source(layer l: Int, recurrent: Bool, layout: ParameterLayout, parameters p: UnsafePointer<Float>) -> Source {
        if let half = recurrent ? hidden[l] : input[l] { return .half(half.base) }
        return .single(p + (recurrent ? layout.layers[l].hiddenWeights : layout.layers[l].inputWeights))
    }

    /// Calls `body` with layer `l`'s weights as floats: the model's own, or the rounded values
    /// widened into a scratch copy (for packing them).
    func withFloats<R>(
        layer l: Int, recurrent: Bool, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        _ body: (UnsafePointer<Float>) -> R
    ) -> R {
        switch source(layer: l, recurrent: recurrent, layout: layout, parameters: p) {
        case .single(let weights): return body(weights)
        case .half(let weights):
            let half = (recurrent ? hidden[l] : input[l])!
            let floats = FloatBuffer(half.count)
            for i in 0..<half.count { floats.base[i] = Float(Float16(bitPattern: weights[i])) }
            return body(floats.base)
        }
    }
}

/// IEEE half floats in memory of their own.
final class HalfBuffer {
    let base: UnsafeMutablePointer<UInt16>
    let count: Int

    /// `values` rounded to the nearest half float (ties to even); nil when one is not finite
    /// or beyond half precision's range, which rounding would turn into an infinity.
    init?(rounding values: UnsafeBufferPointer<Float>) {
        let limit = Float(Float16.greatestFiniteMagnitude)
        guard values.allSatisfy({ $0.isFinite && abs($0) <= limit }) else { return nil }
        count = values.count
        base = .allocate(capacity: max(count, 1))
        for (i, value) in values.enumerated() { base[i] = Float16(value).bitPattern }
    }

    deinit { base.deallocate() }
}
