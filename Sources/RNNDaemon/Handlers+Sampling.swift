import Corpora
import RNNCore
import RNNJSON
import RNNProtocol

/// `sample` and `evaluate`: they read the published snapshot on the thread pool, so they
/// never wait for a training step and never change which models are loaded.
extension Handlers {
    func sample(_ p: Sample.Params, notify: (@Sendable (JSON) -> Bool)?) async throws(DaemonError) -> SampleResult {
        let host = try await registry.host(p.model)
        guard let snapshot = host.snapshot else {
            if let reason = host.failureReason { throw DaemonError(.modelUnloadable, reason) }
            throw DaemonError(.modelBusy, "model '\(p.model)' is not loaded; model.load it first")
        }
        let length = p.length
        guard length <= limits.maxSampleLength else {
            throw invalid(
                "length", "must be in 1...\(limits.maxSampleLength) (limits.max_sample_length), got \(length)")
        }
        let randomSeed = await registry.nextSeed()
        let seed = p.seed.map(UInt64.init) ?? randomSeed
        let options = SamplingOptions(
            temperature: Float(p.temperature), topK: p.topK, topP: p.topP.map(Float.init), argmax: p.argmax,
            seed: seed, prime: p.prime, stop: p.stop ?? [], length: length)
        // A streamed sample waits for a client that reads slowly, so it gets its own thread.
        let work: @Sendable () throws(DaemonError) -> SampleResult = { () throws(DaemonError) -> SampleResult in
            let sampler: Sampler
            do {
                sampler = try Sampler(model: snapshot.model, vocabulary: snapshot.vocabulary, options: options)
            } catch {
                throw DaemonError(.invalidParams, (error as? RNNCoreError)?.message ?? "\(error)")
            }
            let start = ContinuousClock.now
            var text = String.UnicodeScalarView()
            var pending = String.UnicodeScalarView()
            var lastFlush = ContinuousClock.now
            var count = 0
            while let scalar = sampler.next() {
                text.append(scalar)
                count += 1
                guard let notify else { continue }
                pending.append(scalar)
                if pending.count >= 64 || seconds(since: lastFlush) >= 0.02 {
                    // A client that has gone away ends its sample.
                    guard notify(.object(["text": .string(String(pending))])) else { break }
                    pending = String.UnicodeScalarView()
                    lastFlush = .now
                }
            }
            if let notify, !pending.isEmpty { _ = notify(.object(["text": .string(String(pending))])) }
            let elapsed = seconds(since: start)
            return SampleResult(
                text: String(text), characters: count, charactersPerSecond: Double(count) / max(elapsed, 1e-9),
                stopReason: SampleStop(sampler.stopReason), seed: Int(seed))
        }
        return try await compute("sample", work)
    }

    func evaluate(_ p: Evaluate.Params) async throws(DaemonError) -> EvaluateResult {
        let host = try await registry.host(p.model)
        guard let snapshot = host.snapshot else {
            throw DaemonError(.modelBusy, "model '\(p.model)' is not loaded; model.load it first")
        }
        guard (p.text == nil) != (p.corpus == nil) else { throw invalid("text", "give exactly one of text or corpus") }
        if let spec = p.corpus { return try await evaluateAnswers(snapshot, spec: spec, samples: p.samples) }
        let tokens = snapshot.vocabulary.encode(p.text ?? "")
        guard tokens.count >= 2 else { throw invalid("text", "must have at least 2 characters") }
        return try await compute("evaluate") { () throws(DaemonError) -> EvaluateResult in
            do {
                let summary = try Evaluator.evaluate(snapshot.model, tokens: tokens, batchSize: 1, steps: 256)
                return EvaluateResult(
                    loss: summary.natsPerCharacter, bitsPerCharacter: summary.bitsPerCharacter,
                    characters: summary.characters)
            } catch {
                throw DaemonError(.invalidParams, (error as? RNNCoreError)?.message ?? "\(error)")
            }
        }
    }
}

extension Handlers {
    /// Loss, answer accuracy and greedy exact match on samples of an l2e corpus.
    func evaluateAnswers(_ snapshot: PublishedModel, spec: CorpusSpec, samples: Int) async throws(DaemonError)
        -> EvaluateResult
    {
        guard spec.l2e != nil else { throw invalid("corpus", "must be an l2e corpus for answer accuracy") }
        let opener = try corpusOpener(spec)
        return try await compute("evaluate") { () throws(DaemonError) -> EvaluateResult in
            do {
                var source = try opener()
                var lines: [String] = []
                while lines.count < samples, let chunk = try source.next(maximumBytes: 1 << 16) {
                    lines += chunk.text.split(separator: "\n").map(String.init)
                }
                lines = Array(lines.prefix(samples))
                let accuracy = try AnswerAccuracy.measure(
                    snapshot.model, vocabulary: snapshot.vocabulary, samples: lines)
                let text = lines.joined(separator: "\n") + "\n"
                let loss = try Evaluator.evaluate(
                    snapshot.model, tokens: snapshot.vocabulary.encode(text), batchSize: 1, steps: 256)
                return EvaluateResult(
                    loss: loss.natsPerCharacter, bitsPerCharacter: loss.bitsPerCharacter, characters: loss.characters,
                    answerAccuracy: accuracy.characterAccuracy, exactMatch: accuracy.exactMatch,
                    samples: accuracy.samples)
            } catch let error as CorpusError {
                throw DaemonError(.corpusFailed, error.message)
            } catch let error as RNNCoreError {
                throw DaemonError(.invalidParams, error.message)
            } catch {
                throw DaemonError(.internalError, "\(error)")
            }
        }
    }
}
