import Corpora
import Logging
import RNNCore
import RNNJSON

extension ModelWorker {
    /// Runs a `train.start` job step by step until it reaches its budget, is cancelled,
    /// fails, or the daemon stops. The corpus is read in windows (a 1 GB file is never in
    /// memory at once); the last `validation_fraction` of each window is held out.
    func runJob(_ job: TrainingJob) {
        let p = job.plan
        job.update({ $0.phase = .running }, notify: true)
        var run = JobRun(job: job)
        var source: any CorpusSource
        do {
            source = try job.opener()
        } catch {
            finishJob(job, .failed, error: "the corpus cannot be opened: \(error.message)")
            return
        }
        defer { source.close() }
        if let l2e = source as? LearningToExecuteCorpus, l2e.hasLevels, let saved = record.curriculumLevel,
            saved.count == 2,
            let resumed = try? LearningToExecuteCorpus(l2e.options, level: (saved[0], saved[1]))
        {
            source = resumed  // the curriculum goes on where the last job left it
        }
        // Generated samples come in small windows, so that a raised curriculum level shows soon.
        let windowBytes = source is LearningToExecuteCorpus ? 32 << 10 : Self.windowBytes
        publish(activity: .training)
        while true {
            let window: (text: String, mask: [Bool]?)
            do {
                window = try Self.readWindow(&source, bytes: windowBytes)
            } catch {
                finishJob(job, .failed, error: error.message)
                return
            }
            if window.text.isEmpty {
                // The end of a finite corpus: an epoch is done.
                guard run.windowsThisEpoch > 0 else {
                    finishJob(job, .failed, error: "the corpus is empty")
                    return
                }
                // A whole epoch without a step would repeat forever: the text is too short.
                guard run.steps > run.stepsAtEpochStart else {
                    finishJob(
                        job, .failed,
                        error: "the corpus is too short to train on: after holding out validation_fraction "
                            + "\(p.validationFraction) no window has 2 characters; give more text or a smaller "
                            + "validation_fraction")
                    return
                }
                run.stepsAtEpochStart = run.steps
                run.epoch += 1
                if run.stopsAtEpochEnd(p) { break }
                source.close()
                do {
                    source = try job.opener()
                } catch {
                    finishJob(job, .failed, error: "the corpus cannot be reopened: \(error.message)")
                    return
                }
                run.windowsThisEpoch = 0
                continue
            }
            run.windowsThisEpoch += 1
            switch trainWindow(window.text, mask: window.mask, job: job, run: &run, source: &source) {
            case .continue: continue
            case .budgetReached: break
            case .ended: return
            }
            break
        }
        concludeJob(job, run: &run, .finished, reason: run.watch.stoppedEarly ? .earlyStopping : .budget)
    }

    enum WindowOutcome { case `continue`, budgetReached, ended }

