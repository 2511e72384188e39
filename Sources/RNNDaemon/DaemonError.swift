public import RNNJSON
public import RNNProtocol

/// The daemon's one error type: an RPC error code, a message that says what to do, and
/// (for storage failures) the underlying errno.
public struct DaemonError: Error, Sendable, CustomStringConvertible, RPCErrorConvertible {
    /// The wire code and reason.
    public var code: RPCErrorCode
    /// What was wrong and what to do.
    public var message: String
    /// Extra machine-readable details for `error.data`.
    public var details: [String: JSON]

    public init(_ code: RPCErrorCode, _ message: String, details: [String: JSON] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// The error as it goes on the wire.
    public var rpcError: RPCError { RPCError(code, message, details: details) }

    public var description: String { "\(message) (\(code.reason))" }
}

/// Why a configuration (file, command line, reload) was refused: the file, line or key and
/// what to write instead. Not a wire error: rnnd refuses to start, or keeps the old one.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what to do.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
