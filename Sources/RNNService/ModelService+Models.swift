import Logging
import RNNCore
import RNNJSON

/// The methods that create, list, describe and move models.
extension ModelService {
    /// Creates, saves and loads a new model.
    package func create(_ p: ModelBlueprint) async throws(ServiceError) -> ModelReport {
        try await withReservedName(p.name) { () async throws(ServiceError) in try await createReserved(p) }
    }

    /// Runs `body` with `name` claimed for a new model (create, import), releasing it after.
    private func withReservedName(
        _ name: String, _ body: () async throws(ServiceError) -> ModelReport
    ) async throws(ServiceError) -> ModelReport {
        try ModelName.check(name)
        try await registry.reserve(name)
        do throws(ServiceError) {
            let report = try await body()
            await registry.release(name)
            return report
        } catch {
            await registry.release(name)
            throw error
        }
    }

    /// `create` once the name is reserved.
    private func createReserved(_ p: ModelBlueprint) async throws(ServiceError) -> ModelReport {
        let architecture = p.architecture
        let maxVocabulary = p.maxVocabulary ?? limits.maxVocabulary
        guard maxVocabulary <= limits.maxVocabulary else {
            throw ServiceError.invalid(
                "max_vocabulary", "must be at most \(limits.maxVocabulary) (limits.max_vocabulary)")
        }
        let vocabulary: Vocabulary
        switch p.vocabulary {
        case .bytes: vocabulary = .bytes
        case .characters:
            var text = ""
            if let spec = p.corpus { text = try await corpusPrefix(spec, limit: 16 << 20) }
            vocabulary = Vocabulary(charactersOf: text)
            guard vocabulary.count <= maxVocabulary else {
                throw ServiceError.invalid(
                    "corpus", "has \(vocabulary.count) distinct characters, more than max_vocabulary \(maxVocabulary)")
            }
        }
        let randomSeed = Int(registry.nextSeed())
        let seed = p.seed ?? randomSeed
        var record = ModelRecord(
            p.hyperparameters, initialization: p.initialization, maxVocabulary: maxVocabulary, seed: seed)
        record.spoolConsumed = 0
        do {
            try record.trainingSettings.validate()
        } catch {
            throw ServiceError(.invalidArgument, error.message)
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
            throw ServiceError(
                .limitReached,
                "model '\(p.name)' would have about \(rough) parameters, more than limits.max_parameters = "
                    + "\(limits.maxParameters); use fewer layers or smaller sizes, or raise the limit",
                details: ["parameter": .string("hidden_size")])
        }
        try checkParameterLimit(ParameterLayout(configuration).count, what: "model '\(p.name)'")
        try checkScratch(batch: record.batchSize, steps: record.seqLength, configuration: configuration)
        let model: CharRNN
        do {
            model = try CharRNN(
                configuration: configuration, initialization: p.initialization.scheme, seed: UInt64(seed))
        } catch {
            throw ServiceError(.invalidArgument, error.message)
        }
        let optimizerState = Optimizer(kind: record.optimizerKind, parameterCount: model.parameterCount)
        let store = registry.store
        let saveRecord = record
        let finalVocabulary = vocabulary
        try await registry.makeRoom()
        try await blocking { () throws(ServiceError) in
            _ = try store.create(
                model, vocabulary: finalVocabulary, optimizer: optimizerState, record: saveRecord, name: p.name)
        }
        let host = try await registry.start(
            name: p.name, model: model, vocabulary: vocabulary, optimizer: optimizerState, record: record)
        await registry.add(host)
        logger.info("created model \(p.name)", metadata: ["model": "\(p.name)"])
        return host.report
    }

    /// Refuses a model of more than `limits.max_parameters` parameters before it is allocated.
    func checkParameterLimit(_ count: Int, what: String) throws(ServiceError) {
        guard count <= limits.maxParameters else {
            throw ServiceError(
                .limitReached,
                "\(what) would have \(count) parameters, more than limits.max_parameters = \(limits.maxParameters); "
                    + "use fewer layers or a smaller hidden_size, or raise the limit",
                details: ["parameter": .string("hidden_size"), "parameters": .integer(count)])
        }
    }

    /// Refuses a batch shape whose training scratch (activations and gradients of every
    /// step, which grow with batch x steps) could not be allocated within the limits.
    func checkScratch(batch: Int, steps: Int, configuration: ModelConfiguration) throws(ServiceError) {
        let rows = Double(batch) * Double(steps)
        let h = Double(configuration.hiddenSize)
        let perRow =
            Double(configuration.layers) * Double(configuration.architecture.gateCount + 4) * h * 2
            + Double(configuration.vocabularySize)
        let bytes = rows * perRow * 4
        let allowed = 16 * Double(limits.maxParameters) + Double(1 << 30)
        guard bytes <= allowed else {
            throw ServiceError(
                .limitReached,
                "batch_size \(batch) x seq_length \(steps) would need about \(Int(bytes / 1_048_576)) MiB of training "
                    + "scratch, more than the \(Int(allowed / 1_048_576)) MiB that limits.max_parameters allows; "
                    + "use a smaller batch or sequence", details: ["parameter": .string("batch_size")])
        }
    }

    /// Every model, by name, as last published.
    package func list() -> [ModelReport] {
        registry.directory.hosts.values.sorted { $0.name < $1.name }.map(\.report)
    }

    /// One model as last published, answered without waiting for its worker.
    package func info(_ name: String) throws(ServiceError) -> ModelReport {
        try registry.publishedHost(name).report
    }

