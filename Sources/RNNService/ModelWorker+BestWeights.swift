import Logging
import RNNCore

/// The held-out text of the window being trained, kept for the job's final validation.
struct ValidationSet {
    var tokens: [Int32]
    var weights: [Float]?
    var batch: Int
    var steps: Int
    var separator: Int32?
}

/// What a job tracks across its validations: the best loss (and with keep_best its
/// weights), and the counters of early stopping and of the decay on plateau.
struct ValidationWatch {
    var bestLoss: Double?
    /// The model's step at the best loss.
    var bestStep: Int?
    /// The weights, optimizer state and vocabulary at the best loss (keep_best).
    var best: (model: CharRNN, optimizer: Optimizer, vocabulary: Vocabulary)?
    /// The loss improvements are measured against (lower by more than min_delta).
    var reference: Double?
    var sinceImprovement = 0
    var sinceDecay = 0
    var learningRateScale = 1.0
    var stoppedEarly = false
    var lastLoss: Double?
    /// The model's step at the last validation.
    var lastStep: Int?
    /// The job's held-out text, fixed at its first window so that every validation measures
    /// the same text (a corpus of several windows holds out the end of each).
    var heldOut: ValidationSet?
    /// The name snapshot_best writes, chosen at the first improvement.
    var bestSnapshot: String?

    /// Forgets the best so far and the counters (the learning rate's decay stays).
    mutating func startOver() {
        bestLoss = nil
        bestStep = nil
        best = nil
        reference = nil
        sinceImprovement = 0
        sinceDecay = 0
        heldOut = nil
    }
}

extension ModelWorker {
    /// The validation loss on a held-out set.
    func evaluate(_ set: ValidationSet) -> Double? {
        evaluate(set.tokens, weights: set.weights, batch: set.batch, steps: set.steps, separator: set.separator)
    }

    /// The job's learning rate now: its own or the model's, decayed on plateau, never below
    /// `min_learning_rate` by decay.
    func jobLearningRate(_ plan: TrainingPlan, _ run: JobRun) -> Double {
        let base = plan.learningRate ?? record.learningRate
        return min(base, max(plan.minLearningRate, base * run.watch.learningRateScale))
    }

    /// Takes a validation loss into account: the best so far (and its weights, with
    /// keep_best), early stopping, and the decay on plateau.
    func noteValidation(_ loss: Double, job: TrainingJob, run: inout JobRun) {
        let plan = job.plan
        run.watch.lastLoss = loss
        run.watch.lastStep = record.steps
        if loss.isFinite, run.watch.bestLoss.map({ loss < $0 }) ?? true {
            run.watch.bestLoss = loss
            run.watch.bestStep = record.steps
            if plan.keepBest { run.watch.best = (trainer.model, trainer.optimizer, vocabulary) }
            if plan.snapshotBest { snapshotBest(job, run: &run) }
        }
        if loss.isFinite, run.watch.reference.map({ loss < $0 - plan.minDelta }) ?? true {
            run.watch.reference = loss
            run.watch.sinceImprovement = 0
            run.watch.sinceDecay = 0
            return
        }
        run.watch.sinceImprovement += 1
        run.watch.sinceDecay += 1
        if let factor = plan.plateauFactor, run.watch.sinceDecay >= plan.plateauPatience {
            run.watch.sinceDecay = 0
            let before = jobLearningRate(plan, run)
            run.watch.learningRateScale *= factor
            let after = jobLearningRate(plan, run)
            trainer.settings.learningRate = Float(after)
            if after < before {
                logger.info(
                    "\(job.id): validation loss has not improved for \(plan.plateauPatience) validations; learning rate \(before) -> \(after)",
                    metadata: ["model": "\(host.name)", "job": "\(job.id)"])
            }
        }
        if let patience = plan.patience, run.watch.sinceImprovement >= patience {
            run.watch.stoppedEarly = true
            logger.info(
                "\(job.id) stops early: no improvement in \(patience) validations (best \(run.watch.bestLoss ?? .nan) at step \(run.watch.bestStep ?? 0))",
                metadata: ["model": "\(host.name)", "job": "\(job.id)"])
        }
    }

