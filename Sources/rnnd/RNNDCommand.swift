import ArgumentParser
import Logging
import RNNDaemon
import RNNService

#if canImport(Glibc)
    import Glibc
#endif

/// `rnnd`: the daemon. Parses flags, reads the configuration, runs ``Daemon``.
@main
struct RNNDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnd",
        abstract: "Keep character-level RNN models warm: sample and train them over JSON-RPC on Unix sockets.",
        discussion: """
            Without a configuration file every limit has a safe default. As a normal user the sockets go in \
            $XDG_RUNTIME_DIR/rnnd and the state in $XDG_STATE_HOME/rnnd (~/.local/state/rnnd); as root in \
            /run/rnnd and /var/lib/rnnd; under systemd in $RUNTIME_DIRECTORY and $STATE_DIRECTORY.
            """)

    @Option(help: "TOML configuration file.")
    var config: String?

    @Flag(help: "Use the defaults when the --config file does not exist (the shipped unit does).")
    var configOptional = false

    @Option(help: "State folder (overrides the configuration).")
    var stateDir: String?

    @Option(help: "Socket folder (overrides the configuration).")
    var socketDir: String?

    @Option(help: "Threads of the engine's kernels for training and sampling (0 = one per core).")
    var blasThreads: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Print the configuration in effect, every key, as TOML, and exit.")
    var printConfig = false

    @Flag(help: "Check the configuration and exit: 0 when rnnd would accept it (systemctl reload runs this first).")
    var checkConfig = false

    mutating func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        // The journal under systemd; `<N>`-prefixed stderr when not on a terminal; plain text on one.
        let journal = journalIsAvailable
        let terminal = isatty(2) == 1
        LoggingSystem.bootstrap { label in
            if journal {
                var handler = JournalLogHandler()
                handler.logLevel = level
                return handler
            } else if terminal {
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = PriorityPrefixLogHandler()
            handler.logLevel = level
            return handler
        }
        var configuration = DaemonConfiguration()
        let configPath = config.flatMap { path in configOptional && access(path, F_OK) != 0 ? nil : path }
        if let config = configPath {
            do {
                configuration = try DaemonConfiguration.load(path: config)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let (stateDir, socketDir, blasThreads) = (stateDir, socketDir, blasThreads)
        let overrides: @Sendable (inout DaemonConfiguration) -> Void = { c in
            if let stateDir { c.paths.stateDirectory = stateDir }
            if let socketDir { c.paths.socketDirectory = socketDir }
            if let blasThreads { c.training.blasThreads = blasThreads }
        }
        overrides(&configuration)
        if printConfig {
            print(configuration.toml(), terminator: "")
            return
        }
        if checkConfig {
            print("\(configPath ?? "defaults"): the configuration is valid")
            return
        }
        let daemon = Daemon(
            configuration: configuration, configurationPath: configPath, overrides: overrides,
            logger: Logger(label: "rnnd")
        )
        try await daemon.run()
    }
}
