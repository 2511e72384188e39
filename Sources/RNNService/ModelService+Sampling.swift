import Corpora
package import RNNCore

/// `sample` and `evaluate`: they read the published snapshot on the thread pool, so they
/// never wait for a training step and never change which models are loaded.
extension ModelService {
    /// Samples from `model`'s published weights as `options` says, with a random seed when
    /// `seed` is nil, in the model's batch (``SampleScheduler``): the same seed gives the same
    /// text whatever else is sampled at the time. With `stream`, text goes out in pieces as
    /// it is drawn; a client that went away ends its sample. An `admin` sample (from the
    /// admin socket) is not counted against `limits.max_samples` and joins before waiting
    /// read-only ones: a local user cannot queue work in front of the administrator.
    package func sample(
        _ model: String, options requested: SamplingOptions, seed: UInt64?, stream: SampleStream? = nil,
        admin: Bool = false
    ) async throws(ServiceError) -> SampleOutcome {
        let host = try registry.host(model)
        guard let snapshot = host.snapshot else {
            if let reason = host.failureReason { throw ServiceError(.modelUnloadable, reason) }
            throw ServiceError(.modelBusy, "model '\(model)' is not loaded; load it first (model.load, rnnctl load)")
        }
        let length = requested.length
        guard length <= limits.maxSampleLength else {
            throw ServiceError.invalid(
                "length", "must be in 1...\(limits.maxSampleLength) (limits.max_sample_length), got \(length)")
        }
        let randomSeed = registry.nextSeed()
        var options = requested
        options.seed = seed ?? randomSeed
        do {
            try options.validate()
        } catch {
            throw ServiceError(.invalidArgument, error.message)
        }
        return try await samples.sample(model, snapshot: snapshot, options: options, stream: stream, admin: admin)
    }

    /// The loss of `model` on `text`.
    package func evaluate(_ model: String, text: String) async throws(ServiceError) -> Evaluation {
        let snapshot = try await loadedSnapshot(model)
        let tokens = snapshot.vocabulary.encode(text)
        guard tokens.count >= 2 else { throw ServiceError.invalid("text", "must have at least 2 characters") }
        let unknown =
            snapshot.vocabulary.kind == .bytes
            ? 0 : text.unicodeScalars.reduce(0) { snapshot.vocabulary.contains($1) ? $0 : $0 + 1 }
        return try await compute("evaluate") { stop throws(ServiceError) -> Evaluation in
            do {
                let summary = try Evaluator.evaluate(
                    snapshot.model, tokens: tokens, batchSize: 1, steps: 256, shouldStop: { stop.isSet })
                return Evaluation(
                    loss: summary.natsPerCharacter, bitsPerCharacter: summary.bitsPerCharacter,
                    characters: summary.characters, perByte: snapshot.vocabulary.kind == .bytes,
                    unknownCharacters: unknown)
            } catch let error as RNNCoreError where error.code == .stopped {
                throw StopFlag.stoppedError
            } catch {
                throw ServiceError(.invalidArgument, (error as? RNNCoreError)?.message ?? "\(error)")
            }
        }
    }
}

extension ModelService {
    /// Loss, answer accuracy and greedy exact match of `model` on `samples` programs of an
    /// l2e corpus.
    package func evaluateAnswers(_ model: String, corpus: CorpusRequest, samples: Int) async throws(ServiceError)
        -> Evaluation
    {
        guard case .learningToExecute = corpus else {
            throw ServiceError.invalid("corpus", "must be an l2e corpus for answer accuracy")
        }
        let snapshot = try await loadedSnapshot(model)
        let opener = try corpusOpener(corpus)
        return try await compute("evaluate") { stop throws(ServiceError) -> Evaluation in
            do {
                var source = try opener()
                var lines: [String] = []
                while lines.count < samples, let chunk = try source.next(maximumBytes: 1 << 16) {
                    lines += chunk.text.split(separator: "\n").map(String.init)
                }
                lines = Array(lines.prefix(samples))
                let accuracy = try AnswerAccuracy.measure(
                    snapshot.model, vocabulary: snapshot.vocabulary, samples: lines, shouldStop: { stop.isSet })
                let text = lines.joined(separator: "\n") + "\n"
                let loss = try Evaluator.evaluate(
                    snapshot.model, tokens: snapshot.vocabulary.encode(text), batchSize: 1, steps: 256,
                    shouldStop: { stop.isSet })
                return Evaluation(
                    loss: loss.natsPerCharacter, bitsPerCharacter: loss.bitsPerCharacter, characters: loss.characters,
                    perByte: snapshot.vocabulary.kind == .bytes,
                    answerAccuracy: accuracy.characterAccuracy, exactMatch: accuracy.exactMatch,
                    samples: accuracy.samples)
            } catch let error as CorpusError {
                throw ServiceError(.corpusFailed, error.message)
            } catch let error as RNNCoreError where error.code == .stopped {
                throw StopFlag.stoppedError
            } catch let error as RNNCoreError {
                throw ServiceError(.invalidArgument, error.message)
            } catch {
                throw ServiceError(.internalFailure, "\(error)")
            }
        }
    }
}

extension ModelService {
    /// The published weights of a loaded model (never waits for a training step).
    func loadedSnapshot(_ model: String) async throws(ServiceError) -> PublishedModel {
        let host = try registry.host(model)
        guard let snapshot = host.snapshot else {
            throw ServiceError(.modelBusy, "model '\(model)' is not loaded; load it first (model.load, rnnctl load)")
        }
        return snapshot
    }
}

/// A finished sample: its text, how fast it was drawn, why it stopped and the seed that
/// reproduces it.
package struct SampleOutcome: Sendable, Hashable {
    package var text: String
    package var characters: Int
    package var charactersPerSecond: Double
    /// Nil when the length was reached.
    package var stopReason: StopReason?
    package var seed: UInt64
}

/// A model's loss on a text, and for l2e corpora how well it answers.
package struct Evaluation: Sendable, Hashable {
    package var loss: Double
    package var bitsPerCharacter: Double
    package var characters: Int
    /// Whether the counts are of UTF-8 bytes (a byte vocabulary) rather than characters.
    package var perByte = false
    /// Characters the vocabulary does not hold, read as its unknown slot.
    package var unknownCharacters = 0
    package var answerAccuracy: Double?
    package var exactMatch: Double?
    package var samples: Int?
}
