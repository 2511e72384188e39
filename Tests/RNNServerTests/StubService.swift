import RNNJSON
import RNNProtocol

/// A service that answers `daemon.status`, `model.list` and `sample` with canned values and
/// refuses the rest, for testing the server without models.
struct StubService: RPCService {
    struct Unimplemented: Error {}

    static let status = StatusReport(
        version: "test", pid: 1, uptimeSeconds: 2, modelsTotal: 0, modelsLoaded: 0, jobsRunning: 0, residentBytes: 0,
        stateDirectory: "/nowhere",
        limits: Limits(
            maxMessageBytes: 1, maxConnections: 1, maxLoadedModels: 1, maxSampleLength: 1, maxJobs: 1,
            maxVocabulary: 1, idleUnloadSeconds: 1),
        engine: EngineReport(
            cpu: "test", kernels: .portable, selectedBy: "test", supportedKernels: [], gemm: "kernels", threads: 1,
            samplingWeights: .single),
        sampling: SamplingReport(inProgress: 0, samples: 0, characters: 0, steps: 0, meanBatch: 0, largestBatch: 0))

    func rpcDiscover(_ params: RPCDiscover.Params, _ call: RPCCall) throws -> JSON { [:] }
    func daemonStatus(_ params: DaemonStatus.Params, _ call: RPCCall) throws -> StatusReport { Self.status }
    func daemonMetrics(_ params: DaemonMetrics.Params, _ call: RPCCall) throws -> MetricsText {
        MetricsText(text: "", contentType: "text/plain")
    }
    func daemonShutdown(_ params: DaemonShutdown.Params, _ call: RPCCall) async throws -> ShutdownResult {
        ShutdownResult(stopping: true)
    }
    func modelCreate(_ params: ModelCreate.Params, _ call: RPCCall) async throws -> ModelDetails {
        throw Unimplemented()
    }
    func modelList(_ params: ModelList.Params, _ call: RPCCall) throws -> ModelListing { ModelListing(models: []) }
    func modelInfo(_ params: ModelInfo.Params, _ call: RPCCall) throws -> ModelDetails {
        throw RPCError(.modelNotFound, "no model named '\(params.model)'")
    }
    func modelDelete(_ params: ModelDelete.Params, _ call: RPCCall) async throws -> Done { throw Unimplemented() }
    func modelLoad(_ params: ModelLoad.Params, _ call: RPCCall) async throws -> ModelDetails { throw Unimplemented() }
    func modelUnload(_ params: ModelUnload.Params, _ call: RPCCall) async throws -> ModelDetails {
        throw Unimplemented()
    }
    func modelSave(_ params: ModelSave.Params, _ call: RPCCall) async throws -> SaveResult { throw Unimplemented() }
    func modelImport(_ params: ModelImport.Params, _ call: RPCCall) async throws -> ModelDetails {
        throw Unimplemented()
    }
    func modelSnapshot(_ params: ModelSnapshot.Params, _ call: RPCCall) async throws -> SnapshotInfo {
        throw Unimplemented()
    }
    func modelSnapshots(_ params: ModelSnapshots.Params, _ call: RPCCall) async throws -> SnapshotList {
        throw Unimplemented()
    }
    func modelRestore(_ params: ModelRestore.Params, _ call: RPCCall) async throws -> ModelDetails {
        throw Unimplemented()
    }
    func modelSnapshotDelete(_ params: ModelSnapshotDelete.Params, _ call: RPCCall) async throws -> Done {
        throw Unimplemented()
    }
    func score(_ params: Score.Params, _ call: RPCCall) async throws -> ScoreResult { throw Unimplemented() }
    func modelExport(_ params: ModelExport.Params, _ call: RPCCall) async throws -> SaveResult {
        throw Unimplemented()
    }
    func sample(_ params: Sample.Params, _ call: RPCCall) async throws -> SampleResult {
        let text = String(repeating: "a", count: params.length)
        for start in stride(from: 0, to: params.length, by: 10) {
            _ = call.stream?(["text": .string(String(text.prefix(min(10, params.length - start))))])
        }
        return SampleResult(text: text, characters: params.length, charactersPerSecond: 1, stopReason: .length, seed: 0)
    }
    func evaluate(_ params: Evaluate.Params, _ call: RPCCall) async throws -> EvaluateResult { throw Unimplemented() }
    func trainStart(_ params: TrainStart.Params, _ call: RPCCall) async throws -> JobInfo { throw Unimplemented() }
    func trainStatus(_ params: TrainStatus.Params, _ call: RPCCall) throws -> JobInfo { throw Unimplemented() }
    func trainCancel(_ params: TrainCancel.Params, _ call: RPCCall) async throws -> JobInfo { throw Unimplemented() }
    func trainList(_ params: TrainList.Params, _ call: RPCCall) throws -> JobList { JobList(jobs: []) }
    func trainFeed(_ params: TrainFeed.Params, _ call: RPCCall) async throws -> FeedResult { throw Unimplemented() }
    func corpusList(_ params: CorpusList.Params, _ call: RPCCall) async throws -> CorpusCatalog {
        throw Unimplemented()
    }
}
