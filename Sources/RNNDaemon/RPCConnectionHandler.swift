import Logging
import NIOConcurrencyHelpers
import NIOCore
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection: each line goes to the dispatcher off the event loop; responses
/// and stream notifications are written back as lines.
final class RPCConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO calls the handler on its channel's event loop only; the tasks it
    // starts touch only `channel` (Sendable) and the Sendable dispatcher.
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    let dispatcher: Dispatcher
    let readOnly: Bool
    let connections: ConnectionCounter
    private var entered = false
    /// Requests still being handled; with the client's input closed, the connection closes
    /// once they are answered (so `echo request | socat` gets its answer).
    private var outstanding = 0
    private var inputClosed = false
    /// The peer's credentials once known ("unix" until then).
    private var peer = "unix"
    /// Closes the connection when it has had nothing to do for the idle time: no request
    /// outstanding (a stream or a job being waited for is not idle), no complete line sent.
    private var idleTimer: Scheduled<Void>?

    init(dispatcher: Dispatcher, readOnly: Bool, connections: ConnectionCounter) {
        self.dispatcher = dispatcher
        self.readOnly = readOnly
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        entered = connections.enter()
        if !entered {
            let error = RPCError(
                .limitReached,
                "too many connections on this socket (\(connections.limitName) = \(connections.limit)); try again later"
            )
            Self.write(JSONCoding.line(RPCResponse(id: .null, outcome: .failure(error)).json), to: context.channel)
            context.close(promise: nil)
            return
        }
        if !readOnly, let provider = context.channel as? any SocketOptionProvider {
            // SO_PEERCRED: who is on the other end of the admin socket, for the log.
            provider.unsafeGetSocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: 17))  // SO_PEERCRED
                .whenSuccess { [self] (credentials: PeerCredentials) in
                    peer = "pid \(credentials.pid) uid \(credentials.uid) gid \(credentials.gid)"
                }
        }
        armIdleTimer(loop: context.eventLoop, channel: context.channel)
        context.fireChannelActive()
    }

    /// Starts (again) the idle countdown; on the channel's event loop only.
    private func armIdleTimer(loop: any EventLoop, channel: any Channel) {
        idleTimer?.cancel()
        let seconds = connections.idleSeconds
        idleTimer = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            channel.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        if entered { connections.leave() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = context.channel
        switch unwrapInboundIn(data) {
        case .tooLong(let limit):
            let line = Self.tooLongResponse(limit: limit)
            channel.writeAndFlush(Self.buffer(line, channel.allocator)).whenComplete { _ in channel.close(promise: nil)
            }
        case .line(let buffer):
            let bytes = Array(buffer.readableBytesView)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank lines are ignored
            let dispatcher = dispatcher
            let readOnly = readOnly
            let peer = peer
            // Each request runs as its own task so that a long one (a streamed sample or
            // training job) does not hold up the next line on the same connection.
            guard outstanding < connections.settings.current.limits.maxRequestsPerConnection else {
                let error = RPCError(
                    .limitReached,
                    "this connection has \(outstanding) requests outstanding (limits.max_requests_per_connection); "
                        + "wait for their answers")
                Self.write(JSONCoding.line(RPCResponse(id: .null, outcome: .failure(error)).json), to: channel)
                return
            }
            outstanding += 1
            idleTimer?.cancel()
            idleTimer = nil
            let loop = context.eventLoop
            let finished = loop.makePromise(of: Void.self)
            finished.futureResult.whenComplete { [self] _ in
                outstanding -= 1
                if inputClosed && outstanding == 0 { channel.close(promise: nil) }
                if outstanding == 0, channel.isActive { armIdleTimer(loop: loop, channel: channel) }
            }
            Task {
                let response = await dispatcher.handle(line: bytes, readOnly: readOnly, peer: peer) { line, mayDrop in
                    Self.stream(line, to: channel, mayDrop: mayDrop)
                }
                if let response {
                    channel.writeAndFlush(Self.buffer(response, channel.allocator)).whenComplete { _ in
                        finished.succeed()
                    }
                } else {
                    finished.succeed()
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if outstanding == 0 { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The answer to a message longer than the limit, after which the connection closes.
    static func tooLongResponse(limit: Int) -> String {
        let error = RPCError(
            .messageTooLarge,
            "a message is longer than \(limit) bytes (limits.max_message_bytes); the connection closes")
        return JSONCoding.line(RPCResponse(id: .null, outcome: .failure(error)).json)
    }

    /// How long a stream waits for a client that reads nothing before the connection is closed.
    static let stallLimitSeconds = 60.0

    /// Writes a stream notification with backpressure. While the channel holds more than its
    /// high-water mark unsent, a droppable line (training progress) is dropped, and any other
    /// waits (the sampler producing it slows to the client's pace); a client that reads
    /// nothing for ``stallLimitSeconds`` is disconnected. Returns false once the client is gone.
    static func stream(_ line: String, to channel: any Channel, mayDrop: Bool) -> Bool {
        if !channel.isWritable {
            if mayDrop { return channel.isActive }
            let start = ContinuousClock.now
            while !channel.isWritable && channel.isActive {
                if ContinuousClock.now - start > .seconds(stallLimitSeconds) {
                    channel.close(promise: nil)
                    return false
                }
                usleep(2000)
            }
        }
        guard channel.isActive else { return false }
        write(line, to: channel)
        return true
    }

    static func write(_ line: String, to channel: any Channel) {
        channel.writeAndFlush(buffer(line, channel.allocator), promise: nil)
    }

    static func buffer(_ line: String, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }
}

/// Counts one socket's open connections against its limit.
final class ConnectionCounter: Sendable {
    let settings: ConfigurationBox
    /// Whether this counts the read-only socket (`max_connections`) or the admin socket
    /// (`max_admin_connections`).
    let readOnly: Bool
    private let lock = NIOLockedValueBox(0)
    init(settings: ConfigurationBox, readOnly: Bool) {
        self.settings = settings
        self.readOnly = readOnly
    }

    var limit: Int {
        readOnly ? settings.current.limits.maxConnections : settings.current.limits.maxAdminConnections
    }

    /// The configuration key of the limit, for refusals.
    var limitName: String { readOnly ? "limits.max_connections" : "limits.max_admin_connections" }

    /// Seconds a connection may stay with nothing to do before it is closed.
    var idleSeconds: Double { settings.current.limits.idleConnectionSeconds }

    func enter() -> Bool {
        let limit = limit
        return lock.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { lock.withLockedValue { $0 -= 1 } }
}

/// Linux's `struct ucred` (SO_PEERCRED), declared here because Glibc's is behind _GNU_SOURCE.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
