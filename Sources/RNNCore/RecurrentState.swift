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

extension RecurrentState {
    /// The state of streams `from..<from+count` (every layer, `h` and `c`).
    func streams(from: Int, count: Int, _ configuration: ModelConfiguration) -> RecurrentState {
        var out = RecurrentState(configuration, batchSize: count)
        let h = configuration.hiddenSize
        let tensors = layerStride / (batchSize * h)
        for l in 0..<configuration.layers {
            for k in 0..<tensors {
                let source = l * layerStride + k * batchSize * h + from * h
                let target = l * out.layerStride + k * count * h
                out.values[target..<(target + count * h)] = values[source..<(source + count * h)]
            }
        }
        return out
    }

    /// Writes `part` as streams `from..<from+part.batchSize`.
    mutating func setStreams(from: Int, _ part: RecurrentState, _ configuration: ModelConfiguration) {
        let h = configuration.hiddenSize
        let tensors = layerStride / (batchSize * h)
        let count = part.batchSize
        for l in 0..<configuration.layers {
            for k in 0..<tensors {
                let target = l * layerStride + k * batchSize * h + from * h
                let source = l * part.layerStride + k * count * h
                values[target..<(target + count * h)] = part.values[source..<(source + count * h)]
            }
        }
    }
}
