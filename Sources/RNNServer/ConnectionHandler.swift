import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection: a line for a method that reads published state is answered on the
/// event loop at once; any other goes to the dispatcher as a task of its own. Responses and
/// stream notifications are written back as lines, streams with backpressure.
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
    /// One timer per connection, moved on only when it fires: a request costs no timer work.
    private var idleTimer: Scheduled<Void>?
    /// When the armed timer fires.
    private var idleDeadline = NIODeadline.distantFuture
    /// When the connection last had nothing to do (connected, or its last answer written).
    private var idleSince = NIODeadline.uptimeNanoseconds(0)

    /// The tasks answering this connection's requests, cancelled when it closes: a sample,
    /// a scoring or an evaluation whose client went away stops instead of running on.
    private var running: [UInt64: Task<Void, Never>] = [:]
    private var nextTask: UInt64 = 0

    /// Since when the channel has had more output waiting than its high-water mark (nil while
    /// it takes more).
    private var unwritableSince: NIODeadline?
    /// Whether pending lines are being served (answers written at once call back into it).
    private var serving = false

    /// Lines read while the connection was at its limit of unanswered requests, in order.
    private var pending: [LineFrame] = []
    /// Whether reading from the socket is paused until answers drain.
    private var readingPaused = false
    /// Open while the channel takes more output; streams wait on it.
    private let writable = WritabilityGate()

    /// Output handed to every connection of the server and not yet written.
    let output: OutputBudget
    /// Every open connection of the server, for its stop.
    let open: OpenConnections

    init(
        dispatcher: Dispatcher, readOnly: Bool, connections: ConnectionCounter, output: OutputBudget,
        open: OpenConnections
    ) {
        self.dispatcher = dispatcher
        self.readOnly = readOnly
        self.connections = connections
        self.output = output
        self.open = open
    }

    func channelActive(context: ChannelHandlerContext) {
        entered = connections.enter()
        if !entered {
            let error = RPCError(
                .limitReached,
                "too many connections on this socket (\(connections.limits().maxConnectionsKey) = "
                    + "\(connections.limits().maxConnections)); try again later"
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
        open.opened(context.channel)
        idleSince = context.eventLoop.now
        armIdleTimer(loop: context.eventLoop, channel: context.channel, deadline: idleSince + idleTime)
        context.fireChannelActive()
    }

    /// `limits.idle_connection_seconds` as it is now (a reload may change it).
    private var idleTime: TimeAmount {
        .milliseconds(Int64(connections.limits().idleConnectionSeconds * 1000))
    }

    /// Starts the idle countdown to `deadline`; on the channel's event loop only.
    private func armIdleTimer(loop: any EventLoop, channel: any Channel, deadline: NIODeadline) {
        idleTimer?.cancel()
        idleDeadline = deadline
        idleTimer = loop.scheduleTask(deadline: deadline) { [self] in idleTimerFired(loop: loop, channel: channel) }
    }

    private func idleTimerFired(loop: any EventLoop, channel: any Channel) {
        idleTimer = nil
        idleDeadline = .distantFuture
        guard channel.isActive else { return }
        let idle = idleTime
        if outstanding > 0 || !pending.isEmpty {
            // Output waiting for a client that has read none of it for the idle time (answers
            // go out in slices, so a client that reads slowly still completes writes).
            let seconds = Double(idle.nanoseconds) / 1e9
            if !channel.isWritable, let since = unwritableSince, since + idle <= loop.now,
                writable.secondsSinceWritten >= seconds
            {
                dispatcher.logger.warning(
                    "closing a connection from \(peer) whose client has read no answer for \(idle.nanoseconds / 1_000_000_000) s"
                )
                channel.close(promise: nil)
                return
            }
            armIdleTimer(loop: loop, channel: channel, deadline: loop.now + idle)
        } else if idleSince + idle <= loop.now {
            channel.close(promise: nil)
        } else {
            armIdleTimer(loop: loop, channel: channel, deadline: idleSince + idle)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable.set(context.channel.isWritable)
        if context.channel.isWritable {
            unwritableSince = nil
            servePending(channel: context.channel, loop: context.eventLoop)
            closeIfDone(channel: context.channel, loop: context.eventLoop)
        } else if unwritableSince == nil {
            unwritableSince = context.eventLoop.now
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Streams waiting for room see the channel gone and end; work for it stops.
        writable.set(true)
        for task in running.values { task.cancel() }
        running = [:]
        pending.removeAll()
        open.closed(context.channel)
        idleTimer?.cancel()
        if entered { connections.leave() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // At the limit of unanswered requests, or while earlier output waits for the client
        // to read it, lines wait here and the socket is no longer read: a client that sends
        // without reading its answers is held to a bounded number of them, whatever path
        // answers them, and no work starts for it until it reads.
        if !pending.isEmpty || outstanding >= connections.limits().maxRequestsPerConnection
            || !context.channel.isWritable
        {
            pending.append(frame)
            pauseReading(context.channel)
            return
        }
        process(frame, channel: context.channel, loop: context.eventLoop)
    }

    /// Answers one frame. Every answer counts as outstanding until the socket took it.
    private func process(_ frame: LineFrame, channel: any Channel, loop: any EventLoop) {
        switch frame {
        case .tooLong(let limit):
            let line = Self.tooLongResponse(limit: limit)
            pending.removeAll()
            channel.writeAndFlush(Self.buffer(line, channel.allocator)).whenComplete { _ in channel.close(promise: nil)
            }
        case .line(let buffer):
            let bytes = Array(buffer.readableBytesView)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank lines are ignored
            outstanding += 1
            let key = nextTask
            nextTask += 1
            let finished = loop.makePromise(of: Void.self)
            finished.futureResult.whenComplete { [self] _ in
                running[key] = nil
                answered(channel: channel, loop: loop)
            }
            let budget = OutputBudget.Share(budget: output, gate: writable, logger: dispatcher.logger, peer: peer)
            let parsed: JSON?
            switch dispatcher.answerImmediately(line: bytes, readOnly: readOnly, peer: peer) {
            case .answered(let response):
                if let response {
                    Self.answer(channel.allocator.buffer(bytes: response), on: channel, budget: budget, finished)
                } else {
                    finished.succeed()
                }
                return
            case .deferred(let value):
                parsed = value
            }
            // Each other request runs as its own task so that a long one (a streamed sample or
            // training job) does not hold up the next line on the same connection.
            let dispatcher = dispatcher
            let readOnly = readOnly
            let peer = peer
            let writable = writable
            let open = open
            open.started()
            // A sample only waits for its batch: its task runs on this event loop, which then
            // answers without a hop to the global pool and back (two thread wake-ups fewer).
            let executor = Dispatcher.waitsOnly(parsed) ? EventLoopTaskExecutor(loop) : nil
            running[key] = Task(executorPreference: executor) {
                defer { open.ended() }
                let send: @Sendable (String, StreamWrite) -> StreamOffer = { line, mode in
                    Self.stream(line, to: channel, mode: mode, writable: writable)
                }
                let response =
                    if let parsed {
                        await dispatcher.handle(parsed, readOnly: readOnly, peer: peer, send: send)
                    } else {
                        await dispatcher.handle(line: bytes, readOnly: readOnly, peer: peer, send: send)
                    }
                if let response {
                    Self.answer(Self.buffer(response, channel.allocator), on: channel, budget: budget, finished)
                } else {
                    finished.succeed()
                }
            }
        }
    }

    /// One answer was written (or needed none): serve waiting lines, read again, or close a
    /// connection whose client has finished sending and has every answer.
    private func answered(channel: any Channel, loop: any EventLoop) {
        outstanding -= 1
        servePending(channel: channel, loop: loop)
        closeIfDone(channel: channel, loop: loop)
    }

    /// Closes a connection whose client has finished sending and has every answer, or starts
    /// its idle time.
    private func closeIfDone(channel: any Channel, loop: any EventLoop) {
        guard outstanding == 0, pending.isEmpty else { return }
        if inputClosed {
            channel.close(promise: nil)
        } else {
            idleSince = loop.now
            // The timer armed for an earlier idle time fires too late if a reload lowered it.
            let deadline = idleSince + idleTime
            if deadline < idleDeadline { armIdleTimer(loop: loop, channel: channel, deadline: deadline) }
        }
    }

    /// Serves waiting lines while the connection has room for them, and reads again once
    /// none wait.
    private func servePending(channel: any Channel, loop: any EventLoop) {
        // An answer written at once completes inside `process` and calls back here; the
        // outer loop goes on with the next line instead of nesting one call per line.
        guard !serving else { return }
        serving = true
        defer { serving = false }
        let limit = connections.limits().maxRequestsPerConnection
        while outstanding < limit, !pending.isEmpty, channel.isActive, channel.isWritable {
            process(pending.removeFirst(), channel: channel, loop: loop)
        }
        if pending.isEmpty, readingPaused, channel.isActive {
            readingPaused = false
            channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
        }
    }

    /// Writes an answer, counted against the output budget until the socket took it, and
    /// completes `finished` then. A connection over its share is closed instead.
    private static func answer(
        _ buffer: ByteBuffer, on channel: any Channel, budget: OutputBudget.Share, _ finished: EventLoopPromise<Void>
    ) {
        let bytes = buffer.readableBytes
        guard budget.take(bytes, channel: channel) else {
            finished.succeed()
            return
        }
        // In slices, each counted as written when the socket took it: a client that reads a
        // large answer slowly is seen making progress.
        var rest = buffer
        while rest.readableBytes > answerSlice, let slice = rest.readSlice(length: answerSlice) {
            channel.write(slice).whenComplete { _ in budget.give(answerSlice) }
        }
        let last = rest.readableBytes
        channel.writeAndFlush(rest).whenComplete { _ in
            budget.give(last)
            finished.succeed()
        }
    }

    /// Bytes per write of a large answer.
    static let answerSlice = 64 << 10

    private func pauseReading(_ channel: any Channel) {
        guard !readingPaused else { return }
        readingPaused = true
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if outstanding == 0 && pending.isEmpty { context.close(promise: nil) }
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
    /// high-water mark unsent, a `.drop` line (training progress) is dropped, an `.offer` line
    /// is left to its producer (`.full`), and a `.wait` line waits for the channel to drain
    /// (the producer slows to the client's pace); a client that reads nothing for
    /// ``stallLimitSeconds`` is disconnected.
    static func stream(_ line: String, to channel: any Channel, mode: StreamWrite, writable: WritabilityGate)
        -> StreamOffer
    {
        if !writable.hasRoom {
            switch mode {
            case .drop, .offer:
                return channel.isActive ? .full : .gone
            case .wait:
                guard writable.wait(seconds: stallLimitSeconds) else {
                    channel.close(promise: nil)
                    return .gone
                }
            }
        }
        guard channel.isActive else { return .gone }
        let buffer = buffer(line, channel.allocator)
        let bytes = buffer.readableBytes
        // Counted from here, not from the event loop's view: a write handed over from another
        // thread reaches the channel (and its writability) only when the loop runs it.
        writable.submitted(bytes)
        channel.writeAndFlush(buffer).whenComplete { _ in writable.completed(bytes) }
        return .sent
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

/// Counts one socket's open connections against its limit (and for the metrics).
public final class ConnectionCounter: Sendable {
    /// The gauge's name, shared with the daemon's catalogue of help texts.
    static let gaugeLabel = "rnnd_connections"
    /// The socket's limits, read when they apply.
    let limits: @Sendable () -> ServerLimits
    private let count = NIOLockedValueBox(0)
    private let gauge: Gauge

    /// - Parameter socket: the socket's name in the metrics (`admin`, `read_only`).
    public init(socket: String, limits: @escaping @Sendable () -> ServerLimits) {
        self.limits = limits
        gauge = Gauge(label: Self.gaugeLabel, dimensions: [("socket", socket)])
        gauge.record(0)
    }

    func enter() -> Bool {
        let limit = limits().maxConnections
        let now = count.withLockedValue { count -> Int? in
            guard count < limit else { return nil }
            count += 1
            return count
        }
        guard let now else { return false }
        gauge.record(now)
        return true
    }

    func leave() {
        gauge.record(
            count.withLockedValue {
                $0 -= 1; return $0
            })
    }
}

/// Whether a connection has room for more stream output: its channel is writable and the
/// lines handed to it from other threads but not yet written stay under ``inFlightLimit``.
/// Threads that wait to write block on it (woken by the event loop's writability changes and
/// write completions, instead of polling).
final class WritabilityGate: Sendable {
    /// Stream bytes handed over and not yet written, past which there is no room.
    static let inFlightLimit = 16 << 10

    private struct Fields {
        var writable = true
        var inFlight = 0
        /// When output handed over was last written (or the gate made).
        var lastWritten = ContinuousClock.now
        var hasRoom: Bool { writable && inFlight < WritabilityGate.inFlightLimit }
    }

    /// 1 while there is room; changed only with `fields`, under its own lock.
    private let state = ConditionLock(value: 1)
    private let fields = NIOLockedValueBox(Fields())

    func set(_ writable: Bool) { update { $0.writable = writable } }
    func submitted(_ bytes: Int) { update { $0.inFlight += bytes } }
    func completed(_ bytes: Int) {
        update {
            $0.inFlight -= bytes
            $0.lastWritten = .now
        }
    }

    /// Whether more output fits now.
    var hasRoom: Bool { fields.withLockedValue { $0.hasRoom } }
    /// Bytes handed over and not yet written.
    var unsent: Int { fields.withLockedValue { $0.inFlight } }
    /// Seconds since output handed over was last written.
    var secondsSinceWritten: Double {
        let elapsed = ContinuousClock.now - fields.withLockedValue { $0.lastWritten }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private func update(_ change: (inout Fields) -> Void) {
        state.lock()
        let room = fields.withLockedValue { fields in
            change(&fields)
            return fields.hasRoom
        }
        state.unlock(withValue: room ? 1 : 0)
    }

    /// Waits until there is room; false after `seconds` without.
    func wait(seconds: Double) -> Bool {
        guard state.lock(whenValue: 1, timeoutSeconds: seconds) else { return false }
        state.unlock()
        return true
    }
}

/// Linux's `struct ucred` (SO_PEERCRED), declared here because Glibc's is behind _GNU_SOURCE.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
