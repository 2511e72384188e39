import RNNKernels

/// How a ``SamplingBatch`` holds the weights of its products.
///
/// Only input and recurrent weight matrices are reduced; the embedding, the decoder and the
/// biases are left alone, and so is a matrix with a weight that is not finite. Half
/// precision reduces the matrices past an eighth of this CPU's L2 (those the one-row kernels
/// stream rather than keep in L2, whose speed is memory bandwidth, such as a 2x512 LSTM's
/// three of 4 MiB); int8 those of 64 Ki weights or more and at most ``maximumInt8Rows``
/// rows. In half precision, steps of one or two rows read the reduced bytes, and a batch of
/// more rows packs the same values widened to floats (its products reuse each weight across
/// rows and are bound by arithmetic, not bytes); the arithmetic stays single precision. In
/// int8, every step multiplies the bytes by its inputs rounded to bytes too, summed exactly
/// in integers. Either way every row meets the same values and operations, so a seeded text
/// does not depend on what else is in the batch. Half precision needs F16C (the portable
/// kernel path rounds nothing to half).
public enum SamplingPrecision: String, CaseIterable, Sendable {
    /// The model's weights as they are.
    case single
    /// Rounded to IEEE half precision (11 significant bits) and stored as half floats: half
    /// the bytes to read per character. A matrix with a weight beyond ±65504 is left alone.
    case half
    /// Each row of a matrix (the weights of one input) as signed bytes times the row's
    /// scale, its largest magnitude over 127: a quarter of the bytes. The scale multiplies
    /// the input (`x_i·s_i`), and each step rounds those inputs to signed bytes too (the
    /// largest to ±127) and sums their products with the weights' bytes exactly, in
    /// integers: four pairs of bytes per lane and instruction where the CPU has AVX-512 VNNI,
    /// and no conversion of the weights to floats anywhere, which is what makes it fast. The
    /// text is the model's only up to those roundings.
    case int8
}

extension CharRNN {
    /// The model a ``SamplingBatch`` reading its weights in `precision` samples from (for
    /// half, on this CPU and kernel path, which decide which matrices are reduced), to score
    /// or compare against: exactly for ``SamplingPrecision/half``; for
    /// ``SamplingPrecision/int8`` with each weight `s_i·q_ij`, where the batch also rounds
    /// its inputs `x_i·s_i` to bytes.
    public func sampled(in precision: SamplingPrecision) -> CharRNN {
        let layout = ParameterLayout(configuration)
        let weights = parameters.withUnsafeBufferPointer {
            SamplingWeights(configuration, layout: layout, parameters: $0.baseAddress!, precision: precision)
        }
        var copy = self
        for (l, offsets) in layout.layers.enumerated() {
            for recurrent in [false, true] {
                guard let matrix = weights.reduced(layer: l, recurrent: recurrent) else { continue }
                let offset = recurrent ? offsets.hiddenWeights : offsets.inputWeights
                let floats = matrix.widened()
                for r in 0..<matrix.rows {
                    let scale = matrix.scales?[r] ?? 1
                    for j in 0..<matrix.columns {
                        copy.parameters[offset + r * matrix.columns + j] = scale * floats[r * matrix.columns + j]
                    }
                }
            }
        }
        return copy
    }
}

/// The input and recurrent weights a ``SamplingBatch``'s products read: the model's own,
/// or per ``SamplingPrecision`` reduced copies of the large ones.
final class SamplingWeights {
    /// Where a product finds its weights, row-major `k x G·H`.
    enum Source {
        case single(UnsafePointer<Float>)
        /// Half floats, for `vecmat_many_half`.
        case half(UnsafePointer<UInt16>)
        /// Signed bytes in groups of four rows (`int8_pack`), for `vecmat_many_int8`, each
        /// row's scale to multiply its input by.
        case int8(UnsafePointer<UInt32>, scales: UnsafePointer<Float>)
    }

