public import RNNJSON

/// A JSON-RPC error object: code, message, and `data` with a machine-readable `reason`.
public struct RPCError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The numeric code (the specification's, or rnnd's in -32000...-32099).
    public var code: Int
    /// A sentence saying what was wrong and what to do.
    public var message: String
    /// `{"reason": "...", ...}` with details.
    public var data: JSON?

    /// Creates an error with a reason and optional details merged into `data`.
    public init(_ code: RPCErrorCode, _ message: String, details: JSONObject = [:]) {
        self.code = code.code
        self.message = message
        var data = details
        data["reason"] = .string(code.reason)
        self.data = .object(data)
    }

    /// The machine-readable reason, if the error carries one.
    public var reason: String? { data?["reason"]?.stringValue }

    public var description: String { "\(message) [\(code)\(reason.map { " \($0)" } ?? "")]" }
}

/// The error codes rnnd uses, each with a stable reason string.
public struct RPCErrorCode: Sendable, Hashable {
    /// The JSON-RPC code.
    public let code: Int
    /// The `error.data.reason` string.
    public let reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// An error a service throws that has its own wire form (rnnd's `DaemonError`); any other
/// error escaping a handler is an internal error.
public protocol RPCErrorConvertible: Error {
    /// The error as it goes on the wire.
    var rpcError: RPCError { get }
}
