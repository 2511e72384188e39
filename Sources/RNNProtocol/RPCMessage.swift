public import RNNJSON

/// A JSON-RPC 2.0 request or notification (a request without an id).
public struct RPCRequest: Sendable, Hashable {
    /// The method name.
    public var method: String
    /// By-name (object) or by-position (array) parameters.
    public var params: JSON?
    /// The id; nil makes this a notification, which is never answered.
    public var id: RPCID?

    public init(method: String, params: JSON? = nil, id: RPCID?) {
        self.method = method
        self.params = params
        self.id = id
    }

    /// The request as a JSON object.
    public var json: JSON {
        var o: JSONObject = ["jsonrpc": .string("2.0"), "method": .string(method)]
        if let params { o["params"] = params }
        if let id { o["id"] = JSON(id) }
        return .object(o)
    }

    /// Validates a decoded JSON value as a request object, as the specification defines it.
    ///
    /// - Throws: ``RPCError`` `-32600` saying which member is wrong.
    public init(validating value: JSON) throws(RPCError) {
        guard let o = value.objectValue else {
            throw RPCError(.invalidRequest, "a request must be a JSON object")
        }
        guard o["jsonrpc"] == .string("2.0") else {
            throw RPCError(.invalidRequest, "the request must have \"jsonrpc\": \"2.0\"")
        }
        guard let method = o["method"]?.stringValue else {
            throw RPCError(.invalidRequest, "the request must have a string \"method\"")
        }
        if let params = o["params"] {
            switch params {
            case .object, .array: break
            default: throw RPCError(.invalidRequest, "\"params\" must be an object or an array")
            }
        }
        var id: RPCID?
        if let raw = o["id"] {
            guard let valid = RPCID(raw) else {
                throw RPCError(.invalidRequest, "\"id\" must be a string, a number or null")
            }
            id = valid
        }
        for key in o.keys where !["jsonrpc", "method", "params", "id"].contains(key) {
            throw RPCError(.invalidRequest, "unknown request member \"\(key)\"")
        }
        self.init(method: method, params: o["params"], id: id)
    }
}

extension RPCRequest {
    /// Reads a request straight from its text when it is a valid single request for a method
    /// `wanted` accepts; a mismatch otherwise (anything else, valid or not, is left to the
    /// tree and ``init(validating:)``, which give the same request or the precise error).
    /// The method is looked at as soon as it is read, so a request for another method is
    /// declined before its params are parsed when `method` comes first (as rnnd's clients
    /// write it).
    public init(reading reader: inout JSONReader, wanted: (String) -> Bool) throws {
        var version: Bool?
        var method: String?
        var params: JSON?
        var id: RPCID?
        try reader.readObject { key, reader in
            switch key {
            case "jsonrpc": version = try reader.readString() == "2.0"
            case "method":
                let name = try reader.readString()
                guard wanted(name) else { throw JSONReader.Mismatch() }
                method = name
            case "params":
                let value = try reader.readValue()
                guard value.objectValue != nil || value.arrayValue != nil else { throw JSONReader.Mismatch() }
                params = value
            case "id":
                guard let valid = RPCID(try reader.readValue()) else { throw JSONReader.Mismatch() }
                id = valid
            default: throw JSONReader.Mismatch()
            }
        }
        guard version == true, let method else { throw JSONReader.Mismatch() }
        self.init(method: method, params: params, id: id)
    }
}

/// A JSON-RPC 2.0 response: a result or an error for the request with `id`.
public struct RPCResponse: Sendable, Hashable {
    /// The request's id (null when it could not be read).
    public var id: RPCID
    /// The outcome.
    public var outcome: Result<JSON, RPCError>

    public init(id: RPCID, outcome: Result<JSON, RPCError>) {
        self.id = id
        self.outcome = outcome
    }

    /// The response as a JSON object.
    public var json: JSON {
        var o: JSONObject = ["jsonrpc": .string("2.0"), "id": JSON(id)]
        switch outcome {
        case .success(let r): o["result"] = r
        case .failure(let e):
            var err: JSONObject = ["code": .integer(e.code), "message": .string(e.message)]
            if let data = e.data { err["data"] = data }
            o["error"] = .object(err)
        }
        return .object(o)
    }

    /// Reads a response object.
    ///
    /// - Throws: ``RPCError`` when the value is not a response.
    public init(parsing value: JSON) throws(RPCError) {
        guard let o = value.objectValue, o["jsonrpc"] == .string("2.0") else {
            throw RPCError(.invalidRequest, "not a JSON-RPC 2.0 response")
        }
        let id = o["id"].flatMap(RPCID.init) ?? .null
        if let e = o["error"]?.objectValue {
            var error = RPCError(.internalError, e["message"]?.stringValue ?? "")
            error.code = e["code"]?.intValue ?? -32603
            error.data = e["data"]
            self.init(id: id, outcome: .failure(error))
        } else {
            self.init(id: id, outcome: .success(o["result"] ?? .null))
        }
    }
}
