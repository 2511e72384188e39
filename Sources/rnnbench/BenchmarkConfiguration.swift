import RNNCore

/// A named benchmark line: a model and its training recipe.
struct BenchmarkConfiguration {
    var name: String
    var architecture: CellArchitecture
    var layers: Int
    var hidden: Int
    var batch: Int
    var steps: Int
    var optimizer: OptimizerKind
    var settings: TrainingSettings
    var initialization: ParameterInitialization

    /// The lines of the performance issue: the seed's RNN and char-rnn's LSTMs.
    static let all: [BenchmarkConfiguration] = [
        BenchmarkConfiguration(
            name: "seed-rnn-1x100", architecture: .rnnTanh, layers: 1, hidden: 100, batch: 1, steps: 25,
            optimizer: .seedAdagrad, settings: .seed, initialization: .gaussian(standardDeviation: 0.01)),
        BenchmarkConfiguration(
            name: "lstm-2x128", architecture: .lstm, layers: 2, hidden: 128, batch: 50, steps: 50,
            optimizer: .charRNNRMSProp, settings: TrainingSettings(learningRate: 2e-3), initialization: .charRNN),
        BenchmarkConfiguration(
            name: "lstm-2x512", architecture: .lstm, layers: 2, hidden: 512, batch: 32, steps: 100,
            optimizer: .charRNNRMSProp, settings: TrainingSettings(learningRate: 2e-3), initialization: .charRNN),
    ]

    static func named(_ name: String) -> BenchmarkConfiguration? { all.first { $0.name == name } }
}
