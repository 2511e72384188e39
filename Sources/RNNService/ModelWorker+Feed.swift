import Corpora
import Logging
import RNNCore

/// Online learning: the feed spool learnt chunk by chunk between jobs, with the end of each
/// chunk held out to validate it.
extension ModelWorker {
    /// Tokens of fed text kept held out for validation (the newest).
    static let feedHeldOutLimit = 16 << 10
    /// Held-out tokens of fed text between two validations.
    static let feedValidationEvery = 1 << 10

    /// Learns from the next chunk of the feed spool: one pass over it in batches.
    func learnFromSpool() {
        let bytes: [UInt8]
        do {
            bytes = try host.readSpool(from: learned, limit: 64 << 10)
        } catch {
            logger.error("cannot read the spool of \(host.name): \(error.message)")
            return
        }
        let chunk = bytes[..<UTF8Boundary.wholePrefix(bytes[...])]
        guard chunk.count >= 2 else { return }
        let text = String(decoding: chunk, as: UTF8.self)
        _ = growVocabulary(for: text)
        var tokens = vocabulary.encode(text)
        let vocabularySize = vocabulary.count
        // The end of each chunk is held out, not learnt: what online learning is validated on.
        let heldOutCount = tokens.count >= 64 ? Int(Double(tokens.count) * feedValidationFraction) : 0
        let heldOut = Array(tokens.suffix(heldOutCount))
        tokens.removeLast(heldOutCount)
        var lastLoss: Double?
        if tokens.count >= 2 {
            let steps = min(record.seqLength, tokens.count - 1)
            let batch = max(1, min(record.batchSize, (tokens.count - 1) / steps))
            if var batcher = try? SequenceBatcher(tokens: tokens, batchSize: batch, steps: steps) {
                publish(activity: .learning)
                for _ in 0..<batcher.batchesPerEpoch {
                    if betweenSteps() { return }
                    // A restore between steps changed the vocabulary: the chunk is read again.
                    if vocabulary.count != vocabularySize { return }
                    let report: StepReport
                    do {
                        report = try trainer.step(batcher.next())
                    } catch {
                        // The chunk stays unlearnt (and in the spool): counting it as learnt
                        // would drop acknowledged text that taught the model nothing.
                        feedStalledAt = host.spoolEnd
                        logger.error(
                            "learning fed text of \(host.name) failed at byte \(learned): \(error); it stays in the spool",
                            metadata: ["model": "\(host.name)"])
                        publish(activity: .idle)
                        return
                    }
                    record.steps += 1
                    record.charactersSeen += batch * steps
                    ServiceMetrics.trained(characters: batch * steps)
                    lastLoss = report.loss
                    if record.steps % 10 == 0 {
                        record.record(step: record.steps, loss: report.loss, validationLoss: nil)
                    }
                }
            }
        }
        if !heldOut.isEmpty {
            feedHeldOut += heldOut
            feedHeldOut.removeFirst(max(0, feedHeldOut.count - Self.feedHeldOutLimit))
            feedHeldOutSinceValidation += heldOut.count
        }
        // Validated once enough new text was held out: small feeds do not each pay for it.
        if feedHeldOutSinceValidation >= Self.feedValidationEvery
            || (feedHeldOut.count == heldOut.count && !heldOut.isEmpty),
            feedHeldOut.count >= 64, let lastLoss,
            let loss = evaluate(
                feedHeldOut, weights: nil, batch: min(16, feedHeldOut.count / 64), steps: 50, separator: nil)
        {
            feedHeldOutSinceValidation = 0
            record.record(step: record.steps, loss: lastLoss, validationLoss: loss)
        }
        learned += chunk.count
        dirty = true
        publish(activity: .idle)
    }
}
