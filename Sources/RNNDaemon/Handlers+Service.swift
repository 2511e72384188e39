import RNNJSON
import RNNProtocol

/// The contract's methods (the generated ``RPCService``) bound to the handlers: parameters
/// arrive decoded and validated, so each binding only picks what its handler needs.
extension Handlers: RPCService {
    func rpcDiscover(_ params: RPCDiscover.Params, _ call: RPCCall) throws -> JSON { openRPCDocument }
    func daemonStatus(_ params: DaemonStatus.Params, _ call: RPCCall) throws -> StatusReport { status() }
    func daemonShutdown(_ params: DaemonShutdown.Params, _ call: RPCCall) async throws -> ShutdownResult {
        requestShutdown()
        return ShutdownResult(stopping: true)
    }
    func modelCreate(_ params: ModelCreate.Params, _ call: RPCCall) async throws -> ModelDetails {
        try await create(params)
    }
    func modelList(_ params: ModelList.Params, _ call: RPCCall) throws -> ModelListing { list() }
    func modelInfo(_ params: ModelInfo.Params, _ call: RPCCall) throws -> ModelDetails { try info(params.model) }
    func modelDelete(_ params: ModelDelete.Params, _ call: RPCCall) async throws -> Done {
        try await delete(params.model)
    }
    func modelLoad(_ params: ModelLoad.Params, _ call: RPCCall) async throws -> ModelDetails {
        try await load(params.model)
    }
    func modelUnload(_ params: ModelUnload.Params, _ call: RPCCall) async throws -> ModelDetails {
        try await unload(params.model)
    }
    func modelSave(_ params: ModelSave.Params, _ call: RPCCall) async throws -> SaveResult {
        try await save(params.model)
    }
    func modelImport(_ params: ModelImport.Params, _ call: RPCCall) async throws -> ModelDetails {
        try await importModel(params)
    }
    func modelExport(_ params: ModelExport.Params, _ call: RPCCall) async throws -> SaveResult {
        try await export(params)
    }
    func sample(_ params: Sample.Params, _ call: RPCCall) async throws -> SampleResult {
        try await sample(params, notify: call.stream)
    }
    func evaluate(_ params: Evaluate.Params, _ call: RPCCall) async throws -> EvaluateResult {
        try await evaluate(params)
    }
    func trainStart(_ params: TrainStart.Params, _ call: RPCCall) async throws -> JobInfo {
        try await trainStart(params, notify: call.stream)
    }
    func trainStatus(_ params: TrainStatus.Params, _ call: RPCCall) throws -> JobInfo { try trainStatus(params.job) }
    func trainCancel(_ params: TrainCancel.Params, _ call: RPCCall) async throws -> JobInfo {
        try await trainCancel(params.job)
    }
    func trainList(_ params: TrainList.Params, _ call: RPCCall) throws -> JobList { trainList() }
    func trainFeed(_ params: TrainFeed.Params, _ call: RPCCall) async throws -> FeedResult { try await feed(params) }
    func corpusList(_ params: CorpusList.Params, _ call: RPCCall) async throws -> CorpusCatalog { await corpusList() }
}
