import RNNJSON

/// A model and its vocabulary as a safetensors file whose tensors carry the names, shapes
/// and gate orders of PyTorch's `state_dict` (`rnn.weight_ih_l0`, ..., `emb.weight`,
/// `out.weight`, `out.bias`), so that `torch.nn.LSTM`/`GRU`/`RNN` load it as it is.
///
/// `__metadata__` holds `format`, `format_version`, the architecture, sizes, the vocabulary
/// (`vocabulary_kind`, and for characters a JSON array of code points), plus whatever the
/// caller adds (hyperparameters, counters).
public struct Checkpoint: Sendable {
    /// The model.
    public var model: CharRNN
    /// Its vocabulary.
    public var vocabulary: Vocabulary
    /// Every metadata string of the file, the caller's included.
    public var metadata: [String: String]

    /// The format version this build writes and reads.
    public static let formatVersion = 1
    /// Metadata keys that the checkpoint itself sets.
    public static let reservedKeys: Set<String> = [
        "format", "format_version", "architecture", "layers", "hidden_size", "vocabulary_size", "embedding_size",
        "dropout", "vocabulary_kind", "vocabulary",
    ]

    /// Wraps a model for encoding.
    public init(model: CharRNN, vocabulary: Vocabulary, metadata: [String: String] = [:]) {
        self.model = model
        self.vocabulary = vocabulary
        self.metadata = metadata
    }

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        let c = model.configuration
        var meta = metadata.filter { !Self.reservedKeys.contains($0.key) }
        meta["format"] = "rnnd-checkpoint"
        meta["format_version"] = String(Self.formatVersion)
        meta["architecture"] = c.architecture.rawValue
        meta["layers"] = String(c.layers)
        meta["hidden_size"] = String(c.hiddenSize)
        meta["vocabulary_size"] = String(c.vocabularySize)
        meta["embedding_size"] = String(c.embeddingSize)
        meta["dropout"] = "\(c.dropout)"
        meta["vocabulary_kind"] = vocabulary.kind.rawValue
        if vocabulary.kind == .characters {
            meta["vocabulary"] = JSONWriter.text(.array(vocabulary.scalars.map { .integer($0.value) }))
        }
        let tensors = model.layout.tensors.map { spec in
            (name: spec.name, shape: spec.pytorchShape, values: CharRNN.read(spec, from: model.parameters))
        }
        return SafeTensors.serialize(tensors: tensors, metadata: meta)
    }

    /// Decodes a checkpoint written by rnnd, or a PyTorch `state_dict` saved with safetensors.
    ///
    /// Without rnnd's metadata the architecture is inferred from the shapes (gates per
    /// `weight_hh` rows: 1 RNN, 3 GRU, 4 LSTM; `architecture` = `rnn-relu` in the metadata
    /// picks ReLU), and the vocabulary comes from `vocabulary` metadata or, for 256 symbols,
    /// is bytes.
    ///
    /// - Throws: ``RNNCoreError`` naming what is missing, malformed or the wrong shape.
    public init(decoding bytes: [UInt8]) throws(RNNCoreError) {
        let file = try SafeTensors(parsing: bytes)
        let meta = file.metadata
        if let version = meta["format_version"], let v = Int(version), v > Self.formatVersion {
            throw RNNCoreError(
                .unsupportedCheckpoint,
                "checkpoint format version \(v) is newer than this rnnd reads (\(Self.formatVersion)); upgrade rnnd")
        }
        let configuration = try Self.inferConfiguration(file)
        var model = try CharRNN(configuration: configuration, seed: 0)
        for spec in model.layout.tensors {
            guard let entry = file.entries[spec.name] else {
                throw RNNCoreError(.malformedCheckpoint, "the checkpoint has no tensor '\(spec.name)'")
            }
            guard entry.shape == spec.pytorchShape else {
                throw RNNCoreError(
                    .shapeMismatch, "tensor '\(spec.name)' has shape \(entry.shape), expected \(spec.pytorchShape)")
            }
            try model.setPyTorchTensor(named: spec.name, to: try file.floats(spec.name))
        }
        self.model = model
        self.vocabulary = try Self.decodeVocabulary(meta, size: configuration.vocabularySize)
        self.metadata = meta
    }

    private static func integer(_ meta: [String: String], _ key: String) throws(RNNCoreError) -> Int? {
        guard let text = meta[key] else { return nil }
        guard let v = Int(text) else {
            throw RNNCoreError(.malformedCheckpoint, "metadata '\(key)' is '\(text)', not an integer")
        }
        return v
    }

    private static func inferConfiguration(_ file: SafeTensors) throws(RNNCoreError) -> ModelConfiguration {
        let meta = file.metadata
        guard let decoder = file.entries["out.weight"], decoder.shape.count == 2 else {
            throw RNNCoreError(.malformedCheckpoint, "the checkpoint has no 2-D decoder tensor 'out.weight'")
        }
        guard let hh = file.entries["rnn.weight_hh_l0"], hh.shape.count == 2, hh.shape[1] > 0 else {
            throw RNNCoreError(.malformedCheckpoint, "the checkpoint has no 2-D tensor 'rnn.weight_hh_l0'")
        }
        let hidden = try integer(meta, "hidden_size") ?? hh.shape[1]
        let gates = hh.shape[0] / hidden
        var architecture: CellArchitecture
        if let name = meta["architecture"] {
            guard let a = CellArchitecture(rawValue: name) else {
                throw RNNCoreError(.unsupportedCheckpoint, "unknown architecture '\(name)'")
            }
            architecture = a
        } else {
            switch gates {
            case 1: architecture = .rnnTanh
            case 3: architecture = .gru
            case 4: architecture = .lstm
            default:
                throw RNNCoreError(
                    .malformedCheckpoint, "rnn.weight_hh_l0 has \(hh.shape[0]) rows: not 1, 3 or 4 gates of \(hidden)")
            }
        }
        var layers = 0
        while file.entries["rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        layers = try integer(meta, "layers") ?? layers
        let embedding = try integer(meta, "embedding_size") ?? (file.entries["emb.weight"]?.shape.last ?? 0)
        let dropout = meta["dropout"].flatMap(Float.init) ?? 0
        let configuration = ModelConfiguration(
            architecture: architecture, layers: layers, hiddenSize: hidden,
            vocabularySize: try integer(meta, "vocabulary_size") ?? decoder.shape[0], embeddingSize: embedding,
            dropout: dropout)
        try configuration.validate()
        return configuration
    }

    private static func decodeVocabulary(_ meta: [String: String], size: Int) throws(RNNCoreError) -> Vocabulary {
        let kind = meta["vocabulary_kind"] ?? (meta["vocabulary"] == nil && size == 256 ? "bytes" : "characters")
        if kind == "bytes" {
            guard size == 256 else {
                throw RNNCoreError(.shapeMismatch, "a byte vocabulary needs 256 symbols, the model has \(size)")
            }
            return .bytes
        }
        guard kind == "characters", let text = meta["vocabulary"] else {
            throw RNNCoreError(
                .malformedCheckpoint,
                "the checkpoint has no vocabulary: add __metadata__ 'vocabulary' as a JSON array of code points")
        }
        let values = (try? JSONParser.parse(text))?.arrayValue ?? []
        let scalars = values.compactMap { $0.intValue.flatMap { UInt32(exactly: $0) }.flatMap(Unicode.Scalar.init) }
        guard scalars.count == values.count, scalars.count == size else {
            throw RNNCoreError(
                .shapeMismatch,
                "the vocabulary metadata lists \(values.count) valid code points; the model has \(size) symbols")
        }
        return Vocabulary(restoring: scalars)
    }
}