    /// One pass over a window of the corpus.
    private func trainWindow(
        _ text: String, mask: [Bool]?, job: TrainingJob, run: inout JobRun, source: inout any CorpusSource
    ) -> WindowOutcome {
        let p = job.plan
        _ = growVocabulary(for: text)
        let tokens = vocabulary.encode(text)
        let weights = mask.map { Self.tokenWeights($0, text: text, bytes: vocabulary.kind == .bytes) }
        let validationCount = Int(Double(tokens.count) * p.validationFraction)
        let trainCount = tokens.count - validationCount
        let train = Array(tokens[..<trainCount])
        let validation = Array(tokens[trainCount...].prefix(50_000))
        let validationWeights = weights.map { Array($0[trainCount...].prefix(50_000)) }
        var batch = p.batchSize ?? record.batchSize
        var steps = p.seqLength ?? record.seqLength
        if train.count - 1 < batch * steps { batch = max(1, (train.count - 1) / steps) }
        if train.count - 1 < batch * steps { steps = train.count - 1 }
        var batcher: any Batcher
        let trainWeights = weights.map { Array($0[..<trainCount]) }
        var separator: Int32?
        if let l2e = source as? LearningToExecuteCorpus, l2e.options.separateSequences,
            let newline = vocabulary.encode("\n").first,
            let samples = try? SampleBatcher(tokens: train, weights: trainWeights, separator: newline, batchSize: batch)
        {
            batcher = samples
            steps = samples.steps
            separator = newline
        } else if steps >= 1,
            let streams = try? SequenceBatcher(tokens: train, weights: trainWeights, batchSize: batch, steps: steps)
        {
            batcher = streams
        } else {
            // A window too small to train on; the job still answers a stop or a cancel.
            if let ended = stopOrCancel(job, run: &run) { return ended }
            return .continue
        }
        let savedSettings = trainer.settings
        if let clip = p.clipValue {
            switch trainer.settings.clipping {
            case .value: trainer.settings.clipping = .value(Float(clip))
            default: trainer.settings.clipping = .norm(Float(clip))
            }
        }
        trainer.settings.learningRate = Float(jobLearningRate(p, run))
        defer { trainer.settings = savedSettings }
        if validation.count > 1, run.watch.heldOut == nil {
            run.watch.heldOut = ValidationSet(
                tokens: validation, weights: validationWeights, batch: batch, steps: steps, separator: separator)
        }
        if run.totalSteps == nil, let epochs = p.epochs, run.windowsThisEpoch == 1, run.epoch == 0,
            tokens.count < Self.windowBytes / 2
        {
            // A corpus that fits one window: the epoch budget is a step count.
            run.totalSteps = max(1, Int((epochs * Double(batcher.batchesPerEpoch)).rounded()))
        }
        let validateEvery = p.validateEvery
        let checkpointEvery = p.checkpointEvery
        let charsPerStep = batch * steps
        for _ in 0..<batcher.batchesPerEpoch {
            if let ended = stopOrCancel(job, run: &run) { return ended }
            if run.budgetReached(p) { return .budgetReached }
            let report: StepReport
            do {
                report = try trainer.step(batcher.next())
            } catch {
                concludeJob(job, run: &run, .failed, reason: .failed, error: error.message)
                return .ended
            }
            run.steps += 1
            record.steps += 1
            record.charactersSeen += charsPerStep
            ServiceMetrics.trained(characters: charsPerStep)
            dirty = true
            run.smoothed = run.smoothed.map { 0.95 * $0 + 0.05 * report.loss } ?? report.loss
            var validationLoss: Double?
            var levelRaised = false
            if let set = run.watch.heldOut, run.steps % validateEvery == 0 {
                validationLoss = evaluate(set)
                run.lastValidation = validationLoss
                levelRaised = measureCurriculum(&source, job: job, run: &run)
            }
            if validationLoss != nil || record.steps % 10 == 0 {
                record.record(step: record.steps, loss: run.smoothed ?? report.loss, validationLoss: validationLoss)
            }
            // After the record: a snapshot of the best weights carries its validation loss.
            // A loss of the level just left says nothing about the new one.
            if let validationLoss, !levelRaised { noteValidation(validationLoss, job: job, run: &run) }
            publish(activity: .training)
            let now = seconds(since: run.started)
            let rate = Double(run.steps * charsPerStep) / max(now, 1e-9)
            let notify = validationLoss != nil || seconds(since: run.lastNotice) >= 0.5
            if notify { run.lastNotice = .now }
            let snapshot = run
            let learningRate = jobLearningRate(p, run)
            let fraction = Double(batcher.position) / Double(max(1, batcher.batchesPerEpoch))
            job.update(
                { info in
                    info.step = snapshot.steps
                    info.totalSteps = snapshot.totalSteps
                    info.epoch = Double(snapshot.epoch) + (snapshot.windowsThisEpoch == 1 ? fraction : 0)
                    info.loss = snapshot.smoothed
                    if let validationLoss { info.validationLoss = validationLoss }
                    info.bestValidationLoss = snapshot.watch.bestLoss
                    info.bestStep = snapshot.watch.bestStep
                    info.learningRate = learningRate
                    info.charactersPerSecond = rate
                    if let total = snapshot.totalSteps {
                        info.etaSeconds = Double(total - snapshot.steps) * now / Double(snapshot.steps)
                    } else if let budget = p.seconds {
                        info.etaSeconds = max(0, budget - now)
                    }
                }, notify: notify)
            if run.steps % checkpointEvery == 0 {
                do { try save() } catch { logger.error("autosave of \(host.name) failed: \(error.message)") }
            }
            if run.watch.stoppedEarly { return .budgetReached }
        }
        if let set = run.watch.heldOut, run.lastValidation == nil || run.steps % validateEvery != 0 {
            run.lastValidation = evaluate(set)
            if let loss = run.lastValidation {
                record.record(step: record.steps, loss: run.smoothed ?? 0, validationLoss: loss)
                noteValidation(loss, job: job, run: &run)
                if run.watch.stoppedEarly { return .budgetReached }
            }
        }
        return .continue
    }

