import Corpora
import Logging
import RNNCore
import RNNJSON

/// Measuring a training job as it goes: validation loss, and for learning-to-execute the
/// answer accuracy that drives the naive curriculum.
extension ModelWorker {
    /// For learning-to-execute: the answer accuracy at the current level, and the naive
    /// curriculum raised when it passes 95% or has stopped improving for three checks.
    /// Returns whether the level was raised.
    @discardableResult
    func measureCurriculum(_ source: inout any CorpusSource, job: TrainingJob, run: inout JobRun) -> Bool {
        guard var l2e = source as? LearningToExecuteCorpus else { return false }
        let samples = l2e.validationSamples(200, seed: UInt64(run.steps))
        guard let accuracy = try? AnswerAccuracy.measure(trainer.model, vocabulary: vocabulary, samples: samples) else {
            return false
        }
        var raised = false
        if l2e.hasLevels {
            if accuracy.characterAccuracy > run.bestAccuracy + 0.005 {
                run.bestAccuracy = accuracy.characterAccuracy
                run.stalledChecks = 0
            } else {
                run.stalledChecks += 1
            }
            if accuracy.characterAccuracy >= 0.95 || run.stalledChecks >= 3, l2e.advance() {
                run.bestAccuracy = 0
                run.stalledChecks = 0
                // Losses at the new level are not comparable with the old one's: the best so
                // far, early stopping and the plateau start again.
                run.watch.startOver()
                raised = true
                logger.info(
                    "curriculum of \(host.name) raised to length \(l2e.level.length), nesting \(l2e.level.nesting)",
                    metadata: ["model": "\(host.name)", "job": "\(job.id)"])
            }
            record.curriculumLevel = [l2e.level.length, l2e.level.nesting]
            source = l2e
        }
        let level = l2e.hasLevels ? l2e.level : (l2e.options.length, l2e.options.nesting)
        job.update(
            { info in
                info.answerAccuracy = accuracy.characterAccuracy
                info.exactMatch = accuracy.exactMatch
                info.curriculumLength = level.0
                info.curriculumNesting = level.1
            }, notify: true)
        return raised
    }

    /// Validation loss: as streams, or with `separator`, as separate samples from a zero state
    /// (the first piece, cut by the window's split, left out).
    func evaluate(_ validation: [Int32], weights: [Float]?, batch: Int, steps: Int, separator: Int32?)
        -> Double?
    {
        if let separator {
            guard let cut = validation.firstIndex(of: separator) else { return nil }
            let tokens = Array(validation[(cut + 1)...])
            let samples = tokens.reduce(0) { $1 == separator ? $0 + 1 : $0 }
            guard samples > 0,
                var batcher = try? SampleBatcher(
                    tokens: tokens, weights: weights.map { Array($0[(cut + 1)...]) }, separator: separator,
                    batchSize: min(batch, samples))
            else { return nil }
            let batches = (0..<batcher.batchesPerEpoch).map { _ in batcher.next() }
            return try? Evaluator.evaluate(trainer.model, batches: batches).natsPerCharacter
        }
        return try? Evaluator.evaluate(
            trainer.model, tokens: validation, weights: weights,
            batchSize: min(batch, max(1, (validation.count - 1) / 2)),
            steps: steps
        ).natsPerCharacter
    }
}
