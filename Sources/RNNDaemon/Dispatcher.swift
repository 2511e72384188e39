import Logging
import RNNJSON
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
            let id = value["id"].flatMap(RPCID.init) ?? .null
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
        guard let method = RPCMethods.byName[request.method] else {
            return .failure(
                RPCError(
                    .methodNotFound, "no method \"\(request.method.prefix(100))\"; rpc.discover lists them",
                    details: ["method": .string(String(request.method.prefix(100)))]))
        }
        if readOnly && !method.isReadOnly {
            return .failure(
                RPCError(
                    .readOnlySocket,
                    "\(method.name) changes state and is refused on the read-only socket; use the admin socket",
                    details: ["method": .string(method.name)]))
        }
        if !method.isReadOnly {
            logger.info(
                "admin call \(method.name) from \(peer)", metadata: ["peer": "\(peer)", "method": "\(method.name)"])
        }
        var call = RPCCall(peer: peer)
        if let id = request.id, let notification = method.notification {
            // Progress may be dropped rather than hold training up; sample text may not.
            let droppable = method.name == TrainStart.name
            call.stream = { @Sendable params in
                // The request's id rides in the params, so a client can match streams.
                var object = params.objectValue ?? ["value": params]
                object["id"] = JSON(id)
                return send(
                    JSONCoding.line(RPCRequest(method: notification, params: .object(object), id: nil).json), droppable)
            }
        }
        do {
            return .success(try await method.invoke(handlers, request.params, call))
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
}