    static let windowBytes = 4 << 20

    /// About `bytes` of text (and its loss mask) from the source; empty at its end.
    static func readWindow(_ source: inout any CorpusSource, bytes: Int) throws(CorpusError) -> (
        text: String, mask: [Bool]?
    ) {
        var text = ""
        var mask: [Bool]?
        var size = 0
        while size < bytes, let chunk = try source.next(maximumBytes: min(1 << 20, bytes - size)) {
            if let m = chunk.lossMask {
                if mask == nil { mask = [Bool](repeating: true, count: text.unicodeScalars.count) }
                mask! += m
            } else if mask != nil {
                mask! += [Bool](repeating: true, count: chunk.text.unicodeScalars.count)
            }
            text += chunk.text
            size += chunk.text.utf8.count
        }
        return (text, mask)
    }

    /// Per-token weights from a per-character mask (a byte vocabulary repeats each
    /// character's weight over its UTF-8 bytes).
    static func tokenWeights(_ mask: [Bool], text: String, bytes: Bool) -> [Float] {
        guard bytes else { return mask.map { $0 ? 1 : 0 } }
        var out: [Float] = []
        for (scalar, counted) in zip(text.unicodeScalars, mask) {
            out += [Float](repeating: counted ? 1 : 0, count: UTF8.width(scalar))
        }
        return out
    }

    func finishJob(_ job: TrainingJob, _ state: TrainingJob.State, error: String? = nil, reason: JobEnding? = nil) {
        if dirty {
            do { try save() } catch { logger.error("save of \(host.name) after its job failed: \(error.message)") }
        }
        publish(activity: .idle)
        job.finish(state, error: error, reason: reason)
    }

    /// Between steps: runs pending commands, and ends the job (keeping what it learnt) when
    /// the worker must stop or the job was cancelled.
    private func stopOrCancel(_ job: TrainingJob, run: inout JobRun) -> WindowOutcome? {
        if betweenSteps() {
            concludeJob(
                job, run: &run, .interrupted, reason: .interrupted,
                error: "rnnd stopped or the model was unloaded; the model keeps what it learnt")
            return .ended
        }
        if job.isCancelled {
            concludeJob(job, run: &run, .cancelled, reason: .cancelled)
            return .ended
        }
        return nil
    }

}

/// The progress of one job across windows and epochs.
struct JobRun {
    let started = ContinuousClock.now
    var lastNotice = ContinuousClock.now
    var steps = 0
    /// `steps` when the current epoch began.
    var stepsAtEpochStart = 0
    var epoch = 0
    var windowsThisEpoch = 0
    var totalSteps: Int?
    var smoothed: Double?
    var lastValidation: Double?
    var bestAccuracy = 0.0
    var stalledChecks = 0
    var watch = ValidationWatch()

    init(job: TrainingJob) {
        totalSteps = job.plan.steps
    }

    /// Whether the step or time budget is spent.
    func budgetReached(_ p: TrainingPlan) -> Bool {
        if let totalSteps, steps >= totalSteps { return true }
        if let budget = p.seconds, seconds(since: started) >= budget { return true }
        return false
    }

    /// Whether the job ends with the epoch just completed (no other budget: one epoch).
    func stopsAtEpochEnd(_ p: TrainingPlan) -> Bool {
        if let epochs = p.epochs { return Double(epoch) >= epochs }
        return p.steps == nil && p.seconds == nil
    }
}
