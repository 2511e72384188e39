/// A JSON-RPC error object: code, message, and `data` with a machine-readable `reason`.
public struct RPCError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The numeric code (the specification's, or rnnd's in -32000...-32099).
    public var code: Int
    /// A sentence saying what was wrong and what to do.
    public var message: String
    /// `{"reason": "...", ...}` with details.
    public var data: JSON?

    /// Creates an error with a reason and optional details merged into `data`.
    public init(_ code: RPCErrorCode, _ message: String, details: [String: JSON] = [:]) {
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

    public static let parseError = RPCErrorCode(code: -32700, reason: "parse_error")
    public static let invalidRequest = RPCErrorCode(code: -32600, reason: "invalid_request")
    public static let methodNotFound = RPCErrorCode(code: -32601, reason: "method_not_found")
    public static let invalidParams = RPCErrorCode(code: -32602, reason: "invalid_params")
    public static let internalError = RPCErrorCode(code: -32603, reason: "internal_error")
    public static let modelNotFound = RPCErrorCode(code: -32001, reason: "model_not_found")
    public static let modelExists = RPCErrorCode(code: -32002, reason: "model_exists")
    public static let modelBusy = RPCErrorCode(code: -32003, reason: "model_busy")
    public static let readOnly = RPCErrorCode(code: -32004, reason: "read_only_socket")
    public static let jobNotFound = RPCErrorCode(code: -32005, reason: "job_not_found")
    public static let limitReached = RPCErrorCode(code: -32006, reason: "limit_reached")
    public static let storageError = RPCErrorCode(code: -32007, reason: "storage_error")
    public static let modelUnloadable = RPCErrorCode(code: -32008, reason: "model_unloadable")
    public static let trainingFailed = RPCErrorCode(code: -32009, reason: "training_failed")
    public static let pathNotAllowed = RPCErrorCode(code: -32010, reason: "path_not_allowed")
    public static let messageTooLarge = RPCErrorCode(code: -32011, reason: "message_too_large")
    public static let shuttingDown = RPCErrorCode(code: -32012, reason: "shutting_down")
    public static let corpusFailed = RPCErrorCode(code: -32013, reason: "corpus_failed")

    /// Every code, for documentation and tests.
    public static let all: [RPCErrorCode] = [
        .parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError, .modelNotFound, .modelExists,
        .modelBusy, .readOnly, .jobNotFound, .limitReached, .storageError, .modelUnloadable, .trainingFailed,
        .pathNotAllowed, .messageTooLarge, .shuttingDown, .corpusFailed,
    ]
}