    /// Per layer, the reduced input and recurrent matrices, or nil where the batch reads the
    /// model's own weights.
    let input: [ReducedMatrix?]
    let hidden: [ReducedMatrix?]
    /// Whether any matrix is reduced.
    let reducesAny: Bool
    /// Weights below which int8 leaves a matrix alone (a 2x128 LSTM's have 64 Ki).
    static let minimumInt8Weights = 1 << 16

    /// Rows past which `vecmat_many_int8`'s sums could leave 32 bits (it takes fewer than 66,000).
    static let maximumInt8Rows = 65_536

    init(
        _ configuration: ModelConfiguration, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        precision: SamplingPrecision
    ) {
        let width = configuration.architecture.gateCount * configuration.hiddenSize
        let kernels = Kernels.table.pointee
        func reduced(_ weights: UnsafePointer<Float>, rows: Int) -> ReducedMatrix? {
            let matrix = UnsafeBufferPointer(start: weights, count: rows * width)
            switch precision {
            case .single: return nil
            case .half:
                // Matrices the kernels keep in L2 gain nothing from fewer bytes.
                guard kernels.vecmat_packs(rows, width) == 0, kernels.vecmat_many_half != nil else { return nil }
                return ReducedMatrix(half: matrix, rows: rows)
            case .int8:
                // Integers gain in L2 too (a quarter of the instructions of floats per weight
                // with VNNI), but rounding each input costs more than a small product takes;
                // past `maximumInt8Rows` a sum could leave 32 bits.
                guard matrix.count >= Self.minimumInt8Weights, rows <= Self.maximumInt8Rows else { return nil }
                return ReducedMatrix(int8: matrix, rows: rows)
            }
        }
        input = layout.layers.enumerated().map { l, offsets in
            l == 0 && layout.embedding == nil ? nil : reduced(p + offsets.inputWeights, rows: offsets.inputSize)
        }
        hidden = layout.layers.map { reduced(p + $0.hiddenWeights, rows: configuration.hiddenSize) }
        reducesAny = (input + hidden).contains { $0 != nil }
    }

    /// Layer `l`'s reduced input (or, when `recurrent`, recurrent) matrix, if it is reduced.
    func reduced(layer l: Int, recurrent: Bool) -> ReducedMatrix? { recurrent ? hidden[l] : input[l] }

    /// Layer `l`'s input (or recurrent) weights as the model holds them at `p`.
    private static func modelWeights(
        _ l: Int, _ recurrent: Bool, _ layout: ParameterLayout, _ p: UnsafePointer<Float>
    ) -> UnsafePointer<Float> {
        p + (recurrent ? layout.layers[l].hiddenWeights : layout.layers[l].inputWeights)
    }

    /// Layer `l`'s input (or recurrent) weights, `p` the model's parameters.
    func source(layer l: Int, recurrent: Bool, layout: ParameterLayout, parameters p: UnsafePointer<Float>) -> Source {
        reduced(layer: l, recurrent: recurrent)?.source ?? .single(Self.modelWeights(l, recurrent, layout, p))
    }

    /// Calls `body` with the floats the kernels multiply layer `l`'s inputs by: the model's
    /// weights, or the half floats widened into a scratch copy, for packing them; nil for an
    /// int8 matrix, which every step multiplies as bytes.
    func withFloats<R>(
        layer l: Int, recurrent: Bool, layout: ParameterLayout, parameters p: UnsafePointer<Float>,
        _ body: (UnsafePointer<Float>?) -> R
    ) -> R {
        if let matrix = reduced(layer: l, recurrent: recurrent) {
            if matrix.scales != nil { return body(nil) }
            return matrix.widened().withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        return body(Self.modelWeights(l, recurrent, layout, p))
    }
}

/// A weight matrix (`rows x columns`) in fewer bytes: half floats (row-major), or signed
/// bytes with a scale per row (in groups of four rows, as `int8_pack` lays them out).
final class ReducedMatrix {
    let rows: Int
    let columns: Int
    private let storage: UnsafeMutableRawPointer
    /// Per row, the factor of its bytes (int8 only).
    let scales: UnsafeMutablePointer<Float>?

