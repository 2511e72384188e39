import Dispatch
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RNNJSON
import RNNProtocol
import RNNServer
public import RNNService

#if canImport(Glibc)
    import Glibc
#endif

/// The request path of the real daemon on a socketpair instead of a listening socket: bytes
/// as a client would send them go through the server's own pipeline (line framer, connection
/// handler, immediate answers, dispatch) to every method's handler, on a daemon whose state
/// lives in `stateDirectory`. The fuzzer drives it, and its crash inputs are replayed through
/// it as regression tests. Training jobs that a request starts run as in the daemon.
public final class RequestHarness: Sendable {
    private let server: RPCServer
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let settings: ConfigurationBox

    /// - Parameters:
    ///   - configure: limits and folders for the harness's daemon (the state folder is set).
    public init(
        stateDirectory: String, logger: Logger, configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = DaemonConfiguration()
        configuration.paths.stateDirectory = stateDirectory
        configure(&configuration)
        try FileIO.makeDirectories(stateDirectory + "/models")
        settings = ConfigurationBox(configuration, path: nil, overrides: { _ in })
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        _ = MetricsExport.shared
        let bindings = ContractBindings(
            service: ModelService(settings: settings, pool: pool, logger: logger), started: .now,
            openRPCDocument: try Daemon.loadOpenRPCDocument(), requestShutdown: {})
        server = RPCServer(dispatcher: Dispatcher(service: bindings, logger: logger), group: group)
    }

    /// Everything the daemon writes back for `bytes` sent on one connection that then closes
    /// its sending side: the responses and stream notifications, one line each, once the
    /// daemon has answered every request and closed the connection.
    public func run(_ bytes: [UInt8], readOnly: Bool) -> [String] {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return ["socketpair failed: errno \(errno)"]
        }
        let client = fds[1]
        defer { close(client) }
        let settings = settings
        do {
            _ = try server.serveConnected(
                fds[0], readOnly: readOnly, limits: { settings.current.serverLimits(readOnly: readOnly) }
            ).wait()
        } catch {
            close(fds[0])
            return ["the channel failed: \(error)"]
        }
        // The reader runs beside the writer: the daemon may answer before it has read all.
        let received = NIOLockedValueBox<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                received.withLockedValue { $0.append(contentsOf: chunk[0..<n]) }
            }
            done.signal()
        }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            sent += n
        }
        shutdown(client, Int32(SHUT_WR))
        done.wait()
        return received.withLockedValue { $0 }.split(separator: 0x0A, omittingEmptySubsequences: true).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
