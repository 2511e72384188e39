/// The hidden state of every layer for `batchSize` parallel streams: what truncated BPTT
/// carries from one batch to the next, and what a priming text leaves for sampling.
///
/// Layout: for each layer, `h` (`batchSize x hidden`), then for LSTM `c` (same shape).
public struct RecurrentState: Sendable, Hashable {
    /// The flat values.
    public var values: [Float]
    /// Number of parallel streams.
    public let batchSize: Int
    /// Floats per layer (`h`, plus `c` for LSTM).
    let layerStride: Int

    /// A zero state for `configuration` and `batchSize` streams.
    public init(_ configuration: ModelConfiguration, batchSize: Int) {
        let perTensor = batchSize * configuration.hiddenSize
        layerStride = configuration.architecture == .lstm ? 2 * perTensor : perTensor
        self.batchSize = batchSize
        values = [Float](repeating: 0, count: layerStride * configuration.layers)
    }

    /// Sets every stream back to the zero state.
    public mutating func reset() {
        for i in values.indices { values[i] = 0 }
    }

    /// The top layer's `h` of stream `stream`.
    public func topHidden(_ configuration: ModelConfiguration, stream: Int = 0) -> ArraySlice<Float> {
        let start = (configuration.layers - 1) * layerStride + stream * configuration.hiddenSize
        return values[start..<(start + configuration.hiddenSize)]
    }
}
