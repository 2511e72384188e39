public import RNNCore
import TOMLKit

#if canImport(Glibc)
    import Glibc
#endif

/// rnnd's configuration: a TOML file with a safe default for every field; flags override it.
///
/// ```toml
/// [paths]
/// state_directory = "/var/lib/rnnd"
/// socket_directory = "/run/rnnd"
/// corpus_directories = ["/srv/corpora"]
/// import_directories = []
/// export_directories = []
///
/// [limits]
/// max_message_bytes = 1048576
/// max_connections = 256         # on the read-only socket
/// max_admin_connections = 64     # on the admin socket, counted apart
/// idle_connection_seconds = 60   # a peer that sends nothing and waits for nothing is closed
/// max_loaded_models = 8          # past it, the least recently used model is saved and unloaded
/// max_parameters = 50000000      # per model: create, import and load refuse more
/// max_import_bytes = 1073741824
/// max_samples = 256              # read-only socket's samples in progress (stepping or waiting)
/// max_batch = 64                 # samples of one model stepped together
/// max_evaluations = 16           # evaluations and scorings at once, each on its own thread
/// max_requests_per_connection = 16
/// idle_unload_seconds = 0        # 0 = never
/// max_sample_length = 100000
/// max_jobs = 4
/// max_snapshots = 16             # named snapshots per model
/// max_vocabulary = 4096
/// max_feed_bytes = 16777216      # per train.feed call
/// max_spool_bytes = 268435456    # unlearnt text per model
///
/// [training]
/// blas_threads = 0               # 0 = one per core
/// autosave_seconds = 60
/// feed_validation_fraction = 0.05 # of fed text held out to validate online learning
///
/// [sampling]
/// weights = "int8"               # "single", "half" or "int8"; see SamplingPrecision
/// ```
public struct DaemonConfiguration: Sendable, Hashable {
    public struct Paths: Sendable, Hashable {
        public var stateDirectory: String?
        public var socketDirectory: String?
        public var corpusDirectories: [String] = []
        public var importDirectories: [String] = []
        public var exportDirectories: [String] = []
        /// Folders whose executables are corpus plugins.
        public var pluginDirectories: [String] = []
        public init() {}
    }

    public struct Limits: Sendable, Hashable {
        public var maxMessageBytes = 1 << 20
        public var maxConnections = 256
        public var maxAdminConnections = 64
        public var idleConnectionSeconds: Double = 60
        public var maxLoadedModels = 8
        /// Parameters of one model; a larger create, import or load is refused.
        public var maxParameters = 50_000_000
        public var maxImportBytes = 1 << 30
        /// The read-only socket's samples in progress at once, across models (stepping in a
        /// batch or waiting to); the admin socket's are not counted.
        public var maxSamples = 256
        /// Samples of one model (and snapshot) stepped together; more wait for a row.
        public var maxBatch = 64
        /// Evaluations and scorings running at once (each on its own thread).
        public var maxEvaluations = 16
        /// Requests one connection may have outstanding at once.
        public var maxRequestsPerConnection = 16
        public var idleUnloadSeconds: Double = 0
        public var maxSampleLength = 100_000
        public var maxJobs = 4
        public var maxSnapshots = 16
        public var maxVocabulary = 4096
        public var maxFeedBytes = 16 << 20
        public var maxSpoolBytes = 256 << 20
        /// A corpus plugin's lifetime, output and silence bounds.
        public var pluginSeconds: Double = 3600
        public var pluginBytes = 1 << 30
        public var pluginIdleSeconds: Double = 60
        public init() {}
    }

    public struct Training: Sendable, Hashable {
        public var blasThreads = 0
        public var autosaveSeconds: Double = 60
        /// The fraction of each chunk of fed text held out (not learnt) to validate online
        /// learning; 0 learns everything and reports no validation loss.
        public var feedValidationFraction = 0.05
        public init() {}
    }

    public struct Sampling: Sendable, Hashable {
        /// How samples read a model's larger weight matrices: as bytes with a scale per row,
        /// multiplied in integers (the default), rounded to half precision (half the bytes for
        /// products bound by memory bandwidth), or as they are.
        public var weights = SamplingPrecision.int8
        public init() {}
    }

    public var paths = Paths()
    public var limits = Limits()
    public var training = Training()
    public var sampling = Sampling()

    public init() {}

