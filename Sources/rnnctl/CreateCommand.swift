import ArgumentParser
import RNNProtocol

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a model.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model's name ([A-Za-z0-9][A-Za-z0-9._-]*).") var model: String
    @Option(help: "rnn-tanh, rnn-relu, lstm or gru.") var arch: String?
    @Option(help: "Stacked layers.") var layers: Int?
    @Option(help: "Hidden state width.") var hidden: Int?
    @Option(help: "Embedding width (0 = one-hot).") var embedding: Int?
    @Option(help: "Dropout between layers.") var dropout: Double?
    @Option(help: "bytes or characters.") var vocabulary: String?
    @Option(help: "A file whose characters make the vocabulary.") var corpus: String?
    @Option(help: "Inline text whose characters make the vocabulary.") var text: String?
    @Option(help: "How far the vocabulary may grow.") var maxVocabulary: Int?
    @Option(help: "sgd, adagrad, rmsprop or adam.") var optimizer: String?
    @Option(help: "Learning rate.") var lr: Double?
    @Option(help: "norm, value or none.") var clip: String?
    @Option(help: "The clipping bound.") var clipValue: Double?
    @Option(help: "Default batch size for training.") var batch: Int?
    @Option(help: "Default sequence length for training.") var seq: Int?
    @Option(help: "Seed of the initial weights.") var seed: Int?

    func run() throws {
        var p = ParamBuilder()
        p.set("model", model)
        p.set("architecture", arch)
        p.set("layers", layers)
        p.set("hidden_size", hidden)
        p.set("embedding_size", embedding)
        p.set("dropout", dropout)
        p.set("vocabulary", vocabulary)
        p.set("corpus", corpusSpec(corpus, text: text))
        p.set("max_vocabulary", maxVocabulary)
        p.set("optimizer", optimizer)
        p.set("learning_rate", lr)
        p.set("clip", clip)
        p.set("clip_value", clipValue)
        p.set("batch_size", batch)
        p.set("seq_length", seq)
        p.set("seed", seed)
        let r = try global.call(try global.connect(), "model.create", p.params)
        global.output(r) {
            print(
                "created \(model): \(r["architecture"]?.text ?? "") \(r["layers"]?.text ?? "")x\(r["hidden_size"]?.text ?? ""), "
                    + "\(r["parameters"]?.text ?? "?") parameters, vocabulary \(r["vocabulary"]?.text ?? "") (\(r["vocabulary_size"]?.text ?? "?"))"
            )
        }
    }
}
