import RNNCore
import RNNJSON
import RNNProtocol
import RNNService

/// The contract's methods (the generated ``RPCService``) bound to the service: parameters
/// arrive decoded and validated, each binding turns them into the service's terms, calls it,
/// and turns its answer back into the contract's result. Nothing else happens here.
struct ContractBindings: RPCService {
    let service: ModelService
    let started: ContinuousClock.Instant
    let openRPCDocument: JSON
    /// Asks the daemon to shut down (checkpointing everything) after answering.
    let requestShutdown: @Sendable () -> Void

    func rpcDiscover(_ params: RPCDiscover.Params, _ call: RPCCall) throws -> JSON { openRPCDocument }

    func daemonStatus(_ params: DaemonStatus.Params, _ call: RPCCall) throws -> StatusReport {
        StatusReport(service, started: started)
    }

    func daemonMetrics(_ params: DaemonMetrics.Params, _ call: RPCCall) throws -> MetricsText {
        MetricsText(
            text: MetricsExport.shared.text(service, uptimeSeconds: seconds(since: started)),
            contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    func daemonShutdown(_ params: DaemonShutdown.Params, _ call: RPCCall) async throws -> ShutdownResult {
        requestShutdown()
        return ShutdownResult(stopping: true)
    }

    func modelCreate(_ params: ModelCreate.Params, _ call: RPCCall) async throws -> ModelDetails {
        ModelDetails(try await service.create(ModelBlueprint(params)))
    }

    func modelList(_ params: ModelList.Params, _ call: RPCCall) throws -> ModelListing {
        ModelListing(models: service.list().map(ModelSummary.init))
    }

    func modelInfo(_ params: ModelInfo.Params, _ call: RPCCall) throws -> ModelDetails {
        ModelDetails(try service.info(params.model))
    }

    func modelDelete(_ params: ModelDelete.Params, _ call: RPCCall) async throws -> Done {
        try await service.delete(params.model)
        return Done(done: true)
    }

    func modelLoad(_ params: ModelLoad.Params, _ call: RPCCall) async throws -> ModelDetails {
        ModelDetails(try await service.load(params.model))
    }

    func modelUnload(_ params: ModelUnload.Params, _ call: RPCCall) async throws -> ModelDetails {
        ModelDetails(try await service.unload(params.model))
    }

    func modelSave(_ params: ModelSave.Params, _ call: RPCCall) async throws -> SaveResult {
        let saved = try await service.save(params.model)
        return SaveResult(path: saved.path, bytes: saved.bytes)
    }

    func modelImport(_ params: ModelImport.Params, _ call: RPCCall) async throws -> ModelDetails {
        ModelDetails(try await service.importModel(params.model, from: params.path))
    }

    func modelExport(_ params: ModelExport.Params, _ call: RPCCall) async throws -> SaveResult {
        let saved = try await service.export(params.model, to: params.path)
        return SaveResult(path: saved.path, bytes: saved.bytes)
    }

    func modelSnapshot(_ params: ModelSnapshot.Params, _ call: RPCCall) async throws -> SnapshotInfo {
        SnapshotInfo(try await service.snapshot(params.model, name: params.name))
    }

    func modelSnapshots(_ params: ModelSnapshots.Params, _ call: RPCCall) async throws -> SnapshotList {
        let (list, limit) = try await service.snapshots(params.model)
        return SnapshotList(snapshots: list.map(SnapshotInfo.init), limit: limit)
    }

    func modelRestore(_ params: ModelRestore.Params, _ call: RPCCall) async throws -> ModelDetails {
        ModelDetails(try await service.restore(params.model, name: params.name))
    }

    func modelSnapshotDelete(_ params: ModelSnapshotDelete.Params, _ call: RPCCall) async throws -> Done {
        try await service.deleteSnapshot(params.model, name: params.name)
        return Done(done: true)
    }

    func sample(_ params: Sample.Params, _ call: RPCCall) async throws -> SampleResult {
        let options = SamplingOptions(
            temperature: Float(params.temperature), topK: params.topK, topP: params.topP.map(Float.init),
            argmax: params.argmax, seed: 0, prime: params.prime, stop: params.stop ?? [], length: params.length)
        var stream: SampleStream?
        if let send = call.stream, let offer = call.offer {
            stream = SampleStream(
                offer: { text in
                    switch offer(.object(["text": .string(text)])) {
                    case .sent: .sent
                    case .full: .full
                    case .gone: .gone
                    }
                },
                send: { text in send(.object(["text": .string(text)])) })
        }
        let outcome = try await service.sample(
            params.model, options: options, seed: params.seed.map(UInt64.init), stream: stream, admin: call.isAdmin)
        return SampleResult(outcome)
    }

    func evaluate(_ params: Evaluate.Params, _ call: RPCCall) async throws -> EvaluateResult {
        guard (params.text == nil) != (params.corpus == nil) else {
            throw ServiceError.invalid("text", "give exactly one of text or corpus")
        }
        if let spec = params.corpus {
            return EvaluateResult(
                try await service.evaluateAnswers(params.model, corpus: CorpusRequest(spec), samples: params.samples))
        }
        return EvaluateResult(try await service.evaluate(params.model, text: params.text ?? ""))
    }

    func score(_ params: Score.Params, _ call: RPCCall) async throws -> ScoreResult {
        let outcome = try await service.score(
            params.model, texts: params.texts, asOneStream: params.asOneStream, surprisal: params.surprisal)
        return ScoreResult(
            scores: outcome.scores.map { score in
                let bits = score.nats * LossSummary.bitsPerNat
                return TextScore(
                    characters: score.characters,
                    bitsPerCharacter: score.characters > 0 ? bits / Double(score.characters) : 0,
                    totalBits: bits, surprisal: score.surprisal?.map { Double($0) * LossSummary.bitsPerNat })
            }, unit: outcome.perByte ? .byte : .character, charactersPerSecond: outcome.charactersPerSecond)
    }

    func trainStart(_ params: TrainStart.Params, _ call: RPCCall) async throws -> JobInfo {
        var plan = TrainingPlan(
            steps: params.steps, epochs: params.epochs, seconds: params.seconds, batchSize: params.batchSize,
            seqLength: params.seqLength, learningRate: params.learningRate, clipValue: params.clipValue,
            validationFraction: params.validationFraction, validateEvery: params.validateEvery,
            checkpointEvery: params.checkpointEvery)
        plan.keepBest = params.keepBest
        plan.patience = params.patience
        plan.minDelta = params.minDelta
        plan.plateauFactor = params.plateauFactor
        plan.plateauPatience = params.plateauPatience
        plan.minLearningRate = params.minLearningRate
        plan.snapshotBest = params.snapshotBest
        let progress = call.stream.map { notify in
            { @Sendable (progress: JobProgress) in _ = notify(JobInfo(progress).wire) }
        }
        return JobInfo(
            try await service.startTraining(
                params.model, corpus: CorpusRequest(params.corpus), plan: plan, progress: progress))
    }

    func trainStatus(_ params: TrainStatus.Params, _ call: RPCCall) throws -> JobInfo {
        JobInfo(try service.jobProgress(params.job))
    }

    func trainCancel(_ params: TrainCancel.Params, _ call: RPCCall) async throws -> JobInfo {
        JobInfo(try await service.cancelJob(params.job))
    }

    func trainList(_ params: TrainList.Params, _ call: RPCCall) throws -> JobList {
        JobList(jobs: service.jobs().map(JobInfo.init))
    }

    func trainFeed(_ params: TrainFeed.Params, _ call: RPCCall) async throws -> FeedResult {
        let receipt = try await service.feed(params.model, text: params.text, offset: params.offset)
        return FeedResult(
            acceptedBytes: receipt.acceptedBytes, backlogBytes: receipt.backlogBytes,
            newCharacters: receipt.newCharacters, spoolEnd: receipt.spoolEnd)
    }

    func corpusList(_ params: CorpusList.Params, _ call: RPCCall) async throws -> CorpusCatalog {
        let (plugins, problems) = await service.corpusPlugins()
        return CorpusCatalog(
            builtins: ["text", "file", "dir", "l2e", "feed"], plugins: plugins.map(PluginInfo.init),
            problems: problems)
    }
}
