import ArgumentParser
import Dispatch
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Start a training job; --follow shows a live progress bar.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Option(help: "The training text file (in a folder rnnd allows).") var corpus: String?
    @Option(help: "Inline training text.") var text: String?
    @Option(help: "A corpus plugin (rnnctl corpora lists them).") var plugin: String?
    @Option(help: "A plugin parameter as name=value (repeatable).") var param: [String] = []
    @Option(help: "The learning-to-execute generator.") var l2e: L2ESpec.Task?
    @Option(help: "learning-to-execute: literal digits.") var l2eLength: Int?
    @Option(help: "learning-to-execute: nesting.") var l2eNesting: Int?
    @Option(help: "learning-to-execute: the curriculum.") var curriculum: L2ESpec.Curriculum?
    @Option(help: "Stop after this many steps.") var steps: Int?
    @Option(help: "Stop after this many epochs.") var epochs: Double?
    @Option(help: "Stop after this many seconds.") var seconds: Double?
    @Option(help: "Streams per batch.") var batch: Int?
    @Option(help: "Steps per batch.") var seq: Int?
    @Option(help: "Learning rate for this job.") var lr: Double?
    @Option(help: "Held-out fraction for validation.") var validationFraction: Double?
    @Option(help: "Steps between validation measurements.") var validateEvery: Int?
    @Option(help: "Steps between checkpoints.") var checkpointEvery: Int?
    @Flag(
        inversion: .prefixedNo,
        help: "End holding the weights of the lowest validation loss (default on; --no-keep-best keeps the last).")
    var keepBest = true
    @Option(help: "Stop early after this many validations without improvement.") var patience: Int?
    @Option(help: "How much lower a validation loss must be to count as an improvement.") var minDelta: Double?
    @Option(help: "Multiply the learning rate by this when validation stops improving.") var plateauFactor: Double?
    @Option(help: "Validations without improvement before --plateau-factor applies (default 3).")
    var plateauPatience: Int?
    @Option(help: "The learning rate decays on plateau no lower than this.") var minLr: Double?
    @Flag(help: "Keep the best weights so far as the snapshot best-JOB too.") var snapshotBest = false
    @Flag(help: "Show progress until the job ends (Ctrl-C stops following; the job goes on).") var follow = false
    @Flag(help: "With --follow, Ctrl-C cancels the job.") var cancelOnInterrupt = false

    func validate() throws {
        if [corpus != nil, text != nil, plugin != nil, l2e != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give one of --corpus FILE, --text TEXT, --plugin NAME or --l2e TASK")
        }
        if cancelOnInterrupt && !follow { throw ValidationError("--cancel-on-interrupt needs --follow") }
        if text?.isEmpty == true { throw ValidationError("--text is empty: give the text to train on") }
    }

    func run() throws {
        var p = TrainStart.Params(
            model: model, corpus: try chosenCorpus(), steps: steps, epochs: epochs, seconds: seconds, batchSize: batch,
            seqLength: seq, learningRate: lr, stream: follow)
        if let validationFraction { p.validationFraction = validationFraction }
        if let validateEvery { p.validateEvery = validateEvery }
        if let checkpointEvery { p.checkpointEvery = checkpointEvery }
        p.keepBest = keepBest
        p.patience = patience
        if let minDelta { p.minDelta = minDelta }
        p.plateauFactor = plateauFactor
        if let plateauPatience { p.plateauPatience = plateauPatience }
        if let minLr { p.minLearningRate = minLr }
        p.snapshotBest = snapshotBest
        let checked = try global.perform { try p.validated() }
        let client = try global.connect()
        if follow { installInterruptHandler() }
        let bar = ProgressBar(enabled: follow && !global.json)
        let r = try global.perform {
            try client.trainStart(checked) { info in
                FollowState.job.withLock { $0 = info["job"]?.stringValue }
                if global.json { print(JSONCoding.line(info)) } else { bar.draw(info) }
            }
        }
        if follow { bar.draw(r.wire) }  // the bar ends where the job ended
        bar.finish()
        global.output(r.wire) {
            if follow {
                print(Self.summary(r))
            } else {
                print("\(r.job) started on \(model); rnnctl jobs shows it")
            }
        }
    }

    /// How a followed job ended: its steps, losses, why it stopped, and what it kept.
    static func summary(_ r: JobInfo) -> String {
        var line =
            "\(r.job) \(r.state.rawValue): \(r.step) steps, "
            + "loss \(r.loss.map(format4) ?? "-"), validation loss \(r.validationLoss.map(format4) ?? "-")"
        if let reason = r.stopReason {
            line += ", stopped: \(reason.rawValue.split(separator: "_").joined(separator: " "))"
        }
        if let best = r.bestValidationLoss, let step = r.bestStep {
            line +=
                r.keptBest == true
                ? "; kept the best weights (validation \(format4(best)) at step \(step))"
                : "; best validation \(format4(best)) at step \(step)"
        }
        return line
    }

    /// The corpus spec the options name.
    private func chosenCorpus() throws -> CorpusSpec {
        if let plugin {
            var params: JSONObject = [:]
            for pair in param {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--param takes name=value, got \(pair)") }
                params[parts[0]] = JSON.string(parts[1])
            }
            return CorpusSpec(plugin: plugin, params: .object(params))
        }
        if let l2e {
            return CorpusSpec(l2e: L2ESpec(task: l2e, length: l2eLength, nesting: l2eNesting, curriculum: curriculum))
        }
        return corpusSpec(corpus, text: text) ?? CorpusSpec()
    }

    /// Ctrl-C while following: stop following, and with --cancel-on-interrupt cancel the job.
    private func installInterruptHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let cancel = cancelOnInterrupt
        let path = global.socketPath
        source.setEventHandler {
            if cancel, let job = FollowState.job.withLock({ $0 }) {
                if let c = try? RNNClient(path: path) { _ = try? c.call("train.cancel", ["job": .string(job)]) }
                writeStandardError("\nrnnctl: cancelled \(job)\n")
                Glibc.exit(130)
            }
            writeStandardError("\nrnnctl: stopped following; the job goes on (rnnctl jobs, rnnctl cancel JOB)\n")
            Glibc.exit(130)
        }
        source.resume()
        FollowState.source.withLock { $0 = source }
    }
}

/// State shared with the SIGINT handler.
enum FollowState {
    static let job = Locked<String?>(nil)
    static let source = Locked<(any DispatchSourceSignal)?>(nil)
}

/// A value behind a lock, for the signal handler.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is guarded by `lock`.
    private var value: Value
    private var lock = pthread_mutex_t()
    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(&lock, nil)
    }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return body(&value)
    }
}
