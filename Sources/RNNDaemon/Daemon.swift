import CLinux
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RNNCore
import RNNJSON
import RNNProtocol
import RNNServer
public import RNNService
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The rnnd service: binds the admin and read-only sockets, loads the saved models, and runs
/// its parts (``DaemonServices``) in a service group until SIGTERM, SIGINT or
/// `daemon.shutdown`, then stops accepting, checkpoints and returns.
public final class Daemon: Sendable {
    let settings: ConfigurationBox
    let logger: Logger
    /// The running parts once started, and whether a stop was asked for before they were.
    private let lifecycle = NIOLockedValueBox<(group: ServiceGroup?, stopRequested: Bool)>((nil, false))

    /// - Parameters:
    ///   - configurationPath: the file SIGHUP re-reads, if any.
    ///   - overrides: command-line settings, reapplied after each reload.
    public init(
        configuration: DaemonConfiguration, configurationPath: String? = nil,
        overrides: @escaping @Sendable (inout DaemonConfiguration) -> Void = { _ in }, logger: Logger
    ) {
        self.settings = ConfigurationBox(configuration, path: configurationPath, overrides: overrides)
        self.logger = logger
    }

    var configuration: DaemonConfiguration { settings.current }

    /// The admin socket's path.
    public var adminSocketPath: String { configuration.resolvedSocketDirectory + "/rnnd.sock" }
    /// The read-only socket's path.
    public var readOnlySocketPath: String { configuration.resolvedSocketDirectory + "/rnnd-ro.sock" }

    /// Asks the daemon to stop gracefully, as SIGTERM does.
    public func requestStop() {
        let group = lifecycle.withLockedValue { state in
            state.stopRequested = true
            return state.group
        }
        guard let group else { return }
        Task { await group.triggerGracefulShutdown() }
    }

    /// Serves until asked to stop; returns after every model is checkpointed.
    public func run() async throws {
        let stateDirectory = configuration.resolvedStateDirectory
        let socketDirectory = configuration.resolvedSocketDirectory
        try FileIO.ensurePrivateFolder(stateDirectory, what: "state")
        let lock = try InstanceLock(stateDirectory: stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        try FileIO.makeDirectories(stateDirectory + "/models")
        // Trapped before any socket is served: from then on a SIGHUP is a reload and a SIGTERM
        // or SIGINT a graceful stop, even if they come before the parts run.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let stops = await UnixSignalsSequence(trapping: .sigterm, .sigint)
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
        limitMallocArenas()
        let threads = configuration.training.blasThreads > 0 ? configuration.training.blasThreads : System.coreCount
        BLAS.threadCount = threads
        logger.log(
            level: BLAS.openBLASProblem == nil ? .info : .warning,
            "engine: \(Kernels.summary) threads=\(BLAS.threadCount) sampling_weights=\(configuration.sampling.weights.rawValue)"
        )
        let pool = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
        pool.start()
        // One event loop per core: a sample's request task runs on its connection's loop
        // (RNNServer's EventLoopTaskExecutor), and one loop for every connection made the
        // answers of a 16-client load wait on each other (p99 7.9-8.1 ms against 5.6-7.4).
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        // Before anything makes a metric: swift-metrics binds each at its creation.
        _ = MetricsExport.shared
        let service = ModelService(settings: settings, pool: pool, logger: logger)
        let registry = service.registry
        await registry.loadSavedModels()
        let bindings = ContractBindings(
            service: service, started: .now, openRPCDocument: try Self.loadOpenRPCDocument(),
            requestShutdown: { [weak self] in self?.requestStop() })
        let server = RPCServer(dispatcher: Dispatcher(service: bindings, logger: logger), group: eventLoops)
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
            throw ServiceError(.storageFailed, error.message)
        }
        let how = activated.isEmpty ? "bound" : "from systemd (\(activated.keys.sorted().joined(separator: ", ")))"
        let adminPath = admin.localAddress?.pathname ?? adminSocketPath
        let readOnlyPath = readOnly.localAddress?.pathname ?? readOnlySocketPath
        logger.info(
            "rnnd \(rnndVersion) serving \(adminPath) (admin) and \(readOnlyPath) (read-only), \(how); state in \(stateDirectory)"
        )
        let notifier = SystemdNotifier()
        signal(SIGPIPE, SIG_IGN)
        let group = ServiceGroup(
            configuration: .init(
                services: services(
                    registry: registry, channels: [admin, readOnly], notifier: notifier, eventLoops: eventLoops,
                    hangups: hangups, stops: stops),
                logger: logger))
        // A daemon.shutdown that came before the group existed stops it at once.
        let stopAtOnce = lifecycle.withLockedValue { state in
            state.group = group
            return state.stopRequested
        }
        if stopAtOnce { Task { await group.triggerGracefulShutdown() } }
        // Every signal is trapped and the sockets are bound: ready, then accept, so that no
        // client is answered while systemd still sees the unit starting.
        notifier.ready(status: await registry.statusLine())
        try await server.startAccepting(admin)
        try await server.startAccepting(readOnly)
        try await group.run()
        // The models have checkpointed; requests still open (a long sample, a scoring) are
        // cancelled and end before the event loops that would write their answers stop.
        await server.closeConnections(waitingUpTo: 10)
        if activated["admin"] == nil { unlink(adminSocketPath) }
        if activated["readonly"] == nil { unlink(readOnlySocketPath) }
        try? await eventLoops.shutdownGracefully()
        try? await pool.shutdownGracefully()
        logger.info("stopped")
    }

