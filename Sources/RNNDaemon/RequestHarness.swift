import Dispatch
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import RNNJSON
import RNNProtocol

/// The request path without sockets: bytes as a client would send them go through the line
/// framer, the JSON-RPC envelope and every method's handler, on a daemon whose state lives
/// in `stateDirectory`. The fuzzer drives it, and its crash inputs are replayed through it as
/// regression tests. Training jobs that a request starts run as in the daemon.
public final class RequestHarness: Sendable {
    private let dispatcher: Dispatcher
    private let maximumBytes: Int
    private let pool: NIOThreadPool

    /// - Parameters:
    ///   - configure: limits and folders for the harness's daemon (the state folder is set).
    public init(
        stateDirectory: String, logger: Logger, configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = DaemonConfiguration()
        configuration.paths.stateDirectory = stateDirectory
        configure(&configuration)
        try FileIO.makeDirectories(stateDirectory + "/models")
        let settings = ConfigurationBox(configuration, path: nil, overrides: { _ in })
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let registry = ModelRegistry(settings: settings, pool: pool, logger: logger)
        let handlers = Handlers(
            registry: registry, settings: settings, pool: pool, logger: logger, started: .now,
            openRPCDocument: try Daemon.loadOpenRPCDocument(), requestShutdown: {},
            computeSlots: ComputeSlots(settings: settings))
        dispatcher = Dispatcher(handlers: handlers, logger: logger)
        maximumBytes = configuration.limits.maxMessageBytes
    }

    /// Everything the daemon would write back for `bytes` sent on one connection (the
    /// responses and stream notifications, one line each), waiting for each answer.
    public func run(_ bytes: [UInt8], readOnly: Bool) -> [String] {
        let channel = EmbeddedChannel()
        let frames = FrameCollector()
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(maximumBytes: maximumBytes)))
            try channel.pipeline.syncOperations.addHandler(frames)
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            try channel.writeInbound(buffer)
            _ = try channel.finish()
        } catch {
            return ["the channel failed: \(error)"]
        }
        let output = OutputLines()
        for frame in frames.frames {
            switch frame {
            case .tooLong(let limit): output.append(RPCConnectionHandler.tooLongResponse(limit: limit))
            case .line(let line):
                let done = DispatchSemaphore(value: 0)
                let dispatcher = dispatcher
                let request = Array(line.readableBytesView)
                Task {
                    let response = await dispatcher.handle(line: request, readOnly: readOnly, peer: "harness") {
                        line, _ in
                        output.append(line)
                        return true
                    }
                    if let response { output.append(response) }
                    done.signal()
                }
                done.wait()
            }
        }
        return output.lines
    }
}

/// Collects the framer's output on the embedded channel.
private final class FrameCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used on the embedded channel's thread only.
    typealias InboundIn = LineFrame
    var frames: [LineFrame] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { frames.append(unwrapInboundIn(data)) }
}

/// Lines written by handlers, possibly from other threads.
private final class OutputLines: Sendable {
    private let stored = NIOLockedValueBox<[String]>([])
    func append(_ line: String) { stored.withLockedValue { $0.append(line) } }
    var lines: [String] { stored.withLockedValue { $0 } }
}
