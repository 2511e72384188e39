public import RNNJSON
public import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking JSON-RPC client of rnnd's Unix socket: one connection, one request at a time,
/// stream notifications handed to a callback as they arrive. Used by rnnctl and the tests.
public final class RNNClient {
    /// Why a call could not be made or was refused.
    public enum Failure: Error, CustomStringConvertible {
        /// No daemon answers at the path.
        case unreachable(path: String, reason: String)
        /// The connection broke.
        case connectionLost(String)
        /// The daemon answered with an error.
        case daemon(RPCError)

        public var description: String {
            switch self {
            case .unreachable(let path, let reason): "rnnd is not running at \(path) (\(reason))"
            case .connectionLost(let reason): "the connection to rnnd was lost: \(reason)"
            case .daemon(let error): error.message
            }
        }
    }

    /// The socket path.
    public let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// What one recv(2) reads into, kept: zeroing a fresh 64 KiB per read showed in the
    /// profile of a status round trip.
    private var chunk = [UInt8](repeating: 0, count: 65536)
    private var nextID = 1

    /// Connects to the socket at `path`.
    ///
    /// - Throws: ``Failure/unreachable(path:reason:)`` when nothing listens there.
    public init(path: String) throws(Failure) {
        self.path = path
        fd = try Self.open(path)
    }

    private static func open(_ path: String) throws(Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw .unreachable(path: path, reason: "the path is too long for a Unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreachable(path: path, reason: reason)
        }
        return fd
    }

