import Logging
import NIOPosix
import RNNCore
import RNNJSON
import Synchronization

/// Every model the daemon knows, loaded or not, and every job since it started. An actor:
/// it orders creation, deletion, loading and unloading; the CPU work itself runs on each
/// model's worker thread or on the blocking thread pool, never here.
package actor ModelRegistry {
    let settings: ConfigurationBox
    let store: ModelStore
    let pool: NIOThreadPool
    let logger: Logger
    private(set) var hosts: [String: ModelHost] = [:] {
        didSet { published.withLock { $0.hosts = hosts } }
    }
    /// Every job since start, oldest first (the last 1000).
    private(set) var jobs: [TrainingJob] = [] {
        didSet { published.withLock { $0.jobs = jobs } }
    }
    /// What read-only methods answer from without waiting for the actor: the models and
    /// jobs as of the last change, republished on every change.
    nonisolated let published = Mutex(Directory())
    private var nextJob = 1
    /// Seeds for requests that name none; outside the actor, so that a sample never waits for
    /// it (nor pulls it onto the event loop its task runs on).
    private nonisolated let seedGenerator = Mutex(
        SplitMix64(state: UInt64(truncatingIfNeeded: ContinuousClock.now.hashValue)))

    init(settings: ConfigurationBox, pool: NIOThreadPool, logger: Logger) {
        self.settings = settings
        self.store = ModelStore(root: settings.current.resolvedStateDirectory)
        self.pool = pool
        self.logger = logger
    }

    var configuration: DaemonConfiguration { settings.current }
    var limits: DaemonConfiguration.Limits { configuration.limits }

    /// Finds every saved model and loads as many as the limit allows; an unreadable one is
    /// reported and kept as failed, the others load.
    package func loadSavedModels() async {
        for leftover in store.removeLeftovers() {
            logger.notice("removed \(leftover), left by an interrupted create, delete or write")
        }
        for name in store.modelNames() {
            do {
                // At most max_loaded_models stay loaded; the rest are known and load on use.
                try await makeRoom()
                let host = try await loadFromDisk(name)
                hosts[name] = host
                logger.info("loaded model \(name)", metadata: ["model": "\(name)"])
            } catch {
                hosts[name] = ModelHost(failedName: name, store: store, reason: error.message)
                logger.error("model \(name) is unloadable: \(error.message)", metadata: ["model": "\(name)"])
            }
        }
    }

    /// The host of `name` (the published directory mirrors `hosts` at every change).
    nonisolated func host(_ name: String) throws(ServiceError) -> ModelHost { try publishedHost(name) }

    /// The host with its worker running, loading it (and unloading the least recently used
    /// idle model when at the limit) if needed.
    func loadedHost(_ name: String) async throws(ServiceError) -> ModelHost {
        let host = try host(name)
        if host.isLoaded { return host }
        try await makeRoom()
        let loaded = try await loadFromDisk(name)
        guard let current = hosts[name], current === host, !reserved.contains(name) else {
            // Deleted (or deleted and created anew) while it loaded: this copy must not return.
            if let worker = loaded.currentWorker { await worker.stop() }
            loaded.detach()
            throw ServiceError(
                .modelNotFound, "model '\(name)' was deleted while it loaded", details: ["model": .string(name)])
        }
        if current.isLoaded, current !== loaded { return current }  // loaded meanwhile
        return loaded
    }

    /// Saves and unloads the least recently used idle model while the loaded ones are at
    /// `limits.max_loaded_models`.
    func makeRoom() async throws(ServiceError) {
        // A loop: a lowered limit, or loads that finished meanwhile, may need several.
        while true {
            try await unloadOne()
            if hosts.values.filter(\.isLoaded).count < limits.maxLoadedModels { return }
        }
    }

    private func unloadOne() async throws(ServiceError) {
        let loaded = hosts.values.filter(\.isLoaded)
        guard loaded.count >= limits.maxLoadedModels else { return }
        let idle = loaded.filter { $0.currentWorker?.currentJob == nil }.min { $0.lastUsed < $1.lastUsed }
        guard let victim = idle else {
            throw ServiceError(
                .limitReached,
                "\(loaded.count) models are loaded and all are training (limits.max_loaded_models = \(limits.maxLoadedModels)); "
                    + "unload one or raise the limit")
        }
        await unloadWorker(victim)
    }

    private func loadFromDisk(_ name: String) async throws(ServiceError) -> ModelHost {
        let store = store
        // A checkpoint holds 4 bytes per parameter and a small header.
        let bytes = FileIO.size(store.modelPath(name))
        guard bytes <= 4 * limits.maxParameters + (16 << 20) else {
            throw ServiceError(
                .limitReached,
                "model '\(name)' has \(bytes) bytes of checkpoint, more than limits.max_parameters = \(limits.maxParameters) allows; "
                    + "raise the limit to load it", details: ["model": .string(name)])
        }
        let loaded: Result<(CharRNN, Vocabulary, Optimizer, ModelRecord, String?), ServiceError>
        do {
            loaded = try await pool.runIfActive {
                () -> Result<(CharRNN, Vocabulary, Optimizer, ModelRecord, String?), ServiceError> in
                do throws(ServiceError) {
                    let (m, v, o, r, w) = try store.load(name)
                    return .success((m, v, o, r, w))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw ServiceError(.internalFailure, "rnnd is shutting down")
        }
        let (model, vocabulary, optimizer, record, warning) = try loaded.get()
        if let warning { logger.warning("\(warning)", metadata: ["model": "\(name)"]) }
        return try start(name: name, model: model, vocabulary: vocabulary, optimizer: optimizer, record: record)
    }

    /// Wraps a model in a host with a running worker.
    func start(name: String, model: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer, record: ModelRecord)
        throws(ServiceError) -> ModelHost
    {
        let trainer: Trainer
        do {
            trainer = try Trainer(
                model: model, optimizer: optimizer, settings: record.trainingSettings, seed: UInt64(record.seed))
        } catch {
            throw ServiceError(.modelUnloadable, "model '\(name)' has invalid settings: \(error.message)")
        }
        let host =
            hosts[name] ?? ModelHost(name: name, store: store, model: model, vocabulary: vocabulary, record: record)
        let worker = ModelWorker(
            host: host, trainer: trainer, vocabulary: vocabulary, record: record,
            autosaveSeconds: configuration.training.autosaveSeconds, maxParameters: limits.maxParameters,
            maxSnapshots: limits.maxSnapshots, feedValidationFraction: configuration.training.feedValidationFraction,
            logger: logger)
        let snapshot = worker.snapshot
        host.attach(worker.mailbox, snapshot: snapshot)
        host.publish(snapshot, record: record, learned: worker.learned, activity: .idle)
        ModelWorker.start(worker)
        return host
    }

    func unloadWorker(_ host: ModelHost) async {
        guard let worker = host.currentWorker else { return }
        await worker.stop()
        host.detach()
        logger.info("unloaded model \(host.name)", metadata: ["model": "\(host.name)"])
    }

    /// Names being created or imported: a second create of one name is refused at once
    /// rather than after its (possibly long) corpus scan.
    private var reserved: Set<String> = []

    /// Claims `name` for a new model until ``release(_:)``.
    func reserve(_ name: String) throws(ServiceError) {
        guard hosts[name] == nil, !reserved.contains(name) else {
            throw ServiceError(
                .modelExists,
                "a model named '\(name)' \(hosts[name] == nil ? "is being created" : "exists"); pick another name or delete it first (model.delete, rnnctl rm)",
                details: ["model": .string(name)])
        }
        reserved.insert(name)
    }

    func release(_ name: String) { reserved.remove(name) }

    func add(_ host: ModelHost) { hosts[host.name] = host }
    func remove(_ name: String) { hosts[name] = nil }

    nonisolated func nextSeed() -> UInt64 { seedGenerator.withLock { $0.next() } >> 12 }

    // MARK: Jobs

    func register(_ job: TrainingJob) {
        jobs.append(job)
        if jobs.count > 1000 { jobs.removeFirst() }
    }

    func newJobID() -> String {
        defer { nextJob += 1 }
        return "job-\(nextJob)"
    }

    func job(_ id: String) throws(ServiceError) -> TrainingJob { try publishedJob(id) }

    var runningJobs: Int { jobs.filter { !$0.isDone }.count }

    // MARK: Published state (no wait for the actor)

    /// The models and jobs as last published.
    struct Directory: Sendable {
        var hosts: [String: ModelHost] = [:]
        /// Oldest first.
        var jobs: [TrainingJob] = []
    }

    /// The models and jobs as last published.
    nonisolated var directory: Directory { published.withLock { $0 } }

    /// The published host of `name`.
    nonisolated func publishedHost(_ name: String) throws(ServiceError) -> ModelHost {
        try ModelName.check(name)
        guard let host = published.withLock({ $0.hosts[name] }) else {
            throw ServiceError(
                .modelNotFound,
                "no model named '\(name)'; model.list (rnnctl list) shows the models, model.create (rnnctl create) makes one",
                details: ["model": .string(name)])
        }
        return host
    }

    /// The published job `id`.
    nonisolated func publishedJob(_ id: String) throws(ServiceError) -> TrainingJob {
        guard let job = published.withLock({ directory in directory.jobs.first { $0.id == id } }) else {
            throw ServiceError(
                .jobNotFound, "no job '\(id)'; train.list (rnnctl jobs) shows the jobs", details: ["job": .string(id)])
        }
        return job
    }

    /// Whether every worker thread came round within `limit` (a hung one stops the watchdog).
    package func workersAlive(within limit: Duration) -> Bool {
        hosts.values.allSatisfy { host in
            guard let worker = host.currentWorker else { return true }
            return ContinuousClock.now - worker.lastBeat < limit
        }
    }

    /// The status line systemd shows: models loaded, jobs running, training speed.
    package func statusLine() -> String {
        let loaded = hosts.values.filter(\.isLoaded).count
        let running = jobs.filter { !$0.isDone }
        let rate = running.compactMap { $0.snapshot.charactersPerSecond }.reduce(0, +)
        var line =
            "\(loaded) model\(loaded == 1 ? "" : "s") loaded, \(running.count) job\(running.count == 1 ? "" : "s") running"
        if rate > 0 { line += ", \(Int(rate)) chars/s" }
        return line
    }

    /// Stops every worker (each finishes its step, interrupts its job and saves).
    package func shutdown() async {
        for host in hosts.values { await unloadWorker(host) }
    }

    /// Unloads models unused for longer than the idle limit.
    package func unloadIdle() async {
        guard limits.idleUnloadSeconds > 0 else { return }
        for host in hosts.values
        where host.isLoaded && host.currentWorker?.currentJob == nil
            && seconds(since: host.lastUsed) > limits.idleUnloadSeconds
            && host.report.feedBacklogBytes == 0
        {
            await unloadWorker(host)
        }
    }
}
