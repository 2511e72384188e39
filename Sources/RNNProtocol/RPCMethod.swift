public import RNNJSON

/// What a method's handler gets besides its parameters.
public struct RPCCall: Sendable {
    /// Who called (for the audit log).
    public var peer: String
    /// Sends one notification of the method's stream (the request's id is added); false once
    /// the client is gone or too slow and the stream should end. Nil unless the method streams,
    /// the request asked for it with `stream: true`, and the request has an id.
    public var stream: (@Sendable (JSON) -> Bool)?
    /// Sends one notification of the stream only if the client has room for it now, never
    /// waiting (for producers that serve many clients at once). Nil when ``stream`` is.
    public var offer: (@Sendable (JSON) -> StreamOffer)?
    /// Whether it came on the admin socket (trusted: its work goes before the read-only
    /// socket's).
    public var isAdmin: Bool

    public init(
        peer: String, isAdmin: Bool = false, stream: (@Sendable (JSON) -> Bool)? = nil,
        offer: (@Sendable (JSON) -> StreamOffer)? = nil
    ) {
        self.peer = peer
        self.isAdmin = isAdmin
        self.stream = stream
        self.offer = offer
    }

    /// The same call without a stream.
    public var withoutStream: RPCCall { RPCCall(peer: peer, isAdmin: isAdmin) }
}

/// How a stream notification is written while the client has not read what came before.
public enum StreamWrite: Sendable {
    /// Wait for room (the producer slows to the client's pace).
    case wait
    /// Drop the notification (training progress: a later one says more).
    case drop
    /// Leave it unsent and say so (the producer keeps it for later).
    case offer
}

/// What became of a stream notification.
public enum StreamOffer: Sendable {
    /// Written.
    case sent
    /// Not written: the client has not read what came before.
    case full
    /// The client went away.
    case gone
}

/// A method of the contract as dispatch uses it: generated from protocol/openrpc.json.
public struct RPCMethod: Sendable {
    /// The wire name.
    public let name: String
    /// Whether the read-only socket serves it.
    public let isReadOnly: Bool
    /// The notification method of its stream, if it streams.
    public let notification: String?
    /// Whether a notification may be dropped rather than wait for a slow reader (training
    /// progress: it must never hold training up); otherwise the stream waits.
    public let notificationsMayDrop: Bool
    /// Parameter names in by-position order.
    public let parameters: [String]
    /// For methods that read only published state: the same call, synchronous, so the
    /// server answers it on the connection's event loop without a hop to another thread. The
    /// result is returned as it is, for the server to write straight to bytes (no tree).
    public let immediate: (@Sendable (any RPCService, JSON?, RPCCall) throws -> any WireCodable)?
    /// Decodes and validates the params, calls the service, encodes the result.
    public let invoke: @Sendable (any RPCService, JSON?, RPCCall) async throws -> JSON
}

/// The contract's methods.
public enum RPCMethods {
    /// The methods by wire name.
    public static let byName: [String: RPCMethod] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