    /// Reads a TOML file; every absent field keeps its default.
    ///
    /// - Throws: ``ConfigurationError`` saying which line or field is wrong.
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            throw ConfigurationError(error.message)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError("\(path):\(error.source.begin.line): invalid TOML: \(error.description)")
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
        try checkKeys(table, path: path)
        var c = DaemonConfiguration()
        let reader = TOMLReader(table: table, path: path)
        try reader.string("paths", "state_directory") { c.paths.stateDirectory = $0 }
        try reader.string("paths", "socket_directory") { c.paths.socketDirectory = $0 }
        try reader.strings("paths", "corpus_directories") { c.paths.corpusDirectories = $0 }
        try reader.strings("paths", "import_directories") { c.paths.importDirectories = $0 }
        try reader.strings("paths", "export_directories") { c.paths.exportDirectories = $0 }
        try reader.int("limits", "max_message_bytes") { c.limits.maxMessageBytes = $0 }
        try reader.int("limits", "max_connections") { c.limits.maxConnections = $0 }
        try reader.int("limits", "max_loaded_models") { c.limits.maxLoadedModels = $0 }
        try reader.int("limits", "max_admin_connections") { c.limits.maxAdminConnections = $0 }
        try reader.double("limits", "idle_connection_seconds") { c.limits.idleConnectionSeconds = $0 }
        try reader.int("limits", "max_parameters") { c.limits.maxParameters = $0 }
        try reader.int("limits", "max_import_bytes") { c.limits.maxImportBytes = $0 }
        try reader.int("limits", "max_samples") { c.limits.maxSamples = $0 }
        try reader.int("limits", "max_batch") { c.limits.maxBatch = $0 }
        try reader.int("limits", "max_evaluations") { c.limits.maxEvaluations = $0 }
        try reader.int("limits", "max_requests_per_connection") { c.limits.maxRequestsPerConnection = $0 }
        try reader.double("limits", "idle_unload_seconds") { c.limits.idleUnloadSeconds = $0 }
        try reader.int("limits", "max_sample_length") { c.limits.maxSampleLength = $0 }
        try reader.int("limits", "max_jobs") { c.limits.maxJobs = $0 }
        try reader.int("limits", "max_snapshots") { c.limits.maxSnapshots = $0 }
        try reader.int("limits", "max_vocabulary") { c.limits.maxVocabulary = $0 }
        try reader.int("limits", "max_feed_bytes") { c.limits.maxFeedBytes = $0 }
        try reader.int("limits", "max_spool_bytes") { c.limits.maxSpoolBytes = $0 }
        try reader.strings("paths", "plugin_directories") { c.paths.pluginDirectories = $0 }
        try reader.double("limits", "plugin_seconds") { c.limits.pluginSeconds = $0 }
        try reader.int("limits", "plugin_bytes") { c.limits.pluginBytes = $0 }
        try reader.double("limits", "plugin_idle_seconds") { c.limits.pluginIdleSeconds = $0 }
        try reader.int("training", "blas_threads") { c.training.blasThreads = $0 }
        try reader.double("training", "autosave_seconds") { c.training.autosaveSeconds = $0 }
        try reader.double("training", "feed_validation_fraction") { c.training.feedValidationFraction = $0 }
        try reader.choice("sampling", "weights") { c.sampling.weights = $0 }
        try c.validate()
        return c
    }

    /// Refuses unknown sections and keys, so that a typo is not silently ignored.
    private static func checkKeys(_ table: TOMLTable, path: String) throws(ConfigurationError) {
        let known: [String: Set<String>] = [
            "paths": [
                "state_directory", "socket_directory", "corpus_directories", "import_directories", "export_directories",
                "plugin_directories",
            ],
            "limits": [
                "max_message_bytes", "max_connections", "max_loaded_models", "idle_unload_seconds", "max_sample_length",
                "max_jobs", "max_snapshots", "max_vocabulary", "max_feed_bytes", "max_spool_bytes", "plugin_seconds",
                "plugin_bytes",
                "plugin_idle_seconds", "max_admin_connections", "idle_connection_seconds", "max_parameters",
                "max_import_bytes", "max_samples", "max_batch", "max_evaluations", "max_requests_per_connection",
            ],
            "training": ["blas_threads", "autosave_seconds", "feed_validation_fraction"],
            "sampling": ["weights"],
        ]
        for section in table.keys {
            guard let keys = known[section] else {
                throw ConfigurationError("\(path): unknown section [\(section)]; known: \(known.keys.sorted())")
            }
            guard let inner = table[section]?.table else {
                throw ConfigurationError("\(path): [\(section)] must be a table")
            }
            for key in inner.keys where !keys.contains(key) {
                throw ConfigurationError("\(path): unknown key \(section).\(key); known: \(keys.sorted())")
            }
        }
    }

    /// Throws when a limit is out of range.
    public func validate() throws(ConfigurationError) {
        func positive(_ value: Int, _ name: String) throws(ConfigurationError) {
            if value < 1 { throw ConfigurationError("limits.\(name) must be at least 1, got \(value)") }
        }
        try positive(limits.maxMessageBytes, "max_message_bytes")
        try positive(limits.maxConnections, "max_connections")
        try positive(limits.maxLoadedModels, "max_loaded_models")
        try positive(limits.maxAdminConnections, "max_admin_connections")
        try positive(limits.maxParameters, "max_parameters")
        try positive(limits.maxImportBytes, "max_import_bytes")
        try positive(limits.maxSamples, "max_samples")
        try positive(limits.maxBatch, "max_batch")
        try positive(limits.maxEvaluations, "max_evaluations")
        try positive(limits.maxRequestsPerConnection, "max_requests_per_connection")
        if !(limits.idleConnectionSeconds > 0 && limits.idleConnectionSeconds <= 86_400 * 365) {
            throw ConfigurationError("limits.idle_connection_seconds must be above 0 and at most a year (31536000)")
        }
        try positive(limits.maxSampleLength, "max_sample_length")
        try positive(limits.maxJobs, "max_jobs")
        try positive(limits.maxSnapshots, "max_snapshots")
        try positive(limits.maxVocabulary, "max_vocabulary")
        try positive(limits.maxFeedBytes, "max_feed_bytes")
        try positive(limits.maxSpoolBytes, "max_spool_bytes")
        if limits.idleUnloadSeconds < 0 || training.autosaveSeconds <= 0 || training.blasThreads < 0 {
            throw ConfigurationError(
                "idle_unload_seconds >= 0, autosave_seconds > 0 and blas_threads >= 0 are required")
        }
        guard (0...0.5).contains(training.feedValidationFraction) else {
            throw ConfigurationError(
                "training.feed_validation_fraction must be in 0...0.5, got \(training.feedValidationFraction)")
        }
    }

    /// The state folder: the configured one, else `$STATE_DIRECTORY` (systemd), else
    /// /var/lib/rnnd for root, else `$XDG_STATE_HOME/rnnd` or ~/.local/state/rnnd.
    public var resolvedStateDirectory: String {
        if let s = paths.stateDirectory { return s }
        let env = ProcessEnvironment.self
        if let s = env["STATE_DIRECTORY"]?.split(separator: ":").first { return String(s) }
        if getuid() == 0 { return "/var/lib/rnnd" }
        if let x = env["XDG_STATE_HOME"], !x.isEmpty { return x + "/rnnd" }
        if let home = env["HOME"], !home.isEmpty { return home + "/.local/state/rnnd" }
        // No HOME: the password database's, never a shared folder such as /tmp.
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir {
            return String(cString: dir) + "/.local/state/rnnd"
        }
        return "/nonexistent/.local/state/rnnd"
    }

    /// The socket folder: the configured one, else `$RUNTIME_DIRECTORY` (systemd), else
    /// /run/rnnd for root, else `$XDG_RUNTIME_DIR/rnnd`.
    public var resolvedSocketDirectory: String {
        if let s = paths.socketDirectory { return s }
        let env = ProcessEnvironment.self
        if let s = env["RUNTIME_DIRECTORY"]?.split(separator: ":").first { return String(s) }
        if getuid() == 0 { return "/run/rnnd" }
        if let x = env["XDG_RUNTIME_DIR"], !x.isEmpty { return x + "/rnnd" }
        return "/tmp/rnnd-\(getuid())"
    }
}

