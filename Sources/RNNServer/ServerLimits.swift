/// The limits the server enforces, read when they apply (so a configuration reload takes
/// effect for new connections and lines).
public struct ServerLimits: Sendable {
    /// Longest line accepted.
    public var maxMessageBytes: Int
    /// Open connections on one socket.
    public var maxConnections: Int
    /// The configuration key of `maxConnections`, for the refusal.
    public var maxConnectionsKey: String
    /// Seconds a connection with nothing outstanding may stay silent.
    public var idleConnectionSeconds: Double
    /// Requests one connection may have unanswered.
    public var maxRequestsPerConnection: Int

    public init(
        maxMessageBytes: Int, maxConnections: Int, maxConnectionsKey: String, idleConnectionSeconds: Double,
        maxRequestsPerConnection: Int
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxConnections = maxConnections
        self.maxConnectionsKey = maxConnectionsKey
        self.idleConnectionSeconds = idleConnectionSeconds
        self.maxRequestsPerConnection = maxRequestsPerConnection
    }
}
