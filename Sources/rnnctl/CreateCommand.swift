import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a model.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model's name (1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit).")
    var model: String
    @Option(help: "The recurrent cell (default lstm).") var arch: Architecture?
    @Option(help: "Stacked layers (default 2).") var layers: Int?
    @Option(help: "Hidden state width (default 128).") var hidden: Int?
    @Option(help: "Embedding width (0 = one-hot, the default).") var embedding: Int?
    @Option(help: "Dropout between layers.") var dropout: Double?
    @Option(help: "Symbols: the corpus's characters (default) or bytes.") var vocabulary: VocabularyKind?
    @Option(help: "A file whose characters make the vocabulary.") var corpus: String?
    @Option(help: "Inline text whose characters make the vocabulary.") var text: String?
    @Option(help: "How far the vocabulary may grow.") var maxVocabulary: Int?
    @Option(help: "The optimizer (default rmsprop).") var optimizer: OptimizerName?
    @Option(help: "Learning rate (default 0.002, 0.1 for adagrad).") var lr: Double?
    @Option(help: "Gradient clipping (default norm).") var clip: ClipMode?
    @Option(help: "The clipping bound (default 5).") var clipValue: Double?
    @Option(help: "Default batch size for training (default 50).") var batch: Int?
    @Option(help: "Default sequence length for training (default 50).") var seq: Int?
    @Option(help: "Seed of the initial weights.") var seed: Int?

    func run() throws {
        var p = ModelCreate.Params(
            model: model, corpus: corpusSpec(corpus, text: text), maxVocabulary: maxVocabulary, learningRate: lr,
            seed: seed)
        if let arch { p.architecture = arch }
        if let layers { p.layers = layers }
        if let hidden { p.hiddenSize = hidden }
        if let embedding { p.embeddingSize = embedding }
        if let dropout { p.dropout = dropout }
        if let vocabulary { p.vocabulary = vocabulary }
        if let optimizer { p.optimizer = optimizer }
        if let clip { p.clip = clip }
        if let clipValue { p.clipValue = clipValue }
        if let batch { p.batchSize = batch }
        if let seq { p.seqLength = seq }
        let checked = try global.perform { try p.validated() }
        let client = try global.connect()
        let r = try global.perform { try client.modelCreate(checked) }
        global.output(r.wire) {
            print(
                "created \(model): \(r.architecture.rawValue) \(r.layers)x\(r.hiddenSize), "
                    + "\(r.parameters) parameters, vocabulary \(r.vocabulary.rawValue) (\(r.vocabularySize))")
        }
    }
}