    /// Unloads a model, cancelling its job, and removes it with its files.
    package func delete(_ name: String) async throws(ServiceError) {
        let host = try registry.host(name)
        host.currentWorker?.currentJob?.cancel()
        await registry.unloadWorker(host)
        await registry.remove(name)
        let store = registry.store
        try await blocking { () throws(ServiceError) in try store.delete(name) }
        logger.info("deleted model \(name)", metadata: ["model": "\(name)"])
    }

    /// Loads a model (unloading the least recently used idle one at the limit).
    package func load(_ name: String) async throws(ServiceError) -> ModelReport {
        try await registry.loadedHost(name).report
    }

    /// Checkpoints and unloads an idle model.
    package func unload(_ name: String) async throws(ServiceError) -> ModelReport {
        let host = try registry.host(name)
        if let job = host.currentWorker?.currentJob {
            throw ServiceError(
                .modelBusy, "model '\(name)' is training (job \(job.id)); cancel it first (train.cancel, rnnctl cancel)"
            )
        }
        await registry.unloadWorker(host)
        return host.report
    }

    /// Checkpoints a model now; returns where and how many bytes.
    package func save(_ name: String) async throws(ServiceError) -> (path: String, bytes: Int) {
        let host = try await registry.loadedHost(name)
        let worker = try host.runningWorker()
        let bytes = try await worker.perform { (w) throws(ServiceError) in try w.save() }
        return (host.store.modelPath(name), bytes)
    }

    /// Makes a new model `name` from a checkpoint file in `paths.import_directories`.
    package func importModel(_ name: String, from path: String) async throws(ServiceError) -> ModelReport {
        try await withReservedName(name) { () async throws(ServiceError) in try await importReserved(name, path) }
    }

    /// `model.import` once the name is reserved.
    private func importReserved(_ name: String, _ path: String) async throws(ServiceError) -> ModelReport {
        let (folder, relative) = try BeneathFolder.locate(
            path, in: configuration.paths.importDirectories, what: "import")
        let cap = limits.maxImportBytes
        let bytes = try await blocking { () throws(ServiceError) in try folder.readRegularFile(relative, maxBytes: cap)
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(decoding: bytes)
        } catch {
            throw ServiceError(.modelUnloadable, "\(path) cannot be imported: \(error.message)")
        }
        let importSeed = Int(registry.nextSeed())
        let record = ModelRecord(
            TrainingHyperparameters(), initialization: .charrnn,
            maxVocabulary: max(limits.maxVocabulary, checkpoint.vocabulary.count), seed: importSeed)
        let optimizer = Optimizer(kind: record.optimizerKind, parameterCount: checkpoint.model.parameterCount)
        try checkParameterLimit(checkpoint.model.parameterCount, what: "imported model '\(name)'")
        try await registry.makeRoom()
        let store = registry.store
        try await blocking { () throws(ServiceError) in
            _ = try store.create(
                checkpoint.model, vocabulary: checkpoint.vocabulary, optimizer: optimizer, record: record, name: name
            )
        }
        let host = try await registry.start(
            name: name, model: checkpoint.model, vocabulary: checkpoint.vocabulary, optimizer: optimizer,
            record: record)
        await registry.add(host)
        return host.report
    }

    /// Writes a model's weights and vocabulary (no optimizer state) as a checkpoint file in
    /// `paths.export_directories`; returns where and how many bytes.
    package func export(_ name: String, to path: String) async throws(ServiceError) -> (path: String, bytes: Int) {
        let host = try await registry.loadedHost(name)
        let (folder, relative) = try BeneathFolder.locate(
            path, in: configuration.paths.exportDirectories, what: "export")
        guard let snapshot = host.snapshot else { throw .unloading(name) }
        let bytes = Checkpoint(model: snapshot.model, vocabulary: snapshot.vocabulary).encoded()
        try await blocking { () throws(ServiceError) in
            try folder.writeAtomically(relative, bytes: bytes, mode: 0o600)
        }
        return (path, bytes.count)
    }
}

/// Named snapshots: taken, listed, restored and removed.
extension ModelService {
    /// Keeps the model as it is now under `name` (`step-<steps>` when nil).
    package func snapshot(_ model: String, name: String?) async throws(ServiceError) -> SnapshotSummary {
        let host = try await registry.loadedHost(model)
        let worker = try host.runningWorker()
        return try await worker.perform { (w) throws(ServiceError) in
            try w.takeSnapshot(name ?? "step-\(w.record.steps)")
        }
    }

    /// The model's snapshots, oldest first, and how many it may keep.
    package func snapshots(_ model: String) async throws(ServiceError) -> (list: [SnapshotSummary], limit: Int) {
        let host = try registry.publishedHost(model)
        let store = host.store
        let list = try await blocking { () throws(ServiceError) in store.listSnapshots(model) }
        return (list, limits.maxSnapshots)
    }

    /// Puts back snapshot `name`, bit for bit.
    package func restore(_ model: String, name: String) async throws(ServiceError) -> ModelReport {
        let host = try await registry.loadedHost(model)
        let worker = try host.runningWorker()
        try await worker.perform { (w) throws(ServiceError) in try w.restoreSnapshot(name) }
        return host.report
    }

    /// Removes snapshot `name`.
    package func deleteSnapshot(_ model: String, name: String) async throws(ServiceError) {
        let host = try registry.publishedHost(model)
        // Through the worker when it runs, so a delete never races a snapshot of the same name.
        if let worker = host.currentWorker {
            try await worker.perform { (w) throws(ServiceError) in try w.host.store.deleteSnapshot(name, of: model) }
            return
        }
        let store = host.store
        try await blocking { () throws(ServiceError) in try store.deleteSnapshot(name, of: model) }
    }
}
