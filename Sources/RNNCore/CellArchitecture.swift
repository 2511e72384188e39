/// The recurrent cell of every layer of a model.
public enum CellArchitecture: String, Sendable, Codable, CaseIterable {
    /// Vanilla RNN, `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (PyTorch `nn.RNN`).
    case rnnTanh = "rnn-tanh"
    /// Vanilla RNN with ReLU, the classic remedy for vanishing gradients.
    case rnnReLU = "rnn-relu"
    /// LSTM, gates in PyTorch's order `i, f, g, o`.
    case lstm
    /// GRU, gates in PyTorch's order `r, z, n`.
    case gru

    /// How many `hiddenSize`-wide blocks each weight matrix stacks.
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnReLU: 1
        case .lstm: 4
        case .gru: 3
        }
    }
}
