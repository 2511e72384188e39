import RNNServer
import RNNService

extension DaemonConfiguration {
    /// What the server enforces on one socket: the read-only socket counts against
    /// `max_connections`, the admin socket against `max_admin_connections`.
    func serverLimits(readOnly: Bool) -> ServerLimits {
        ServerLimits(
            maxMessageBytes: limits.maxMessageBytes,
            maxConnections: readOnly ? limits.maxConnections : limits.maxAdminConnections,
            maxConnectionsKey: readOnly ? "limits.max_connections" : "limits.max_admin_connections",
            idleConnectionSeconds: limits.idleConnectionSeconds,
            maxRequestsPerConnection: limits.maxRequestsPerConnection)
    }
}
