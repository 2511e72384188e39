public import Logging
public import RNNJSON
public import RNNProtocol
import Synchronization

/// JSON-RPC 2.0 over one line: parses it, handles single requests and batches, applies the
/// read-only socket's rules, and routes each method through the contract's table to the
/// service. Notifications are never answered. It knows no models: only the contract.
public struct Dispatcher: Sendable {
    let service: any RPCService
    let logger: Logger
    private let metrics = RequestMetrics()
    /// What the read-only socket's batches being answered have collected, across connections.
    private let batches = BatchBudget()

    public init(service: any RPCService, logger: Logger) {
        self.service = service
        self.logger = logger
    }

    /// Bytes of answers a batch may collect; its later requests are refused without running
    /// (1000 `daemon.metrics` calls would answer 40 MB).
    static let batchAnswerLimit = 16 << 20

    /// Lines longer than this are parsed off the event loop, so a large feed's parse does
    /// not hold up other connections.
    static let immediateLimit = 64 << 10

    /// Methods whose handlers never block a thread: they compute nothing themselves and only
    /// wait (a sample for its batch's loop), so their tasks may run on an event loop. Their
    /// path must enter no actor either: an actor entered from a task that prefers the loop
    /// runs there, with whatever other jobs it has queued (the sample path reads the
    /// registry's published directory and seed outside it).
    static let waitingMethods: Set<String> = ["sample"]

    /// Whether `request` (a single request, parsed) calls a method of ``waitingMethods``.
    static func waitsOnly(_ request: JSON?) -> Bool {
        guard case .object(let members) = request, let name = members["method"]?.stringValue else { return false }
        return waitingMethods.contains(name)
    }

    /// What ``answerImmediately(line:readOnly:peer:)`` did.
    public enum Immediate: Sendable {
        /// Answered: the response line with its newline (nil: a notification, nothing to write).
        case answered([UInt8]?)
        /// Needs the asynchronous path; the parsed line, if it was parsed.
        case deferred(JSON?)
    }

    /// Answers a single request for a method that reads only published state, on the
    /// caller's thread (the connection's event loop): no hop, no wait, and the result written
    /// straight into the response's bytes. Anything else is deferred to
    /// ``handle(_:readOnly:peer:send:)``.
    public func answerImmediately(line: [UInt8], readOnly: Bool, peer: String) -> Immediate {
        guard line.count <= Self.immediateLimit else { return .deferred(nil) }
        // The method's immediate handler, once the request names one this socket may call.
        var immediate: (@Sendable (any RPCService, JSON?, RPCCall) throws -> any WireCodable)?
        func answersHere(_ name: String) -> Bool {
            guard let method = RPCMethods.byName[name], !readOnly || method.isReadOnly else { return false }
            immediate = method.immediate
            return immediate != nil
        }
        let request: RPCRequest
        if let read = try? JSONReader.read(line, { try RPCRequest(reading: &$0, wanted: answersHere) }) {
            request = read
        } else {
            // Anything else (another method, a batch, an invalid request or text) takes the tree.
            let value: JSON
            do {
                value = try JSONCoding.parse(line)
            } catch {
                return .answered(Self.bytes(RPCResponse(id: .null, outcome: .failure(error))))
            }
            guard case .object(let members) = value, let name = members["method"]?.stringValue, answersHere(name),
                let valid = try? RPCRequest(validating: value)
            else { return .deferred(value) }
            request = valid
        }
        let name = request.method
        guard let immediate else { return .deferred(nil) }
        let start = ContinuousClock.now
        // The envelope as RPCResponse.json writes it (keys in order: id, jsonrpc, result).
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        JSONWriter.writeRaw(#"{"id":"#, into: &out)
        JSONWriter.write(JSON(request.id ?? .null), into: &out)
        JSONWriter.writeRaw(#","jsonrpc":"2.0","result":"#, into: &out)
        let failure: RPCError?
        do {
            let result = try immediate(service, request.params, RPCCall(peer: peer, isAdmin: !readOnly))
            result.writeWire(into: &out)
            JSONWriter.writeRaw("}\n", into: &out)
            assert(
                out == Self.bytes(RPCResponse(id: request.id ?? .null, outcome: .success(result.wire))),
                "the response written straight (\(type(of: result)).writeWire) differs from RPCResponse's")
            failure = nil
        } catch {
            failure = wireError(error, method: name, id: request.id)
        }
        metrics.record(name, since: start, failed: failure != nil)
        guard let id = request.id else { return .answered(nil) }
        if let failure { return .answered(Self.bytes(RPCResponse(id: id, outcome: .failure(failure)))) }
        return .answered(out)
    }

    /// A response as one line of bytes with its newline.
    static func bytes(_ response: RPCResponse) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(response.json, into: &out)
        out.append(0x0A)
        return out
    }

    /// The response line for `line` (nil when nothing is to be answered). `send` writes a
    /// stream notification as its ``StreamWrite`` says (the contract marks the streams whose
    /// lines may be dropped rather than wait for a client that does not read).
    public func handle(
        line: [UInt8], readOnly: Bool, peer: String, send: @escaping @Sendable (String, StreamWrite) -> StreamOffer
    ) async -> String? {
        let value: JSON
        do {
            value = try JSONCoding.parse(line)
        } catch {
            return JSONCoding.line(RPCResponse(id: .null, outcome: .failure(error)).json)
        }
        return await handle(value, readOnly: readOnly, peer: peer, send: send)
    }

    /// The response line for a parsed line (a request or a batch).
    public func handle(
        _ value: JSON, readOnly: Bool, peer: String, send: @escaping @Sendable (String, StreamWrite) -> StreamOffer
    ) async -> String? {
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
            // What the read-only socket's batches collect counts against one budget, held
            // until each batch is answered; the administrator's batches are not counted.
            var responses: [String] = []
            var bytes = 0
            defer { if readOnly { batches.release(bytes) } }
            for item in items {
                // A batch whose connection closed runs none of its further reads (its task is
                // cancelled); changes it asked for are still made.
                if Task.isCancelled, let name = item["method"]?.stringValue,
                    RPCMethods.byName[name]?.isReadOnly ?? true
                {
                    continue
                }
                let response: RPCResponse?
                if let refusal = batchRefusal(collected: bytes, readOnly: readOnly) {
                    response = item["id"].map { RPCResponse(id: RPCID($0) ?? .null, outcome: .failure(refusal)) }
                } else {
                    response = await handleOne(item, readOnly: readOnly, peer: peer, send: send)
                }
                if let response {
                    let text = JSONCoding.line(response.json)
                    let size = text.utf8.count
                    bytes += size
                    if readOnly { batches.hold(size) }
                    responses.append(text)
                }
            }
            return responses.isEmpty ? nil : "[" + responses.joined(separator: ",") + "]"
        }
        return await handleOne(value, readOnly: readOnly, peer: peer, send: send).map { JSONCoding.line($0.json) }
    }

