import ArgumentParser
import RNNCore

/// Training and batch-1 sampling speed of each named configuration, as `key=value` lines.
struct SpeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speed", abstract: "Training and sampling characters per second, as key=value lines.")

    @Option(help: "Configurations to run (\(BenchmarkConfiguration.all.map(\.name).joined(separator: ", ")), or all).")
    var config: [String] = ["all"]

    @Option(help: "Threads of one large product.")
    var threads: Int = 2

    @Option(help: "Seconds of training to time per configuration.")
    var seconds: Double = 10

    @Option(help: "Characters to sample per configuration.")
    var sampleChars: Int = 2000

    @Option(help: "Samples stepped together for the batched sampling figure.")
    var sampleRows: Int = 16

    @Option(help: "How sampling reads large weight matrices: int8 (as rnnd by default), half or single.")
    var sampleWeights: SamplingPrecision = .int8

    @Option(help: "Training text (UTF-8).")
    var corpus: String = "Tests/corpora/tinyshakespeare.txt"

    func run() throws {
        BLAS.threadCount = threads
        guard let bytes = readFile(corpus) else { throw ValidationError("cannot read the corpus at \(corpus)") }
        let text = String(decoding: bytes, as: UTF8.self)
        let vocabulary = Vocabulary(charactersOf: text)
        let tokens = vocabulary.encode(text)
        let names = config == ["all"] ? BenchmarkConfiguration.all.map(\.name) : config
        print("engine \(Kernels.summary) threads=\(BLAS.threadCount)")
        for name in names {
            guard let c = BenchmarkConfiguration.named(name) else {
                throw ValidationError("no configuration '\(name)'")
            }
            try measure(c, vocabulary: vocabulary, tokens: tokens)
        }
    }

    private func measure(_ c: BenchmarkConfiguration, vocabulary: Vocabulary, tokens: [Int32]) throws {
        let configuration = ModelConfiguration(
            architecture: c.architecture, layers: c.layers, hiddenSize: c.hidden, vocabularySize: vocabulary.count)
        let model = try CharRNN(configuration: configuration, initialization: c.initialization, seed: 1)
        let trainer = try Trainer(
            model: model, optimizer: Optimizer(kind: c.optimizer, parameterCount: model.parameterCount),
            settings: c.settings)
        var batcher = try SequenceBatcher(tokens: tokens, batchSize: c.batch, steps: c.steps)
        for _ in 0..<3 { try trainer.step(batcher.next()) }  // warm-up: workspaces, caches
        var steps = 0
        var lossSum = 0.0
        let start = monotonicSeconds()
        var elapsed = 0.0
        while elapsed < seconds {
            lossSum += try trainer.step(batcher.next()).loss
            steps += 1
            elapsed = monotonicSeconds() - start
        }
        let trainRate = Double(steps * c.batch * c.steps) / elapsed
        let options = SamplingOptions(temperature: 0.8, seed: 7, length: sampleChars)
        let sampler = try Sampler(model: trainer.model, vocabulary: vocabulary, options: options)
        let sampleStart = monotonicSeconds()
        var produced = 0
        while sampler.next() != nil { produced += 1 }
        let samplerRate = Double(produced) / (monotonicSeconds() - sampleStart)
        // Batch 1 as rnnd serves a lone client: a one-row batch, its step spread over the
        // kernel pool when the model gains from it; in single precision too, for comparison.
        let precision = sampleWeights
        let sampleRate = try batchedSampling(trainer.model, vocabulary: vocabulary, rows: 1, precision: precision)
        let singleRate = try batchedSampling(trainer.model, vocabulary: vocabulary, rows: 1, precision: .single)
        let batchedRate = try batchedSampling(
            trainer.model, vocabulary: vocabulary, rows: sampleRows, precision: precision)
        // What sampling's rounding costs the model: the loss on the corpus's last 5,000
        // characters (training read them too; only the difference counts).
        // A model with nothing reduced (on this CPU, in this precision) changes by nothing:
        // its two evaluations would be the same.
        let heldOut = Array(tokens.suffix(5_000))
        var lossChange = 0.0
        if trainer.model.sampled(in: precision).parameters != trainer.model.parameters {
            // Through the samples' own products: int8 rounds the inputs too.
            func nats(_ precision: SamplingPrecision) throws -> Double {
                try SamplingBatch(model: trainer.model, vocabulary: vocabulary, capacity: 1, precision: precision)
                    .natsPerCharacter(of: heldOut)
            }
            lossChange = try nats(precision) - nats(.single)
        }
        print(
            "config=\(c.name) threads=\(BLAS.threadCount) params=\(model.parameterCount) batch=\(c.batch) seq=\(c.steps) "
                + "train_steps=\(steps) train_chars_per_s=\(Int(trainRate)) train_loss=\(format(lossSum / Double(max(steps, 1)))) "
                + "sample_chars=\(produced) sample_weights=\(precision.rawValue) sample_chars_per_s=\(Int(sampleRate)) "
                + "sample_single_chars_per_s=\(Int(singleRate)) sampler_chars_per_s=\(Int(samplerRate)) "
                + "sample_weights_loss_change_nats=\(lossChange) "
                + "batched_sample_rows=\(sampleRows) batched_sample_chars_per_s=\(Int(batchedRate)) "
                + "peak_rss_mib=\(format(peakResidentMiB()))"
        )
    }
}

extension SpeedCommand {
    /// Characters per second of `rows` samples stepped together in one ``SamplingBatch``
    /// (the engine alone, without the daemon around it), none of them streamed (as rnnd
    /// samples a request without `stream`).
    func batchedSampling(_ model: CharRNN, vocabulary: Vocabulary, rows: Int, precision: SamplingPrecision) throws
        -> Double
    {
        let batch = try SamplingBatch(model: model, vocabulary: vocabulary, capacity: rows, precision: precision)
        for row in 0..<rows {
            try batch.add(
                id: row, options: SamplingOptions(temperature: 0.8, seed: UInt64(row), length: sampleChars),
                streams: false)
        }
        let start = monotonicSeconds()
        var produced = 0
        while !batch.isEmpty { produced += batch.step { _ in } }
        return Double(produced) / (monotonicSeconds() - start)
    }
}

/// Four decimals.
func format(_ x: Double) -> String {
    let scaled = (x * 10_000).rounded() / 10_000
    return "\(scaled)"
}
