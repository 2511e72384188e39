/// One named tensor inside a model's flat parameter buffer.
public struct TensorSpec: Sendable, Hashable {
    /// The PyTorch `state_dict` name (`rnn.weight_ih_l0`, `out.weight`, `emb.weight`, ...).
    public var name: String
    /// The shape as stored in memory, row-major.
    public var shape: [Int]
    /// Where the tensor starts in the flat buffer.
    public var offset: Int
    /// True when memory holds the transpose of PyTorch's `(out, in)` matrix, so that a batch
    /// of inputs times this matrix needs no transposition and a one-hot input is a row gather.
    public var isTransposed: Bool
    /// True when the first stored dimension is the vocabulary, so that the tensor grows by
    /// appending rows when the vocabulary grows.
    public var growsWithVocabulary: Bool

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// The shape PyTorch uses for this tensor.
    public var pytorchShape: [Int] { isTransposed ? shape.reversed() : shape }
}

/// Offsets of one recurrent layer's four tensors.
public struct LayerOffsets: Sendable, Hashable {
    /// `W_ihᵀ`, stored `inputSize x gates*hidden`.
    public var inputWeights: Int
    /// `W_hhᵀ`, stored `hidden x gates*hidden`.
    public var hiddenWeights: Int
    /// `b_ih`, `gates*hidden`.
    public var inputBias: Int
    /// `b_hh`, `gates*hidden`.
    public var hiddenBias: Int
    /// The layer's input width.
    public var inputSize: Int
}

/// Where every tensor of a model lives in one flat `Float` buffer.
///
/// One buffer for all parameters lets optimizers, clipping and norms run as single loops, and
/// lets gradients and optimizer moments share the layout.
public struct ParameterLayout: Sendable, Hashable {
    /// Every tensor, in buffer order.
    public private(set) var tensors: [TensorSpec] = []
    /// Total number of parameters.
    public private(set) var count = 0
    /// Offsets of each recurrent layer.
    public private(set) var layers: [LayerOffsets] = []
    /// The embedding (`vocabulary x embedding`), when the model has one.
    public private(set) var embedding: TensorSpec?
    /// Decoder weight, `vocabulary x hidden` (PyTorch layout).
    public private(set) var decoderWeight = 0
    /// Decoder bias, `vocabulary`.
    public private(set) var decoderBias = 0

    /// Lays out the tensors of `configuration`.
    public init(_ configuration: ModelConfiguration) {
        let h = configuration.hiddenSize
        let gh = configuration.architecture.gateCount * h
        let v = configuration.vocabularySize
        if configuration.embeddingSize > 0 {
            embedding = add("emb.weight", [v, configuration.embeddingSize], transposed: false, grows: true)
        }
        for l in 0..<configuration.layers {
            let input = configuration.inputSize(ofLayer: l)
            let oneHot = l == 0 && configuration.embeddingSize == 0
            let wx = add("rnn.weight_ih_l\(l)", [input, gh], transposed: true, grows: oneHot)
            let wh = add("rnn.weight_hh_l\(l)", [h, gh], transposed: true, grows: false)
            let bx = add("rnn.bias_ih_l\(l)", [gh], transposed: false, grows: false)
            let bh = add("rnn.bias_hh_l\(l)", [gh], transposed: false, grows: false)
            layers.append(
                LayerOffsets(
                    inputWeights: wx.offset, hiddenWeights: wh.offset, inputBias: bx.offset,
                    hiddenBias: bh.offset, inputSize: input))
        }
        decoderWeight = add("out.weight", [v, h], transposed: false, grows: true).offset
        decoderBias = add("out.bias", [v], transposed: false, grows: true).offset
    }

    /// The tensor with PyTorch name `name`, if the model has one.
    public func tensor(named name: String) -> TensorSpec? {
        tensors.first { $0.name == name }
    }

    private mutating func add(_ name: String, _ shape: [Int], transposed: Bool, grows: Bool) -> TensorSpec {
        let spec = TensorSpec(
            name: name, shape: shape, offset: count, isTransposed: transposed, growsWithVocabulary: grows)
        tensors.append(spec)
        count += spec.count
        return spec
    }
}

extension ParameterLayout {
    /// Copies `buffer`, laid out as `self`, into a buffer laid out as `target`, which differs
    /// only by a larger vocabulary; new rows take `fill(tensor, row)` for each element.
    ///
    /// Used to grow weights, gradients and optimizer moments alike.
    public func regrow(
        _ buffer: [Float], into target: ParameterLayout, fill: (TensorSpec, inout RandomGenerator) -> Float,
        generator: inout RandomGenerator
    ) -> [Float] {
        precondition(tensors.count == target.tensors.count, "layouts differ in more than the vocabulary")
        var out = [Float](repeating: 0, count: target.count)
        for (old, new) in zip(tensors, target.tensors) {
            precondition(old.name == new.name)
            let oldCount = old.count
            for i in 0..<oldCount { out[new.offset + i] = buffer[old.offset + i] }
            for i in oldCount..<new.count { out[new.offset + i] = fill(new, &generator) }
        }
        return out
    }
}