    /// `values` rounded to the nearest half float (ties to even); nil when one is not finite
    /// or beyond half precision's range, which rounding would turn into an infinity, or when
    /// `kernels` (a path's table) cannot round (the portable path).
    init?(half values: UnsafeBufferPointer<Float>, rows: Int, kernels: rk_kernels = Kernels.table.pointee) {
        guard rows > 0, let round = kernels.to_half else { return nil }
        let half = UnsafeMutablePointer<UInt16>.allocate(capacity: values.count)
        guard round(values.count, values.baseAddress, half) != 0 else {
            half.deallocate()
            return nil
        }
        self.rows = rows
        columns = values.count / rows
        storage = UnsafeMutableRawPointer(half)
        scales = nil
    }

    /// Each row of `values` as the nearest multiples of its scale (its largest magnitude over
    /// 127), stored as those multiples; nil when a value is not finite.
    init?(int8 values: UnsafeBufferPointer<Float>, rows: Int) {
        guard rows > 0, values.allSatisfy(\.isFinite) else { return nil }
        self.rows = rows
        let columns = values.count / rows
        self.columns = columns
        var bytes = [Int8](repeating: 0, count: values.count)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        for r in 0..<rows {
            let row = values[(r * columns)..<((r + 1) * columns)]
            let largest = row.reduce(0) { max($0, abs($1)) }
            let scale = largest / 127
            scales[r] = scale
            for (j, value) in row.enumerated() {
                bytes[r * columns + j] = scale == 0 ? 0 : Int8(max(-127, min(127, (value / scale).rounded())))
            }
        }
        let kernels = Kernels.table.pointee
        let groups = UnsafeMutablePointer<UInt32>.allocate(capacity: kernels.int8_packed_size(rows, columns))
        kernels.int8_pack(rows, columns, bytes, columns, groups)
        storage = UnsafeMutableRawPointer(groups)
        self.scales = scales
    }

    deinit {
        storage.deallocate()
        scales?.deallocate()
    }

    var count: Int { rows * columns }

    /// Where the kernels read it.
    var source: SamplingWeights.Source {
        if let scales {
            return .int8(UnsafePointer(storage.assumingMemoryBound(to: UInt32.self)), scales: UnsafePointer(scales))
        }
        return .half(UnsafePointer(storage.assumingMemoryBound(to: UInt16.self)))
    }

    /// The signed bytes, row-major (int8 only).
    func bytes() -> [Int8] {
        precondition(scales != nil, "a half-float matrix has no bytes")
        let groups = storage.assumingMemoryBound(to: UInt32.self)
        let packedSize = Kernels.table.pointee.int8_packed_size!
        return (0..<count).map { i in
            let (r, j) = i.quotientAndRemainder(dividingBy: columns)
            // Each byte is stored plus 128, in blocks of 32 columns each starting where
            // `int8_packed_size` of the columns before it says (`int8_pack`).
            let at = packedSize(rows, j / 32 * 32) + r / 4 * 32 + j % 32
            let stored = UInt8(truncatingIfNeeded: groups[at] >> (8 * UInt32(r % 4)))
            return Int8(Int(stored) - 128)
        }
    }

    /// The stored values as floats, row-major, exactly (for int8, the integers, unscaled).
    func widened() -> [Float] {
        if scales != nil { return bytes().map(Float.init) }
        let half = storage.assumingMemoryBound(to: UInt16.self)
        // The kernels' conversion: Swift's own calls a software routine per element.
        if let widen = Kernels.table.pointee.from_half {
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                widen(count, half, buffer.baseAddress)
                initialized = count
            }
        }
        return (0..<count).map { Float(Float16(bitPattern: half[$0])) }
    }
}
