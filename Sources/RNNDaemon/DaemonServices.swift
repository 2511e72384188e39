import Logging
import NIOConcurrencyHelpers
import NIOCore
import RNNCore
import RNNService
import ServiceLifecycle
import UnixSignals

/// The models: run until graceful shutdown, then stop every worker (each finishes its step,
/// interrupts its job and checkpoints). First in the group, so it stops last: after the
/// sockets stopped accepting.
struct CheckpointService: Service {
    let registry: ModelRegistry

    func run() async throws {
        try? await gracefulShutdown()
        await registry.shutdown()
    }
}

/// The listening sockets: serve until graceful shutdown, then stop accepting (connections
/// already open are answered while the models stop). Started last, stopped first.
struct SocketService: Service {
    let channels: [any Channel]
    /// Set when the daemon starts stopping (a SIGHUP after that reloads nothing).
    let stopping: NIOLockedValueBox<Bool>
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let (channels, notifier, logger, stopping) = (channels, notifier, logger, stopping)
        try await withGracefulShutdownHandler {
            for channel in channels { try await channel.closeFuture.get() }
        } onGracefulShutdown: {
            stopping.withLockedValue { $0 = true }
            logger.info("stopping: no new connections; finishing steps and checkpointing")
            notifier.stopping()
            for channel in channels { channel.close(promise: nil) }
        }
    }
}

/// Something done every `interval` until graceful shutdown: systemd's status line, the
/// watchdog's keep-alive, unloading idle models.
struct PeriodicService: Service, CustomStringConvertible {
    let description: String
    let interval: Duration
    let body: @Sendable () async -> Void

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    }
}

/// SIGTERM and SIGINT, trapped when the daemon started: each asks for a graceful stop.
struct StopSignalService: Service {
    let signals: UnixSignalsSequence
    let stop: @Sendable () -> Void

    func run() async throws {
        let (signals, stop) = (signals, stop)
        await cancelWhenGracefulShutdown {
            // It keeps listening until its own turn to stop: a part that returns while the
            // group stops would be a part that failed.
            for await _ in signals { stop() }
        }
    }
}

/// SIGHUP: re-read the configuration file and apply it, or keep the old one and say why.
struct ReloadService: Service {
    /// Trapped when the daemon started, so that no SIGHUP before this part runs is lost.
    let hangups: UnixSignalsSequence
    /// Set once the daemon stops: a reload then would tell systemd READY after STOPPING.
    let stopping: NIOLockedValueBox<Bool>
    let settings: ConfigurationBox
    let notifier: SystemdNotifier
    let registry: ModelRegistry
    let logger: Logger

    func run() async throws {
        let (hangups, settings, notifier, registry, logger) = (hangups, settings, notifier, registry, logger)
        let stopping = stopping
        await cancelWhenGracefulShutdown {
            for await _ in hangups where !stopping.withLockedValue({ $0 }) {
                notifier.reloading()
                do throws(ConfigurationError) {
                    let fresh = try settings.reload()
                    logger.info(
                        "SIGHUP: configuration reloaded from \(settings.path ?? "defaults"); limits now \(fresh.limits)"
                    )
                } catch {
                    logger.error(
                        "SIGHUP: the configuration was not reloaded, the old one stays in force: \(error.message)")
                }
                notifier.ready(status: await registry.statusLine())
            }
        }
    }
}
