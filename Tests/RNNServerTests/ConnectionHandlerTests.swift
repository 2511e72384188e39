import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import RNNJSON
import RNNProtocol
import Testing

@testable import RNNServer

/// The connection handler on an embedded channel: what it answers on the event loop itself.
@Suite struct ConnectionHandlerTests {
    static let limits = ServerLimits(
        maxMessageBytes: 1 << 16, maxConnections: 2, maxConnectionsKey: "limits.max_connections",
        idleConnectionSeconds: 60, maxRequestsPerConnection: 8)

    /// A channel with the server's handlers; `connected` makes it active (and its timers
    /// able to close it) rather than only telling the handlers it is.
    func channel(
        readOnly: Bool = true, connected: Bool = false,
        limits: @escaping @Sendable () -> ServerLimits = { Self.limits }
    ) throws -> EmbeddedChannel {
        let dispatcher = Dispatcher(service: StubService(), logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(maximumBytes: 1 << 16)))
        try channel.pipeline.syncOperations.addHandler(
            RPCConnectionHandler(
                dispatcher: dispatcher, readOnly: readOnly,
                connections: ConnectionCounter(socket: "test", limits: limits), output: OutputBudget(),
                open: OpenConnections()))
        if connected {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        } else {
            channel.pipeline.fireChannelActive()
        }
        return channel
    }

    func send(_ line: String, to channel: EmbeddedChannel) throws {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line + "\n")
        try channel.writeInbound(buffer)
    }

    func written(_ channel: EmbeddedChannel) throws -> [JSON] {
        var out: [JSON] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            for line in String(buffer: buffer).split(separator: "\n") {
                out.append(try JSONParser.parse(String(line)))
            }
        }
        return out
    }

    @Test func publishedStateIsAnsweredOnTheEventLoopWithoutAHop() throws {
        let channel = try channel()
        // The answer is written before writeInbound returns: no task, no other thread.
        try send(#"{"jsonrpc":"2.0","method":"daemon.status","id":9007199254740993}"#, to: channel)
        let answers = try written(channel)
        #expect(answers.count == 1)
        #expect(answers.first?["id"] == .integer(9_007_199_254_740_993))
        #expect(answers.first?["result"]?["version"] == "test")
        try send(#"{"jsonrpc":"2.0","method":"model.list","id":"a"}"#, to: channel)
        #expect(try written(channel).first?["result"]?["models"] == .array([]))
    }

    @Test func immediateRefusalsNameTheParameter() throws {
        let channel = try channel()
        try send(#"{"jsonrpc":"2.0","method":"model.list","params":{"colour":1},"id":1}"#, to: channel)
        let error = try #require(try written(channel).first?["error"])
        #expect(error["data"]?["pointer"] == "/colour")
    }

    @Test func blankLinesAndNotificationsGetNoAnswer() throws {
        let channel = try channel()
        try send("   ", to: channel)
        try send(#"{"jsonrpc":"2.0","method":"daemon.status"}"#, to: channel)
        #expect(try written(channel).isEmpty)
    }

    @Test func parseErrorsAreAnsweredAtOnceWithWhere() throws {
        let channel = try channel()
        try send(#"{"jsonrpc": 01}"#, to: channel)
        let error = try #require(try written(channel).first?["error"])
        #expect(error["code"] == -32700)
        #expect(error["message"]?.stringValue?.contains("at byte 12") == true)
    }

    @Test func connectionsPastTheLimitAreRefusedWithTheKey() throws {
        let counter = ConnectionCounter(socket: "test") { Self.limits }
        #expect(counter.enter() && counter.enter())
        #expect(!counter.enter())
        counter.leave()
        #expect(counter.enter())
    }

    @Test func aLoweredIdleTimeReachesAConnectionArmedForTheOldOne() throws {
        let idle = NIOLockedValueBox(20.0)
        let channel = try channel(connected: true) {
            var limits = Self.limits
            limits.idleConnectionSeconds = idle.withLockedValue { $0 }
            return limits
        }
        try send(#"{"jsonrpc":"2.0","method":"model.list","id":1}"#, to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "5 s idle of 20")
        idle.withLockedValue { $0 = 1 }  // a reload
        try send(#"{"jsonrpc":"2.0","method":"model.list","id":2}"#, to: channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
        #expect(channel.isActive, "0.9 s idle of 1")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive, "1.1 s idle of 1: closed, not left until the 20 s timer")
    }

    @Test func aConnectionIsIdleFromItsLastAnswerNotItsFirst() throws {
        let channel = try channel(connected: true)
        for id in 0..<5 {
            try send(#"{"jsonrpc":"2.0","method":"model.list","id":\#(id)}"#, to: channel)
            channel.embeddedEventLoop.advanceTime(by: .seconds(40))
        }
        #expect(channel.isActive, "200 s open, never 60 s idle")
        channel.embeddedEventLoop.advanceTime(by: .seconds(21))
        #expect(!channel.isActive, "61 s after its last answer")
    }
}