    /// Connects again when rnnd closed an idle connection (`limits.idle_connection_seconds`)
    /// and nothing of it is left to read: nothing was sent on it since, so nothing is lost.
    private func reconnectIfClosed() throws(Failure) {
        guard buffer.isEmpty else { return }
        var poller = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000, revents: 0)  // POLLRDHUP
        guard poll(&poller, 1, 0) == 1 else { return }
        var byte: UInt8 = 0
        guard recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) == 0 else { return }
        close(fd)
        fd = try Self.open(path)
    }

    deinit { close(fd) }

    /// Calls `method` and returns its result.
    ///
    /// - Parameters:
    ///   - onNotification: called with each notification (method, params) that arrives
    ///     before the response, for streamed methods.
    /// - Throws: ``Failure/daemon(_:)`` with the daemon's error, or a connection failure.
    @discardableResult
    public func call(
        _ method: String, _ params: JSONObject = [:], onNotification: ((String, JSON) -> Void)? = nil
    ) throws(Failure) -> JSON {
        try call(method, .object(params), onNotification: onNotification)
    }

    /// Calls `method` with named `params` given as a dictionary.
    @discardableResult
    public func call(
        _ method: String, _ params: [String: JSON], onNotification: ((String, JSON) -> Void)? = nil
    ) throws(Failure) -> JSON {
        try call(method, .object(JSONObject(params)), onNotification: onNotification)
    }

    /// Calls `method` with `params` as they are (an object, or an array for by-position).
    @discardableResult
    @_disfavoredOverload
    public func call(
        _ method: String, _ params: JSON, onNotification: ((String, JSON) -> Void)? = nil
    ) throws(Failure) -> JSON {
        switch try exchange(method, params, onNotification: onNotification, direct: { _ in nil as Never? }) {
        case .tree(let result): return result
        }
    }

    /// Calls `method` and decodes its result as `type`, straight from the answer's text (no
    /// tree) when it has the expected shape; anything else takes the tree's way, which gives
    /// the same value or the precise error.
    public func call<Result: WireReadable>(
        _ method: String, _ params: some WireCodable, decoding type: Result.Type,
        onNotification: ((String, JSON) -> Void)? = nil
    ) throws -> Result {
        let answer = try exchange(method, params, onNotification: onNotification) { line -> Result? in
            guard let result = try? JSONReader.read(line, { reader in try Self.readResult(Result.self, &reader) })
            else { return nil }
            assert(
                Self.treeAgrees(with: result, line), "\(Result.self)(reading:) differs from \(Result.self)(wire:at:)")
            return result
        }
        switch answer {
        case .direct(let result): return result
        case .tree(let result): return try Result(wire: result, at: .root)
        }
    }

    /// Whether the tree's decoding of the response `line` gives `result` (compared as text:
    /// NaN is not equal to itself). Checked in debug builds, so every typed call of the test
    /// suite checks the piecewise decoder against the tree's.
    private static func treeAgrees<Result: WireReadable>(with result: Result, _ line: [UInt8]) -> Bool {
        guard let value = try? JSONParser.parse(line), let response = try? RPCResponse(parsing: value),
            case .success(let wire) = response.outcome, let tree = try? Result(wire: wire, at: .root)
        else { return false }
        return JSONWriter.text(tree.wire) == JSONWriter.text(result.wire)
    }

    /// A response's result read piecewise; a notification, an error or anything unusual is a
    /// mismatch, left to the tree.
    private static func readResult<Result: WireReadable>(_: Result.Type, _ reader: inout JSONReader) throws -> Result {
        var result: Result?
        var isVersion2 = false
        try reader.readObject { key, reader in
            switch key {
            case "jsonrpc": isVersion2 = try reader.readString() == "2.0"
            case "id": _ = try reader.readValue()
            case "result": result = try Result(reading: &reader)
            default: throw JSONReader.Mismatch()
            }
        }
        guard isVersion2, let result else { throw JSONReader.Mismatch() }
        return result
    }

    /// A result decoded from the text, or the result as a tree.
    private enum Answer<Direct> {
        case direct(Direct)
        case tree(JSON)
    }

    /// Sends a request and reads lines until its response: notifications go to
    /// `onNotification`; the response's result is `direct`'s decoding of the line when that
    /// is not nil, otherwise the parsed tree's.
    private func exchange<Direct>(
        _ method: String, _ params: some WireCodable, onNotification: ((String, JSON) -> Void)?,
        direct: ([UInt8]) -> Direct?
    ) throws(Failure) -> Answer<Direct> {
        let id = nextID
        nextID += 1
        // The line RPCRequest.json would write (keys in order), without the tree.
        var request: [UInt8] = []
        request.reserveCapacity(256)
        JSONWriter.writeRaw(#"{"id":"#, into: &request)
        JSONWriter.writeInteger(Int64(id), into: &request)
        JSONWriter.writeRaw(#","jsonrpc":"2.0","method":"#, into: &request)
        JSONWriter.writeString(method, into: &request)
        JSONWriter.writeRaw(#","params":"#, into: &request)
        params.writeWire(into: &request)
        JSONWriter.writeRaw("}\n", into: &request)
        assert(
            request.dropLast()
                == Array(
                    JSONWriter.text(RPCRequest(method: method, params: params.wire, id: .number(JSONNumber(id))).json)
                        .utf8)[...],
            "the request written straight differs from RPCRequest's")
        try reconnectIfClosed()
        do {
            try sendBytes(request)
        } catch {
            // A daemon that refuses the connection (too many) answers and closes before the
            // request is written: its answer says why, better than "broken pipe".
            if let line = try? readLine(), let value = try? JSONCoding.parse(line),
                let response = try? RPCResponse(parsing: value), case .failure(let refusal) = response.outcome
            {
                throw .daemon(refusal)
            }
            throw error
        }
        while true {
            let line = try readLine()
            if let decoded = direct(line) { return .direct(decoded) }
            let value: JSON
            do {
                value = try JSONCoding.parse(line)
            } catch {
                throw .connectionLost("the daemon sent a line that is not JSON")
            }
            if let name = value["method"]?.stringValue, value["id"] == nil {
                onNotification?(name, value["params"] ?? .null)
                continue
            }
            let response: RPCResponse
            do {
                response = try RPCResponse(parsing: value)
            } catch {
                throw .connectionLost("the daemon sent something that is not a response")
            }
            switch response.outcome {
            case .success(let result): return .tree(result)
            case .failure(let error): throw .daemon(error)
            }
        }
    }

    /// Sends one raw line (a newline is added).
    public func send(_ line: String) throws(Failure) {
        try sendBytes(Array(line.utf8) + [0x0A])
    }

    /// Sends bytes as they are (no newline added; they need not be UTF-8).
    public func sendBytes(_ bytes: [UInt8]) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connectionLost(String(cString: strerror(errno)))
            }
            done += n
        }
    }

    /// Reads one line (without its newline).
    public func readLine() throws(Failure) -> [UInt8] {
        // Bytes of `buffer` already searched: a long line read in many pieces is searched once.
        var scanned = 0
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            scanned = buffer.count
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connectionLost(String(cString: strerror(errno)))
            }
            if n == 0 { throw .connectionLost("the daemon closed the connection") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Half-closes the connection (no more requests); answers can still be read.
    public func finishSending() { shutdown(fd, Int32(SHUT_WR)) }
}
