public import NIOCore
import NIOPosix

#if canImport(Glibc)
    public import Glibc
#endif

/// Serves the contract on Unix stream sockets: newline-framed JSON-RPC, one connection
/// handler per client, each socket with its own connection count and limits.
public struct RPCServer: Sendable {
    let dispatcher: Dispatcher
    let group: any EventLoopGroup
    /// Output waiting for clients to read it, across every socket and connection.
    let output = OutputBudget()
    /// Every open connection, across sockets.
    let open = OpenConnections()

    public init(dispatcher: Dispatcher, group: any EventLoopGroup) {
        self.dispatcher = dispatcher
        self.group = group
    }

    /// Binds the listening socket systemd passed (`activated`), or binds `path` itself with
    /// `mode`, refusing to take it from a process that listens on it. Connections are
    /// accepted once ``startAccepting(_:)`` is called (after the owner told systemd it is
    /// ready; until then they wait in the backlog).
    ///
    /// - Parameters:
    ///   - readOnly: whether only the contract's read-only methods are served.
    ///   - limits: the socket's limits, read when they apply.
    public func serve(
        _ path: String, activated: Int32?, mode: mode_t, readOnly: Bool,
        limits: @escaping @Sendable () -> ServerLimits
    ) async throws -> any Channel {
        let counter = ConnectionCounter(socket: readOnly ? "read_only" : "admin", limits: limits)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [dispatcher, output, open] channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(
                        channel, dispatcher: dispatcher, readOnly: readOnly, counter: counter, output: output,
                        open: open, limits: limits)
                }
            }
        if let activated {
            return try await bootstrap.withBoundSocket(activated).get()
        }
        try SocketGuard.ensureNobodyListens(path)
        let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        chmod(path, mode)
        return channel
    }

    /// Closes every open connection, which cancels the requests they wait for, and waits up
    /// to `seconds` for those to end: before the event loops stop, so that no answer is
    /// written to a loop that no longer runs.
    public func closeConnections(waitingUpTo seconds: Double) async {
        await open.closeAll(waitingUpTo: seconds)
    }

    /// Starts accepting connections on a socket from ``serve(_:activated:mode:readOnly:limits:)``.
    public func startAccepting(_ channel: any Channel) async throws {
        try await channel.setOption(.autoRead, value: true).get()
    }

    /// Serves one already-connected socket (one end of a socketpair, for tests and the
    /// fuzzer): the same pipeline as a listener's connections.
    public func serveConnected(
        _ descriptor: Int32, readOnly: Bool, limits: @escaping @Sendable () -> ServerLimits
    ) -> EventLoopFuture<any Channel> {
        let counter = ConnectionCounter(socket: readOnly ? "read_only" : "admin", limits: limits)
        return ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { [dispatcher, output, open] channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(
                        channel, dispatcher: dispatcher, readOnly: readOnly, counter: counter, output: output,
                        open: open, limits: limits)
                }
            }
            .withConnectedSocket(descriptor)
    }

    private static func configure(
        _ channel: any Channel, dispatcher: Dispatcher, readOnly: Bool, counter: ConnectionCounter,
        output: OutputBudget, open: OpenConnections, limits: @escaping @Sendable () -> ServerLimits
    ) throws {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(LineFramer(maximumBytes: limits().maxMessageBytes)))
        try channel.pipeline.syncOperations.addHandler(
            RPCConnectionHandler(
                dispatcher: dispatcher, readOnly: readOnly, connections: counter, output: output, open: open))
    }
}
