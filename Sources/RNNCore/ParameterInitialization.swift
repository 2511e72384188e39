/// How a new model's parameters are drawn.
public enum ParameterInitialization: Sendable, Hashable, Codable {
    /// char-rnn's: every parameter uniform in `[-scale, scale]` (char-rnn uses 0.08).
    case uniform(scale: Float)
    /// min-char-rnn's: weights `N(0, std²)` (the seed uses 0.01), biases zero.
    case gaussian(standardDeviation: Float)
    /// PyTorch's default: uniform in `±1/sqrt(hidden)`.
    case pytorchDefault

    /// char-rnn's default, `uniform(scale: 0.08)`.
    public static let charRNN = ParameterInitialization.uniform(scale: 0.08)

    /// Draws one value for an element of `tensor`.
    func draw(_ tensor: TensorSpec, hiddenSize: Int, generator: inout RandomGenerator) -> Float {
        let isBias = tensor.shape.count == 1
        switch self {
        case .uniform(let scale):
            return (generator.nextUnitFloat() * 2 - 1) * scale
        case .gaussian(let std):
            return isBias ? 0 : Float(generator.nextGaussian()) * std
        case .pytorchDefault:
            let bound = 1 / Float(hiddenSize).squareRoot()
            return (generator.nextUnitFloat() * 2 - 1) * bound
        }
    }
}
