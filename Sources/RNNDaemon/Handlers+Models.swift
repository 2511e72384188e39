import Logging
import RNNCore
import RNNJSON
import RNNProtocol

/// The methods that create, list, describe and move models.
extension Handlers {
    func create(_ p: ModelCreate.Params) async throws(DaemonError) -> ModelDetails {
        try await withReservedName(p.model) { () async throws(DaemonError) in try await createReserved(p) }
    }

    /// Runs `body` with `name` claimed for a new model (create, import), releasing it after.
    private func withReservedName(
        _ name: String, _ body: () async throws(DaemonError) -> ModelDetails
    ) async throws(DaemonError) -> ModelDetails {
        try ModelName.check(name)
        try await registry.reserve(name)
        do throws(DaemonError) {
            let details = try await body()
            await registry.release(name)
            return details
        } catch {
            await registry.release(name)
            throw error
        }
    }

    /// `create` once the name is reserved.
    private func createReserved(_ p: ModelCreate.Params) async throws(DaemonError) -> ModelDetails {
        let architecture = CellArchitecture(p.architecture)
        let maxVocabulary = p.maxVocabulary ?? limits.maxVocabulary
        guard maxVocabulary <= limits.maxVocabulary else {
            throw invalid("max_vocabulary", "must be at most \(limits.maxVocabulary) (limits.max_vocabulary)")
        }
        let vocabulary: Vocabulary
        switch p.vocabulary {
        case .bytes: vocabulary = .bytes
        case .characters:
            var text = ""
            if let spec = p.corpus { text = try await corpusPrefix(spec, limit: 16 << 20) }
            vocabulary = Vocabulary(charactersOf: text)
            guard vocabulary.count <= maxVocabulary else {
                throw invalid(
                    "corpus", "has \(vocabulary.count) distinct characters, more than max_vocabulary \(maxVocabulary)")
            }
        }
        let initialization: ParameterInitialization =
            switch p.initialization {
            case .charrnn: .charRNN
            case .gaussian: .gaussian(standardDeviation: 0.01)
            case .pytorch: .pytorchDefault
            }
        let randomSeed = Int(await registry.nextSeed())
        let seed = p.seed ?? randomSeed
        var record = ModelRecord(
            optimizer: p.optimizer, learningRate: p.learningRate ?? (p.optimizer == .adagrad ? 0.1 : 2e-3),
            momentum: p.momentum, alpha: p.alpha, beta1: p.beta1, beta2: p.beta2,
            epsilon: p.epsilon, clip: p.clip, clipValue: p.clipValue,
            learningRateDecay: p.learningRateDecay, learningRateDecayEvery: p.learningRateDecayEvery,
            initialization: p.initialization, batchSize: p.batchSize, seqLength: p.seqLength,
            maxVocabulary: maxVocabulary, seed: seed)
        record.spoolConsumed = 0
        do {
            try record.trainingSettings.validate()
        } catch {
            throw DaemonError(.invalidParams, error.message)
        }
        let configuration = ModelConfiguration(
            architecture: architecture, layers: p.layers, hiddenSize: p.hiddenSize,
            vocabularySize: vocabulary.count, embeddingSize: p.embeddingSize, dropout: Float(p.dropout))
        // In Double first: absurd sizes (embedding_size 2^62) must be refused, not overflow.
        let (h, e, g, v) = (
            Double(configuration.hiddenSize), Double(configuration.embeddingSize),
            Double(architecture.gateCount), Double(vocabulary.count)
        )
        let rough = Double(configuration.layers) * g * h * (2 * h + 2) + (e + h + 1) * v + e * g * h
        guard rough.isFinite, rough <= Double(limits.maxParameters) * 2 + 1e6, configuration.embeddingSize >= 0 else {
            throw DaemonError(
                .limitReached,
                "model '\(p.model)' would have about \(rough) parameters, more than limits.max_parameters = "
                    + "\(limits.maxParameters); use fewer layers or smaller sizes, or raise the limit",
                details: ["parameter": .string("hidden_size")])
        }
        try checkParameterLimit(ParameterLayout(configuration).count, what: "model '\(p.model)'")
        try checkScratch(batch: record.batchSize, steps: record.seqLength, configuration: configuration)
        let model: CharRNN
        do {
            model = try CharRNN(configuration: configuration, initialization: initialization, seed: UInt64(seed))
        } catch {
            throw DaemonError(.invalidParams, error.message)
        }
        let optimizerState = Optimizer(kind: record.optimizerKind, parameterCount: model.parameterCount)
        let store = await registry.store
        let saveRecord = record
        let finalVocabulary = vocabulary
        try await registry.makeRoom()
        try await blocking { () throws(DaemonError) in
            _ = try store.create(
                model, vocabulary: finalVocabulary, optimizer: optimizerState, record: saveRecord, name: p.model)
        }
        let host = try await registry.start(
            name: p.model, model: model, vocabulary: vocabulary, optimizer: optimizerState, record: record)
        await registry.add(host)
        logger.info("created model \(p.model)", metadata: ["model": "\(p.model)"])
        return host.details
    }

    /// Refuses a model of more than `limits.max_parameters` parameters before it is allocated.
    func checkParameterLimit(_ count: Int, what: String) throws(DaemonError) {
        guard count <= limits.maxParameters else {
            throw DaemonError(
                .limitReached,
                "\(what) would have \(count) parameters, more than limits.max_parameters = \(limits.maxParameters); "
                    + "use fewer layers or a smaller hidden_size, or raise the limit",
                details: ["parameter": .string("hidden_size"), "parameters": .integer(count)])
        }
    }

