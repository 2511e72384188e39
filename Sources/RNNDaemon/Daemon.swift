import Dispatch
import Foundation
public import Logging
import NIOCore
import NIOPosix
import RNNCore
import RNNJSON
import RNNProtocol
import RNNServer

#if canImport(Glibc)
    import Glibc
#endif

/// The rnnd service: binds the admin and read-only sockets, loads the saved models, serves
/// JSON-RPC until SIGTERM, SIGINT or `daemon.shutdown`, then checkpoints and returns.
public final class Daemon: Sendable {
    let settings: ConfigurationBox
    let logger: Logger
    private let stopSignal: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - configurationPath: the file SIGHUP re-reads, if any.
    ///   - overrides: command-line settings, reapplied after each reload.
    public init(
        configuration: DaemonConfiguration, configurationPath: String? = nil,
        overrides: @escaping @Sendable (inout DaemonConfiguration) -> Void = { _ in }, logger: Logger
    ) {
        self.settings = ConfigurationBox(configuration, path: configurationPath, overrides: overrides)
        self.logger = logger
        (stopSignal, stopContinuation) = AsyncStream<Void>.makeStream()
    }

    var configuration: DaemonConfiguration { settings.current }

    /// The admin socket's path.
    public var adminSocketPath: String { configuration.resolvedSocketDirectory + "/rnnd.sock" }
    /// The read-only socket's path.
    public var readOnlySocketPath: String { configuration.resolvedSocketDirectory + "/rnnd-ro.sock" }

    /// Asks the daemon to stop.
    public func requestStop() { stopContinuation.yield() }

    /// Serves until asked to stop; returns after every model is checkpointed.
    public func run() async throws {
        let stateDirectory = configuration.resolvedStateDirectory
        let socketDirectory = configuration.resolvedSocketDirectory
        try FileIO.ensurePrivateFolder(stateDirectory, what: "state")
        let lock = try InstanceLock(stateDirectory: stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        try FileIO.makeDirectories(stateDirectory + "/models")
        let activated = SocketActivation.listeningSockets()
        if activated.isEmpty {
            // Others reach the read-only socket through this folder (0755 when rnnd makes it).
            try FileIO.ensurePrivateFolder(socketDirectory, what: "socket", mode: 0o755)
        }
        // From here on nothing rnnd creates is for others but the read-only socket (chmod
        // 0666 after its bind, in a folder only rnnd can write); the admin socket is 0600
        // from its bind on, with no moment open to anyone.
        umask(0o077)
        raiseOpenFileLimit()
        let threads = configuration.training.blasThreads > 0 ? configuration.training.blasThreads : System.coreCount
        BLAS.threadCount = threads
        let pool = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
        pool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let registry = ModelRegistry(settings: settings, pool: pool, logger: logger)
        await registry.loadSavedModels()
        let document = try Self.loadOpenRPCDocument()
        let handlers = Handlers(
            registry: registry, settings: settings, pool: pool, logger: logger, started: .now,
            openRPCDocument: document, requestShutdown: { [weak self] in self?.requestStop() },
            computeSlots: ComputeSlots(settings: settings))
        let server = RPCServer(dispatcher: Dispatcher(service: handlers, logger: logger), group: group)
        // Each socket counts its own connections: idle peers on the world-writable read-only
        // socket cannot use up the admin socket's.
        let settings = settings
        let admin: any Channel
        let readOnly: any Channel
        do {
            admin = try await server.serve(
                adminSocketPath, activated: activated["admin"], mode: 0o600, readOnly: false,
                limits: { settings.current.serverLimits(readOnly: false) })
            readOnly = try await server.serve(
                readOnlySocketPath, activated: activated["readonly"], mode: 0o666, readOnly: true,
                limits: { settings.current.serverLimits(readOnly: true) })
        } catch let error as ServerError {
            throw DaemonError(.storageError, error.message)
        }
        let how = activated.isEmpty ? "bound" : "from systemd (\(activated.keys.sorted().joined(separator: ", ")))"
        let adminPath = admin.localAddress?.pathname ?? adminSocketPath
        let readOnlyPath = readOnly.localAddress?.pathname ?? readOnlySocketPath
        logger.info(
            "rnnd \(rnndVersion) serving \(adminPath) (admin) and \(readOnlyPath) (read-only), \(how); state in \(stateDirectory)"
        )
        logger.info("engine: \(Kernels.summary) threads=\(BLAS.threadCount)")
        let notifier = SystemdNotifier()
        notifier.ready(status: await registry.statusLine())
        let signals = installSignalHandlers(notifier: notifier, registry: registry)
        let statusTask = Task {
            var last = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                let line = await registry.statusLine()
                if line != last { notifier.status(line) }
                last = line
            }
        }
        let watchdogTask = notifier.watchdogInterval.map { interval in
            Task {
                // Keep-alives only while the event loop and every worker thread answer.
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval / 3)
                    guard (try? await group.next().submit({}).get()) != nil else { continue }
                    if await registry.workersAlive(within: interval) { notifier.watchdog() }
                }
            }
        }
        let idleTimer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                await registry.unloadIdle()
            }
        }
        for await _ in stopSignal { break }
        logger.info("stopping: no new connections; finishing steps and checkpointing")
        notifier.stopping()
        statusTask.cancel()
        watchdogTask?.cancel()
        idleTimer.cancel()
        for s in signals { s.cancel() }
        try? await admin.close()
        try? await readOnly.close()
        await registry.shutdown()
        if activated["admin"] == nil { unlink(adminSocketPath) }
        if activated["readonly"] == nil { unlink(readOnlySocketPath) }
        try? await group.shutdownGracefully()
        try? await pool.shutdownGracefully()
        logger.info("stopped")
    }

    /// Raises the soft limit on open files to the hard one: every connection is a descriptor,
    /// and the default soft limit (1024) is below what the connection limits allow.
    private func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    private func installSignalHandlers(notifier: SystemdNotifier, registry: ModelRegistry) -> [any DispatchSourceSignal]
    {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.requestStop() }
            source.resume()
            sources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let logger = logger
        let settings = settings
        hup.setEventHandler {
            notifier.reloading()
            defer {
                Task { notifier.ready(status: await registry.statusLine()) }
            }
            do throws(DaemonError) {
                let fresh = try settings.reload()
                logger.info(
                    "SIGHUP: configuration reloaded from \(settings.path ?? "defaults"); limits now \(fresh.limits)")
            } catch {
                logger.error("SIGHUP: the configuration was not reloaded, the old one stays in force: \(error.message)")
            }
        }
        hup.resume()
        sources.append(hup)
        signal(SIGPIPE, SIG_IGN)
        return sources
    }

    /// protocol/openrpc.json, compiled into the binary.
    static func loadOpenRPCDocument() throws -> JSON {
        try JSONCoding.parse(Array(openRPCDocumentText.utf8))
    }
}