    /// Ends a job that did not fail: validates the last weights if the last validation was
    /// earlier, goes back to the best weights with keep_best, checkpoints, and finishes it.
    func concludeJob(_ job: TrainingJob, run: inout JobRun, _ phase: JobPhase, reason: JobEnding, error: String? = nil)
    {
        // A decay on plateau at the final validation is the job's: the model's settings stay.
        let settings = trainer.settings
        defer { trainer.settings = settings }
        if let set = run.watch.heldOut, run.watch.lastStep != record.steps, run.steps > 0, let loss = evaluate(set) {
            record.record(step: record.steps, loss: run.smoothed ?? loss, validationLoss: loss)
            noteValidation(loss, job: job, run: &run)
        }
        // The history ends at the job's last step (it records every tenth otherwise).
        if record.lossHistory.last?.step != record.steps, let loss = run.smoothed {
            record.record(step: record.steps, loss: loss, validationLoss: nil)
        }
        var kept: Bool?
        if job.plan.keepBest, let best = run.watch.best, let bestLoss = run.watch.bestLoss,
            let bestStep = run.watch.bestStep, let last = run.watch.lastLoss, let lastStep = run.watch.lastStep
        {
            kept = false
            // A last loss that is not finite (diverged) is worse than any best.
            if bestStep != lastStep, !(last <= bestLoss) {
                do {
                    try trainer.restore(best.model, optimizer: best.optimizer)
                    if best.vocabulary.count != vocabulary.count { feedHeldOut = [] }
                    vocabulary = best.vocabulary
                    kept = true
                    dirty = true
                    logger.info(
                        "\(job.id) keeps its best weights: validation \(bestLoss) at step \(bestStep) (the last, at step \(lastStep), scored \(last))",
                        metadata: ["model": "\(host.name)", "job": "\(job.id)"])
                } catch {
                    logger.error("\(job.id) cannot go back to its best weights: \(error.message)")
                    kept = false
                }
            }
            // Only finite losses are kept in the record (JSON has no NaN: a null would make the
            // record unreadable at the next load).
            let heldLoss = kept == true ? bestLoss : last
            if heldLoss.isFinite {
                record.keptBest = KeptBest(
                    job: job.id, step: kept == true ? bestStep : lastStep, validationLoss: heldLoss,
                    lastStep: lastStep, lastValidationLoss: last.isFinite ? last : nil)
                dirty = true
            }
        }
        let watch = run.watch
        job.update(
            { info in
                if let last = watch.lastLoss { info.validationLoss = last }
                info.bestValidationLoss = watch.bestLoss
                info.bestStep = watch.bestStep
                info.keptBest = kept
            }, notify: false)
        finishJob(job, phase, error: error, reason: reason)
    }

    /// Writes the snapshot `best-<job>` (snapshot_best): the weights of the best validation
    /// so far, replaced at each improvement.
    private func snapshotBest(_ job: TrainingJob, run: inout JobRun) {
        // Job ids start again at each start of rnnd: a name an earlier run left is not
        // overwritten, the job takes the first free best-<job>-<n> instead.
        if run.watch.bestSnapshot == nil {
            let taken = Set(host.store.snapshotNames(host.name))
            var name = "best-\(job.id)"
            var n = 2
            while taken.contains(name) {
                name = "best-\(job.id)-\(n)"
                n += 1
            }
            run.watch.bestSnapshot = name
        }
        do {
            _ = try takeSnapshot(run.watch.bestSnapshot ?? "best-\(job.id)")
        } catch {
            logger.error("snapshot of the best weights of \(job.id) failed: \(error.message)")
        }
    }
}