    /// The parts the daemon runs, in start order; graceful shutdown stops them in reverse:
    /// the sockets stop accepting, the periodic work ends, then the models checkpoint.
    private func services(
        registry: ModelRegistry, channels: [any Channel], notifier: SystemdNotifier,
        eventLoops: MultiThreadedEventLoopGroup, hangups: UnixSignalsSequence, stops: UnixSignalsSequence
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let logger = logger
        let stopping = NIOLockedValueBox(false)
        var services: [any Service] = [
            CheckpointService(registry: registry),
            StopSignalService(signals: stops) { [weak self] in self?.requestStop() },
            ReloadService(
                hangups: hangups, stopping: stopping, settings: settings, notifier: notifier, registry: registry,
                logger: logger),
            PeriodicService(description: "status", interval: .seconds(2)) {
                notifier.status(await registry.statusLine())
            },
            PeriodicService(description: "idle-unload", interval: .seconds(10)) { await registry.unloadIdle() },
        ]
        if let interval = notifier.watchdogInterval {
            // Keep-alives only while every event loop and every worker thread answer.
            let loops = Array(eventLoops.makeIterator())
            services.append(
                PeriodicService(description: "watchdog", interval: interval / 3) {
                    for loop in loops { guard (try? await loop.submit({}).get()) != nil else { return } }
                    if await registry.workersAlive(within: interval) { notifier.watchdog() }
                })
        }
        services.append(
            SocketService(channels: channels, stopping: stopping, notifier: notifier, logger: logger))
        return services.map {
            // Any part that ends on its own (a socket closed under us) stops the daemon cleanly.
            .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }
    }

    /// Raises the soft limit on open files to the hard one: every connection is a descriptor,
    /// and the default soft limit (1024) is below what the connection limits allow.
    private func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Caps glibc's malloc arenas at one per core (unless MALLOC_ARENA_MAX says otherwise).
    /// Samples, streams and model workers come and go on threads of their own; with glibc's
    /// default of eight arenas per core each new thread may take another arena, and freed
    /// memory scattered over them was not given back: the soak test measured 12 MiB of
    /// growth over 300 create-sample-delete cycles, and none with two arenas.
    private func limitMallocArenas() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = rnnd_limit_malloc_arenas(Int32(max(2, System.coreCount)))
    }

    /// protocol/openrpc.json, compiled into the binary.
    static func loadOpenRPCDocument() throws -> JSON {
        try JSONCoding.parse(Array(openRPCDocumentText.utf8))
    }
}