    /// Refuses a batch shape whose training scratch (activations and gradients of every
    /// step, which grow with batch x steps) could not be allocated within the limits.
    func checkScratch(batch: Int, steps: Int, configuration: ModelConfiguration) throws(DaemonError) {
        let rows = Double(batch) * Double(steps)
        let h = Double(configuration.hiddenSize)
        let perRow =
            Double(configuration.layers) * Double(configuration.architecture.gateCount + 4) * h * 2
            + Double(configuration.vocabularySize)
        let bytes = rows * perRow * 4
        let allowed = 16 * Double(limits.maxParameters) + Double(1 << 30)
        guard bytes <= allowed else {
            throw DaemonError(
                .limitReached,
                "batch_size \(batch) x seq_length \(steps) would need about \(Int(bytes / 1_048_576)) MiB of training "
                    + "scratch, more than the \(Int(allowed / 1_048_576)) MiB that limits.max_parameters allows; "
                    + "use a smaller batch or sequence", details: ["parameter": .string("batch_size")])
        }
    }

    func list() -> ModelListing {
        let hosts = registry.directory.hosts.values
        return ModelListing(models: hosts.sorted { $0.name < $1.name }.map(\.summary))
    }

    func info(_ name: String) throws(DaemonError) -> ModelDetails {
        try registry.publishedHost(name).details
    }

    func delete(_ name: String) async throws(DaemonError) -> Done {
        let host = try await registry.host(name)
        host.currentWorker?.currentJob?.cancel()
        await registry.unloadWorker(host)
        await registry.remove(name)
        let store = await registry.store
        try await blocking { () throws(DaemonError) in try store.delete(name) }
        logger.info("deleted model \(name)", metadata: ["model": "\(name)"])
        return Done(done: true)
    }

    func load(_ name: String) async throws(DaemonError) -> ModelDetails {
        try await registry.loadedHost(name).details
    }

    func unload(_ name: String) async throws(DaemonError) -> ModelDetails {
        let host = try await registry.host(name)
        if let job = host.currentWorker?.currentJob {
            throw DaemonError(.modelBusy, "model '\(name)' is training (job \(job.id)); train.cancel it first")
        }
        await registry.unloadWorker(host)
        return host.details
    }

    func save(_ name: String) async throws(DaemonError) -> SaveResult {
        let host = try await registry.loadedHost(name)
        guard let worker = host.currentWorker else {
            throw DaemonError(.modelBusy, "model '\(name)' is being unloaded")
        }
        let bytes = try await worker.perform { (w) throws(DaemonError) in try w.save() }
        return SaveResult(path: host.store.modelPath(name), bytes: bytes)
    }

    func importModel(_ p: ModelImport.Params) async throws(DaemonError) -> ModelDetails {
        try await withReservedName(p.model) { () async throws(DaemonError) in try await importReserved(p) }
    }

    /// `model.import` once the name is reserved.
    private func importReserved(_ p: ModelImport.Params) async throws(DaemonError) -> ModelDetails {
        let (folder, relative) = try BeneathFolder.locate(
            p.path, in: configuration.paths.importDirectories, what: "import")
        let cap = limits.maxImportBytes
        let bytes = try await blocking { () throws(DaemonError) in try folder.readRegularFile(relative, maxBytes: cap) }
        let path = p.path
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(decoding: bytes)
        } catch {
            throw DaemonError(.modelUnloadable, "\(path) cannot be imported: \(error.message)")
        }
        let importSeed = Int(await registry.nextSeed())
        let record = ModelRecord(
            optimizer: .rmsprop, learningRate: 2e-3, momentum: 0.9, alpha: 0.95, beta1: 0.9, beta2: 0.999,
            epsilon: 1e-8,
            clip: .norm, clipValue: 5, learningRateDecay: 1, learningRateDecayEvery: 1000, initialization: .charrnn,
            batchSize: 50, seqLength: 50, maxVocabulary: max(limits.maxVocabulary, checkpoint.vocabulary.count),
            seed: importSeed)
        let optimizer = Optimizer(kind: record.optimizerKind, parameterCount: checkpoint.model.parameterCount)
        try checkParameterLimit(checkpoint.model.parameterCount, what: "imported model '\(p.model)'")
        try await registry.makeRoom()
        let store = await registry.store
        try await blocking { () throws(DaemonError) in
            _ = try store.create(
                checkpoint.model, vocabulary: checkpoint.vocabulary, optimizer: optimizer, record: record, name: p.model
            )
        }
        let host = try await registry.start(
            name: p.model, model: checkpoint.model, vocabulary: checkpoint.vocabulary, optimizer: optimizer,
            record: record)
        await registry.add(host)
        return host.details
    }

    func export(_ p: ModelExport.Params) async throws(DaemonError) -> SaveResult {
        let host = try await registry.loadedHost(p.model)
        let (folder, relative) = try BeneathFolder.locate(
            p.path, in: configuration.paths.exportDirectories, what: "export")
        let path = p.path
        guard let snapshot = host.snapshot else {
            throw DaemonError(.modelBusy, "model '\(p.model)' is being unloaded")
        }
        let bytes = Checkpoint(model: snapshot.model, vocabulary: snapshot.vocabulary).encoded()
        try await blocking { () throws(DaemonError) in
            try folder.writeAtomically(relative, bytes: bytes, mode: 0o600)
        }
        return SaveResult(path: path, bytes: bytes.count)
    }
}
