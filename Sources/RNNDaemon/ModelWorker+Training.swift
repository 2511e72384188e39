import Logging
import RNNCore
import RNNProtocol

extension ModelWorker {
    /// Runs a `train.start` job step by step until it reaches its budget, is cancelled,
    /// fails, or the daemon stops.
    func runJob(_ job: TrainingJob) {
        let p = job.parameters
        job.update({ $0.state = TrainingJob.State.running.rawValue }, notify: true)
        let text = String(decoding: job.tokens, as: UTF8.self)
        _ = growVocabulary(for: text)
        let tokens = vocabulary.encode(text)
        let validationCount = Int(Double(tokens.count) * (p.validationFraction ?? 0.1))
        let train = Array(tokens[..<(tokens.count - validationCount)])
        let validation = Array(tokens[(tokens.count - validationCount)...].prefix(50_000))
        var batch = p.batchSize ?? record.batchSize
        var steps = p.seqLength ?? record.seqLength
        if train.count - 1 < batch * steps { batch = max(1, (train.count - 1) / steps) }
        if train.count - 1 < batch * steps { steps = train.count - 1 }
        guard steps >= 1, var batcher = try? SequenceBatcher(tokens: train, batchSize: batch, steps: steps) else {
            job.finish(.failed, error: "the corpus has \(tokens.count) characters for training; at least 2 are needed")
            return
        }
        let savedSettings = trainer.settings
        if let lr = p.learningRate { trainer.settings.learningRate = Float(lr) }
        if let clip = p.clipValue {
            switch trainer.settings.clipping {
            case .value: trainer.settings.clipping = .value(Float(clip))
            default: trainer.settings.clipping = .norm(Float(clip))
            }
        }
        defer { trainer.settings = savedSettings }
        let totalSteps = p.steps ?? p.epochs.map { max(1, Int(($0 * Double(batcher.batchesPerEpoch)).rounded())) }
        let budgetSeconds = p.seconds
        let validateEvery = p.validateEvery ?? 100
        let checkpointEvery = p.checkpointEvery ?? 500
        let started = ContinuousClock.now
        var jobSteps = 0
        var smoothed: Double?
        var lastNotice = ContinuousClock.now
        let charsPerStep = batch * steps
        publish(activity: "training")
        while true {
            if betweenSteps() { return }  // the thread's exit path interrupts the job
            if job.isCancelled {
                finishJob(job, .cancelled)
                return
            }
            let elapsed = seconds(since: started)
            if let totalSteps, jobSteps >= totalSteps { break }
            if let budgetSeconds, elapsed >= budgetSeconds { break }
            if totalSteps == nil && budgetSeconds == nil && batcher.epoch >= 1 { break }
            let report: StepReport
            do {
                report = try trainer.step(batcher.next())
            } catch {
                finishJob(job, .failed, error: error.message)
                return
            }
            jobSteps += 1
            record.steps += 1
            record.charactersSeen += charsPerStep
            dirty = true
            smoothed = smoothed.map { 0.95 * $0 + 0.05 * report.loss } ?? report.loss
            var validationLoss: Double?
            if !validation.isEmpty && validation.count > 1 && jobSteps % validateEvery == 0 {
                validationLoss = try? Evaluator.evaluate(
                    trainer.model, tokens: validation, batchSize: min(batch, max(1, (validation.count - 1) / 2)),
                    steps: steps
                ).natsPerCharacter
            }
            if validationLoss != nil || record.steps % 10 == 0 {
                record.record(step: record.steps, loss: smoothed ?? report.loss, validationLoss: validationLoss)
            }
            publish(activity: "training")
            let now = seconds(since: started)
            let rate = Double(jobSteps * charsPerStep) / max(now, 1e-9)
            let notify = validationLoss != nil || seconds(since: lastNotice) >= 0.5
            if notify { lastNotice = .now }
            job.update(
                { info in
                    info.step = jobSteps
                    info.totalSteps = totalSteps
                    info.epoch = Double(batcher.epoch) + Double(batcher.position) / Double(batcher.batchesPerEpoch)
                    info.loss = smoothed
                    if let validationLoss { info.validationLoss = validationLoss }
                    info.charactersPerSecond = rate
                    if let totalSteps {
                        info.etaSeconds = Double(totalSteps - jobSteps) * now / Double(jobSteps)
                    } else if let budgetSeconds {
                        info.etaSeconds = max(0, budgetSeconds - now)
                    }
                }, notify: notify)
            if jobSteps % checkpointEvery == 0 {
                do { try save() } catch { logger.error("autosave of \(host.name) failed: \(error.message)") }
            }
        }
        if !validation.isEmpty && validation.count > 1 {
            let loss = try? Evaluator.evaluate(
                trainer.model, tokens: validation, batchSize: min(batch, max(1, (validation.count - 1) / 2)),
                steps: steps
            ).natsPerCharacter
            if let loss {
                record.record(step: record.steps, loss: smoothed ?? 0, validationLoss: loss)
                job.update({ $0.validationLoss = loss }, notify: false)
            }
        }
        finishJob(job, .finished)
    }

    private func finishJob(_ job: TrainingJob, _ state: TrainingJob.State, error: String? = nil) {
        if dirty {
            do { try save() } catch { logger.error("save of \(host.name) after its job failed: \(error.message)") }
        }
        publish(activity: "idle")
        job.finish(state, error: error)
    }

    /// Learns from the next chunk of the feed spool: one pass over it in batches.
    func learnFromSpool() {
        let bytes: [UInt8]
        do {
            bytes = try host.readSpool(from: learned, limit: 64 << 10)
        } catch {
            logger.error("cannot read the spool of \(host.name): \(error.message)")
            return
        }
        let chunk = Self.completeUTF8Prefix(bytes)
        guard chunk.count >= 2 else { return }
        let text = String(decoding: chunk, as: UTF8.self)
        _ = growVocabulary(for: text)
        let tokens = vocabulary.encode(text)
        if tokens.count >= 2 {
            let steps = min(record.seqLength, tokens.count - 1)
            let batch = max(1, min(record.batchSize, (tokens.count - 1) / steps))
            if var batcher = try? SequenceBatcher(tokens: tokens, batchSize: batch, steps: steps) {
                publish(activity: "learning")
                for _ in 0..<batcher.batchesPerEpoch {
                    if betweenSteps() { return }
                    guard let report = try? trainer.step(batcher.next()) else { break }
                    record.steps += 1
                    record.charactersSeen += batch * steps
                    if record.steps % 10 == 0 {
                        record.record(step: record.steps, loss: report.loss, validationLoss: nil)
                    }
                }
            }
        }
        learned += chunk.count
        dirty = true
        publish(activity: "idle")
    }

    /// The longest prefix of `bytes` that ends on a whole UTF-8 character.
    static func completeUTF8Prefix(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var start = bytes.count
        // Find where the last character starts (at most 3 continuation bytes back).
        while start > 0 && bytes.count - start < 4 && bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
        guard start > 0 else { return bytes[...] }
        let lead = bytes[start - 1]
        let need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return bytes.count - (start - 1) >= need ? bytes[...] : bytes[..<(start - 1)]
    }
}
