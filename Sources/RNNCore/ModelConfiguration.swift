/// The shape of a model: everything needed to lay out its parameters.
public struct ModelConfiguration: Sendable, Hashable, Codable {
    /// The cell of every layer.
    public var architecture: CellArchitecture
    /// Number of stacked recurrent layers (at least 1).
    public var layers: Int
    /// Width of every layer's hidden state.
    public var hiddenSize: Int
    /// Number of symbols; inputs and outputs are indices in `0..<vocabularySize`.
    public var vocabularySize: Int
    /// Width of a learned embedding, or 0 for one-hot input (a row gather of `W_ih`).
    public var embeddingSize: Int
    /// Probability of dropping a unit between layers while training (PyTorch's `dropout`).
    public var dropout: Float

    /// Creates a configuration; call ``validate()`` before building a model from user input.
    public init(
        architecture: CellArchitecture, layers: Int, hiddenSize: Int, vocabularySize: Int,
        embeddingSize: Int = 0, dropout: Float = 0
    ) {
        self.architecture = architecture
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.dropout = dropout
    }

    /// Limits that keep a model addressable with 32-bit BLAS indices.
    public static let maximumLayers = 16
    /// The widest hidden state accepted.
    public static let maximumHiddenSize = 8192
    /// The largest vocabulary accepted.
    public static let maximumVocabularySize = 1 << 20

    /// The input width of layer `layer`.
    public func inputSize(ofLayer layer: Int) -> Int {
        layer > 0 ? hiddenSize : (embeddingSize > 0 ? embeddingSize : vocabularySize)
    }

    /// Throws when a field is out of range, naming the field and the accepted range.
    public func validate() throws(RNNCoreError) {
        func check(_ ok: Bool, _ message: String) throws(RNNCoreError) {
            if !ok { throw RNNCoreError(.invalidConfiguration, message) }
        }
        try check(
            (1...Self.maximumLayers).contains(layers), "layers must be in 1...\(Self.maximumLayers), got \(layers)")
        try check(
            (1...Self.maximumHiddenSize).contains(hiddenSize),
            "hidden size must be in 1...\(Self.maximumHiddenSize), got \(hiddenSize)")
        try check(
            (1...Self.maximumVocabularySize).contains(vocabularySize),
            "vocabulary size must be in 1...\(Self.maximumVocabularySize), got \(vocabularySize)")
        try check(
            (0...Self.maximumHiddenSize).contains(embeddingSize),
            "embedding size must be 0 (one-hot) or in 1...\(Self.maximumHiddenSize), got \(embeddingSize)")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got \(dropout)")
    }
}