/// Environment variables, read through libc.
enum ProcessEnvironment {
    static subscript(name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}

/// Typed reads of `[section] key` from a TOML table, with errors naming the key.
private struct TOMLReader {
    let table: TOMLTable
    let path: String

    func value(_ section: String, _ key: String) -> (any TOMLValueConvertible)? {
        table[section]?.table?[key]
    }

    func fail(_ section: String, _ key: String, _ what: String) -> ConfigurationError {
        ConfigurationError("\(path): \(section).\(key) must be \(what)")
    }

    func string(_ section: String, _ key: String, _ set: (String) -> Void) throws(ConfigurationError) {
        guard let v = value(section, key) else { return }
        guard let s = v.string else { throw fail(section, key, "a string") }
        set(s)
    }

    func strings(_ section: String, _ key: String, _ set: ([String]) -> Void) throws(ConfigurationError) {
        guard let v = value(section, key) else { return }
        guard let a = v.array else { throw fail(section, key, "an array of strings") }
        var out: [String] = []
        for item in a {
            guard let s = item.string else { throw fail(section, key, "an array of strings") }
            out.append(s)
        }
        set(out)
    }

    func choice<Choice: RawRepresentable & CaseIterable>(
        _ section: String, _ key: String, _ set: (Choice) -> Void
    ) throws(ConfigurationError) where Choice.RawValue == String {
        guard let v = value(section, key) else { return }
        guard let s = v.string, let choice = Choice(rawValue: s) else {
            throw fail(section, key, "one of " + Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        set(choice)
    }

    func int(_ section: String, _ key: String, _ set: (Int) -> Void) throws(ConfigurationError) {
        guard let v = value(section, key) else { return }
        guard let i = v.int else { throw fail(section, key, "an integer") }
        set(i)
    }

    func double(_ section: String, _ key: String, _ set: (Double) -> Void) throws(ConfigurationError) {
        guard let v = value(section, key) else { return }
        guard let d = v.double ?? v.int.map(Double.init) else { throw fail(section, key, "a number") }
        set(d)
    }
}
