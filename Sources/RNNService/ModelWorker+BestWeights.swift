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
    var heldOut: ValidationSet?
}

extension ModelWorker {
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
            if plan.snapshotBest { snapshotBest(job) }
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
        if let set = run.watch.heldOut, run.watch.lastStep != record.steps, run.steps > 0,
            let loss = evaluate(
                set.tokens, weights: set.weights, batch: set.batch, steps: set.steps, separator: set.separator)
        {
            record.record(step: record.steps, loss: run.smoothed ?? loss, validationLoss: loss)
            noteValidation(loss, job: job, run: &run)
        }
        var kept: Bool?
        if job.plan.keepBest, let best = run.watch.best, let bestLoss = run.watch.bestLoss,
            let bestStep = run.watch.bestStep, let last = run.watch.lastLoss, let lastStep = run.watch.lastStep
        {
            kept = false
            if bestStep != lastStep, bestLoss < last {
                do {
                    try trainer.restore(best.model, optimizer: best.optimizer)
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
            record.keptBest = KeptBest(
                job: job.id, step: kept == true ? bestStep : lastStep,
                validationLoss: kept == true ? bestLoss : last, lastStep: lastStep, lastValidationLoss: last)
            dirty = true
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
    private func snapshotBest(_ job: TrainingJob) {
        do {
            _ = try takeSnapshot("best-\(job.id)")
        } catch {
            logger.error("snapshot of the best weights of \(job.id) failed: \(error.message)")
        }
    }
}