    /// Why a batch that has collected `collected` bytes of answers runs no further request,
    /// or nil while it may.
    private func batchRefusal(collected: Int, readOnly: Bool) -> RPCError? {
        if collected > Self.batchAnswerLimit {
            return RPCError(
                .limitReached,
                "this batch's answers passed \(Self.batchAnswerLimit >> 20) MiB, so the rest were not run; "
                    + "send fewer requests per batch")
        }
        if readOnly && batches.isSpent {
            return RPCError(
                .limitReached,
                "batches being answered hold \(BatchBudget.total >> 20) MiB of answers, so the rest of this one "
                    + "was not run; send it again in a moment")
        }
        return nil
    }

    private func handleOne(
        _ value: JSON, readOnly: Bool, peer: String, send: @escaping @Sendable (String, StreamWrite) -> StreamOffer
    ) async -> RPCResponse? {
        let request: RPCRequest
        do {
            request = try RPCRequest(validating: value)
        } catch {
            return RPCResponse(id: value["id"].flatMap(RPCID.init) ?? .null, outcome: .failure(error))
        }
        let outcome = await call(request, readOnly: readOnly, peer: peer, send: send)
        guard let id = request.id else { return nil }
        return RPCResponse(id: id, outcome: outcome)
    }

    private func call(
        _ request: RPCRequest, readOnly: Bool, peer: String,
        send: @escaping @Sendable (String, StreamWrite) -> StreamOffer
    ) async -> Result<JSON, RPCError> {
        guard let method = RPCMethods.byName[request.method] else {
            return .failure(
                RPCError(
                    .methodNotFound, "no method \"\(request.method.prefix(100))\"; rpc.discover lists them",
                    details: ["method": .string(String(request.method.prefix(100)))]))
        }
        if readOnly && !method.isReadOnly {
            metrics.record(method.name, since: .now, failed: true)
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
        var call = RPCCall(peer: peer, isAdmin: !readOnly)
        if let id = request.id, let notification = method.notification {
            let mayDrop = method.notificationsMayDrop
            // The request's id rides in the params, so a client can match streams.
            let line = { @Sendable (params: JSON) -> String in
                var object = params.objectValue ?? ["value": params]
                object["id"] = JSON(id)
                return JSONCoding.line(RPCRequest(method: notification, params: .object(object), id: nil).json)
            }
            call.stream = { @Sendable params in send(line(params), mayDrop ? .drop : .wait) != .gone }
            call.offer = { @Sendable params in send(line(params), .offer) }
        }
        let start = ContinuousClock.now
        let outcome: Result<JSON, RPCError>
        do {
            outcome = .success(try await method.invoke(service, request.params, call))
        } catch {
            outcome = .failure(wireError(error, method: method.name, id: request.id))
        }
        metrics.record(method.name, since: start, failed: outcome.isFailure)
        return outcome
    }

    /// A thrown error as the wire carries it; anything without a wire form is a bug, logged.
    private func wireError(_ error: any Error, method: String, id: RPCID?) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as any RPCErrorConvertible: return error.rpcError
        default:
            logger.error("internal error in \(method): \(error)", metadata: ["id": "\(id?.description ?? "none")"])
            return RPCError(.internalError, "internal error; the daemon's log has the details")
        }
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

/// The answers the read-only socket's batches have collected and not yet handed over,
/// across connections: while they hold ``total`` bytes, the batches' further requests are
/// refused (a batch that runs long but answers little does not keep others out).
final class BatchBudget: Sendable {
    /// Bytes of answers all read-only batches together may hold.
    static let total = 64 << 20
    private let held = Atomic<Int>(0)

    /// Whether the batches hold the whole budget.
    var isSpent: Bool { held.load(ordering: .relaxed) >= Self.total }

    func hold(_ bytes: Int) { held.add(bytes, ordering: .relaxed) }
    func release(_ bytes: Int) { held.subtract(bytes, ordering: .relaxed) }
}
