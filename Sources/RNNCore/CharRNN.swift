/// A character-level recurrent language model: input (one-hot or embedding), a stack of
/// recurrent layers, and a linear decoder to logits over the vocabulary.
///
/// A value type: copying it is a snapshot that a sampler can read while a trainer goes on.
public struct CharRNN: Sendable {
    /// The model's shape.
    public private(set) var configuration: ModelConfiguration
    /// Where each tensor lives in ``parameters``.
    public private(set) var layout: ParameterLayout
    /// All parameters in one flat buffer, laid out by ``layout``.
    public var parameters: [Float]

    /// Creates a model with freshly drawn parameters.
    ///
    /// - Parameters:
    ///   - configuration: the shape; validated here.
    ///   - initialization: how parameters are drawn.
    ///   - forgetGateBias: for LSTM, the value of the forget-gate slice of `b_hh` (char-rnn and
    ///     the PyTorch reference use 1, which lets gradients flow early in training); `nil`
    ///     leaves it as drawn.
    ///   - seed: the seed of the only random source used.
    /// - Throws: ``RNNCoreError`` with `.invalidConfiguration` when a field is out of range.
    public init(
        configuration: ModelConfiguration, initialization: ParameterInitialization = .charRNN,
        forgetGateBias: Float? = 1, seed: UInt64
    ) throws(RNNCoreError) {
        try configuration.validate()
        self.configuration = configuration
        self.layout = ParameterLayout(configuration)
        var generator = RandomGenerator(seed: seed)
        var parameters = [Float](repeating: 0, count: layout.count)
        for tensor in layout.tensors {
            for i in 0..<tensor.count {
                parameters[tensor.offset + i] = initialization.draw(
                    tensor, hiddenSize: configuration.hiddenSize, generator: &generator)
            }
        }
        if configuration.architecture == .lstm, let bias = forgetGateBias {
            let h = configuration.hiddenSize
            for layer in layout.layers {
                for j in h..<(2 * h) { parameters[layer.hiddenBias + j] = bias }
            }
        }
        self.parameters = parameters
    }

    /// Creates a model from a flat buffer laid out for `configuration`.
    ///
    /// - Throws: ``RNNCoreError`` when the configuration is invalid or the buffer has the
    ///   wrong length.
    public init(configuration: ModelConfiguration, parameters: [Float]) throws(RNNCoreError) {
        try configuration.validate()
        let layout = ParameterLayout(configuration)
        guard parameters.count == layout.count else {
            throw RNNCoreError(
                .shapeMismatch, "expected \(layout.count) parameters for this configuration, got \(parameters.count)")
        }
        self.configuration = configuration
        self.layout = layout
        self.parameters = parameters
    }

    /// Number of trainable parameters.
    public var parameterCount: Int { layout.count }

    /// The tensor `name` in PyTorch's layout (`(out, in)` for weight matrices), row-major.
    ///
    /// - Throws: ``RNNCoreError`` with `.invalidArgument` when the model has no such tensor.
    public func pytorchTensor(named name: String) throws(RNNCoreError) -> [Float] {
        guard let spec = layout.tensor(named: name) else {
            throw RNNCoreError(.invalidArgument, "the model has no tensor named '\(name)'")
        }
        return Self.read(spec, from: parameters)
    }

    /// Replaces tensor `name` with `values` given in PyTorch's layout.
    ///
    /// - Throws: ``RNNCoreError`` when there is no such tensor or `values` has the wrong count.
    public mutating func setPyTorchTensor(named name: String, to values: [Float]) throws(RNNCoreError) {
        guard let spec = layout.tensor(named: name) else {
            throw RNNCoreError(.invalidArgument, "the model has no tensor named '\(name)'")
        }
        guard values.count == spec.count else {
            throw RNNCoreError(
                .shapeMismatch, "tensor '\(name)' needs shape \(spec.pytorchShape), got \(values.count) values")
        }
        Self.write(values, to: spec, in: &parameters)
    }

    /// Reads `spec` out of a buffer with this layout (parameters, gradients or moments), in
    /// PyTorch's layout.
    static func read(_ spec: TensorSpec, from buffer: [Float]) -> [Float] {
        let slice = Array(buffer[spec.offset..<(spec.offset + spec.count)])
        guard spec.isTransposed else { return slice }
        return transpose(slice, rows: spec.shape[0], columns: spec.shape[1])
    }

    /// Writes PyTorch-layout `values` for `spec` into a buffer with this layout.
    static func write(_ values: [Float], to spec: TensorSpec, in buffer: inout [Float]) {
        let stored = spec.isTransposed ? transpose(values, rows: spec.shape[1], columns: spec.shape[0]) : values
        buffer.replaceSubrange(spec.offset..<(spec.offset + spec.count), with: stored)
    }

    /// Transposes a row-major `rows x columns` matrix.
    static func transpose(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m.count)
        for r in 0..<rows {
            for c in 0..<columns { out[c * rows + r] = m[r * columns + c] }
        }
        return out
    }
}

extension CharRNN {
    /// Grows the vocabulary to `newSize` symbols: the one-hot input weights, embedding and
    /// decoder get new rows, drawn as `initialization` draws them; every other value stays.
    ///
    /// - Returns: the old layout, so that callers can regrow gradients and moments alike.
    /// - Throws: ``RNNCoreError`` when `newSize` is smaller than the current size or too large.
    @discardableResult
    public mutating func growVocabulary(
        to newSize: Int, initialization: ParameterInitialization = .charRNN, generator: inout RandomGenerator
    ) throws(RNNCoreError) -> ParameterLayout {
        guard newSize >= configuration.vocabularySize else {
            throw RNNCoreError(
                .invalidArgument, "a vocabulary only grows: \(configuration.vocabularySize) -> \(newSize)")
        }
        var grown = configuration
        grown.vocabularySize = newSize
        try grown.validate()
        let old = layout
        let target = ParameterLayout(grown)
        let h = configuration.hiddenSize
        parameters = old.regrow(
            parameters, into: target,
            fill: { spec, g in initialization.draw(spec, hiddenSize: h, generator: &g) },
            generator: &generator)
        configuration = grown
        layout = target
        return old
    }
}
