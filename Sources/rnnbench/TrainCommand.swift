import ArgumentParser
import RNNCore

#if canImport(Glibc)
    import Glibc
#endif

/// Trains a model on a corpus for a time budget, reports validation loss, prints a sample.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train on a corpus (contiguous 90/10 split), report validation loss, print a sample.")

    @Option(help: "Training text (UTF-8).")
    var corpus: String = "Tests/corpora/tinyshakespeare.txt"
    @Option(help: "rnn-tanh, rnn-relu, lstm or gru.")
    var arch: String = "lstm"
    @Option var layers: Int = 2
    @Option var hidden: Int = 128
    @Option(help: "Embedding width (0 = one-hot input).")
    var embedding: Int = 0
    @Option var dropout: Float = 0
    @Option var batch: Int = 50
    @Option var seq: Int = 50
    @Option(help: "sgd, adagrad, rmsprop or adam.")
    var optim: String = "rmsprop"
    @Option var lr: Float = 2e-3
    @Option(help: "Global-norm clip (0 = none).")
    var clipNorm: Float = 5
    @Option(help: "Wall-clock training budget in seconds.")
    var seconds: Double = 120
    @Option var threads: Int = 2
    @Option var seed: UInt64 = 123
    @Option(help: "Save the model here (safetensors) when done.")
    var save: String?
    @Option var temperature: Float = 0.8

    func run() throws {
        BLAS.threadCount = threads
        print("engine \(Kernels.summary) threads=\(BLAS.threadCount)")
        guard let bytes = readFile(corpus) else { throw ValidationError("cannot read the corpus at \(corpus)") }
        guard let architecture = CellArchitecture(rawValue: arch) else {
            throw ValidationError("unknown --arch \(arch)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let vocabulary = Vocabulary(charactersOf: text)
        let tokens = vocabulary.encode(text)
        let split = tokens.count * 9 / 10
        let configuration = ModelConfiguration(
            architecture: architecture, layers: layers, hiddenSize: hidden, vocabularySize: vocabulary.count,
            embeddingSize: embedding, dropout: dropout)
        let model = try CharRNN(configuration: configuration, seed: seed)
        let kind: OptimizerKind =
            switch optim {
            case "sgd": .sgd(momentum: 0.9)
            case "adagrad": .seedAdagrad
            case "adam": .defaultAdam
            default: .charRNNRMSProp
            }
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: kind, parameterCount: model.parameterCount),
            settings: TrainingSettings(learningRate: lr, clipping: clipNorm > 0 ? .norm(clipNorm) : .none), seed: seed)
        var batcher = try SequenceBatcher(tokens: Array(tokens[..<split]), batchSize: batch, steps: seq)
        let start = monotonicSeconds()
        var nextReport = 10.0
        var recent: [Double] = []
        while monotonicSeconds() - start < seconds {
            let report = try trainer.step(batcher.next())
            recent.append(report.loss)
            if recent.count > 20 { recent.removeFirst() }
            let t = monotonicSeconds() - start
            if t >= nextReport {
                let rate = Double(report.step * batch * seq) / t
                print(
                    "t=\(Int(t))s step=\(report.step) epoch=\(batcher.epoch) train_loss=\(format(recent.reduce(0, +) / Double(recent.count))) chars_per_s=\(Int(rate))"
                )
                nextReport += 10
            }
        }
        let trained = monotonicSeconds() - start
        trainer.releaseScratch()
        let validation = try Evaluator.evaluate(
            trainer.model, tokens: Array(tokens[split...]), batchSize: batch, steps: seq)
        print(
            "result seconds=\(format(trained)) steps=\(trainer.optimizer.step) "
                + "chars_per_s=\(Int(Double(trainer.optimizer.step * batch * seq) / trained)) val_loss=\(format(validation.natsPerCharacter)) "
                + "val_bits_per_char=\(format(validation.bitsPerCharacter)) uniform_loss=\(format(_logUniform(vocabulary.count))) "
                + "peak_rss_mib=\(format(peakResidentMiB()))")
        let sampler = try Sampler(
            model: trainer.model, vocabulary: vocabulary,
            options: SamplingOptions(temperature: temperature, seed: seed, prime: "ROMEO:\n", length: 400))
        print("---- sample ----")
        print("ROMEO:\n" + String(String.UnicodeScalarView(sampler)))
        if let save {
            let bytes = Checkpoint(model: trainer.model, vocabulary: vocabulary).encoded()
            guard let f = fopen(save, "wb") else { throw ValidationError("cannot write \(save)") }
            fwrite(bytes, 1, bytes.count, f)
            fclose(f)
        }
    }
}
