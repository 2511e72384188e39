import Logging
import RNNProtocol

/// JSON-RPC 2.0 over one line: parses it, handles single requests and batches, applies
/// the read-only socket's rules, routes each method to its handler, and never answers
/// notifications.
struct Dispatcher: Sendable {
    let handlers: Handlers
    let logger: Logger

    /// The response line for `line` (nil when nothing is to be answered). `send` writes a
    /// stream notification at once; its flag says the line may be dropped rather than wait
    /// for a client that does not read (training progress, which must never hold training up).
    func handle(line: [UInt8], readOnly: Bool, peer: String, send: @escaping @Sendable (String, Bool) -> Bool) async
        -> String?
    {
        let value: JSON
        do {
            value = try JSONCoding.parse(line)
        } catch {
            return JSONCoding.line(RPCResponse(id: .null, outcome: .failure(error)).json)
        }
        if case .array(let items) = value {
            guard !items.isEmpty else {
                return JSONCoding.line(
                    RPCResponse(id: .null, outcome: .failure(RPCError(.invalidRequest, "a batch must not be empty")))
                        .json)
            }
            guard items.count <= 1000 else {
                return JSONCoding.line(
                    RPCResponse(
                        id: .null, outcome: .failure(RPCError(.limitReached, "a batch holds at most 1000 requests"))
                    ).json)
            }
            var responses: [JSON] = []
            for item in items {
                if let response = await handle(item, readOnly: readOnly, peer: peer, send: send) {
                    responses.append(response.json)
                }
            }
            return responses.isEmpty ? nil : JSONCoding.line(.array(responses))
        }
        return await handle(value, readOnly: readOnly, peer: peer, send: send).map { JSONCoding.line($0.json) }
    }

    private func handle(_ value: JSON, readOnly: Bool, peer: String, send: @escaping @Sendable (String, Bool) -> Bool)
        async
        -> RPCResponse?
    {
        let request: RPCRequest
        do {
            request = try RPCRequest(validating: value)
        } catch {
            let id: RPCID =
                switch value["id"] {
                case .string(let s)?: .string(s)
                case .number(let n)?: .number(n)
                default: .null
                }
            return RPCResponse(id: id, outcome: .failure(error))
        }
        let outcome = await call(request, readOnly: readOnly, peer: peer, send: send)
        guard let id = request.id else { return nil }
        return RPCResponse(id: id, outcome: outcome)
    }

    private func call(
        _ request: RPCRequest, readOnly: Bool, peer: String, send: @escaping @Sendable (String, Bool) -> Bool
    )
        async -> Result<JSON, RPCError>
    {
        guard let method = rpcMethods.first(where: { $0.name == request.method }) else {
            return .failure(
                RPCError(
                    .methodNotFound, "no method \"\(request.method.prefix(100))\"; rpc.discover lists them",
                    details: ["method": .string(String(request.method.prefix(100)))]))
        }
        if readOnly && !method.isReadOnly {
            return .failure(
                RPCError(
                    .readOnly,
                    "\(method.name) changes state and is refused on the read-only socket; use the admin socket",
                    details: ["method": .string(method.name)]))
        }
        if !method.isReadOnly {
            logger.info(
                "admin call \(method.name) from \(peer)", metadata: ["peer": "\(peer)", "method": "\(method.name)"])
        }
        let notify: (@Sendable (String, JSON) -> Bool)? =
            request.id.map { id in
                { @Sendable notification, params in
                    // The request's id rides in the params, so a client can match streams.
                    var object = params.objectValue ?? ["value": params]
                    object["id"] = JSON(id)
                    return send(
                        JSONCoding.line(RPCRequest(method: notification, params: .object(object), id: nil).json),
                        notification == TrainStart.notification)
                }
            }
        do {
            return .success(try await route(method.name, request.params, notify: notify))
        } catch let error as DaemonError {
            return .failure(error.rpcError)
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            logger.error(
                "internal error in \(method.name): \(error)", metadata: ["id": "\(request.id?.description ?? "none")"])
            return .failure(RPCError(.internalError, "internal error; the daemon's log has the details"))
        }
    }

    /// Decodes parameters and calls the handler of `name`.
    private func route(_ name: String, _ params: JSON?, notify: (@Sendable (String, JSON) -> Bool)?) async throws
        -> JSON
    {
        let h = handlers
        switch name {
        case RPCDiscover.name:
            _ = try RPCDiscover.Params.decode(params)
            return h.openRPCDocument
        case DaemonStatus.name:
            _ = try DaemonStatus.Params.decode(params)
            return JSONCoding.value(await h.status())
        case DaemonShutdown.name:
            _ = try DaemonShutdown.Params.decode(params)
            h.requestShutdown()
            return JSONCoding.value(ShutdownResult(stopping: true))
        case ModelCreate.name: return JSONCoding.value(try await h.create(.decode(params)))
        case ModelList.name:
            _ = try ModelList.Params.decode(params)
            return JSONCoding.value(await h.list())
        case ModelInfo.name: return JSONCoding.value(try await h.info(ModelInfo.Params.decode(params).model))
        case ModelDelete.name: return JSONCoding.value(try await h.delete(ModelDelete.Params.decode(params).model))
        case ModelLoad.name: return JSONCoding.value(try await h.load(ModelLoad.Params.decode(params).model))
        case ModelUnload.name: return JSONCoding.value(try await h.unload(ModelUnload.Params.decode(params).model))
        case ModelSave.name: return JSONCoding.value(try await h.save(ModelSave.Params.decode(params).model))
        case ModelImport.name: return JSONCoding.value(try await h.importModel(.decode(params)))
        case ModelExport.name: return JSONCoding.value(try await h.export(.decode(params)))
        case Sample.name:
            let p = try Sample.Params.decode(params)
            let stream =
                p.stream == true ? notify.map { n in { @Sendable (text: JSON) in n(Sample.notification, text) } } : nil
            return JSONCoding.value(try await h.sample(p, notify: stream))
        case Evaluate.name: return JSONCoding.value(try await h.evaluate(.decode(params)))
        case TrainStart.name:
            let p = try TrainStart.Params.decode(params)
            let stream =
                p.stream == true
                ? notify.map { n in { @Sendable (info: JSON) in n(TrainStart.notification, info) } } : nil
            return JSONCoding.value(try await h.trainStart(p, notify: stream))
        case TrainStatus.name: return JSONCoding.value(try await h.trainStatus(TrainStatus.Params.decode(params).job))
        case TrainCancel.name: return JSONCoding.value(try await h.trainCancel(TrainCancel.Params.decode(params).job))
        case TrainList.name:
            _ = try TrainList.Params.decode(params)
            return JSONCoding.value(await h.trainList())
        case TrainFeed.name: return JSONCoding.value(try await h.feed(.decode(params)))
        case CorpusList.name:
            _ = try CorpusList.Params.decode(params)
            return JSONCoding.value(await h.corpusList())
        default:
            throw RPCError(.methodNotFound, "no method \"\(name)\"")
        }
    }
}
