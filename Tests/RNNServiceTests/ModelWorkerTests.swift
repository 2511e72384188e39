import Foundation
import Logging
import RNNCore
import RNNJSON
import Testing

@testable import RNNService

/// A model's worker without sockets or a registry: it learns what its spool holds, publishes
/// what it learnt, and saves it when stopped.
@Suite struct ModelWorkerTests {
    static func record() -> ModelRecord {
        ModelRecord(
            optimizer: .adam, learningRate: 1e-2, momentum: 0.9, alpha: 0.95, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
            clip: .norm, clipValue: 5, learningRateDecay: 1, learningRateDecayEvery: 1000, initialization: .charrnn,
            batchSize: 4, seqLength: 16, maxVocabulary: 64, seed: 7)
    }

    @Test func theWorkerLearnsItsSpoolAndSavesWhatItLearnt() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileIO.makeDirectories(root + "/models")
        let store = ModelStore(root: root)
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)
        let vocabulary = Vocabulary(charactersOf: text)
        let configuration = ModelConfiguration(
            architecture: .lstm, layers: 1, hiddenSize: 16, vocabularySize: vocabulary.count)
        let model = try CharRNN(configuration: configuration, initialization: .charRNN, seed: 1)
        let record = Self.record()
        let optimizer = Optimizer(kind: record.optimizerKind, parameterCount: model.parameterCount)
        _ = try store.create(model, vocabulary: vocabulary, optimizer: optimizer, record: record, name: "w")
        let host = ModelHost(name: "w", store: store, model: model, vocabulary: vocabulary, record: record)
        let trainer = try Trainer(model: model, optimizer: optimizer, settings: record.trainingSettings, seed: 7)
        var logger = Logger(label: "worker-test")
        logger.logLevel = .critical
        let worker = ModelWorker(
            host: host, trainer: trainer, vocabulary: vocabulary, record: record, autosaveSeconds: 3600,
            logger: logger)
        let mailbox = worker.mailbox
        host.attach(mailbox, snapshot: worker.snapshot)
        ModelWorker.start(worker)

        let end = try host.appendToSpool(Array(text.utf8), limit: 1 << 20).end
        mailbox.wake()
        let deadline = ContinuousClock.now + .seconds(60)
        while host.report.feedBacklogBytes > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(host.report.feedBacklogBytes == 0, "the worker did not learn its spool")
        #expect(host.report.steps > 0 && host.report.charactersSeen > 0)
        // The published snapshot is the trained model, not the initial one.
        #expect(host.snapshot?.model.parameters != model.parameters)

        await mailbox.stop()
        let saved = try store.load("w")
        #expect(saved.3.spoolConsumed == end)
        #expect(saved.3.steps == host.report.steps)
        #expect(saved.0.parameters == host.snapshot?.model.parameters)
    }

    @Test func aRecordWithAValueTheContractDoesNotKnowIsRefusedByName() throws {
        var members = try #require(JSONTreeEncoder.encode(Self.record()).objectValue)
        members["optimizer"] = "lion"
        let text = JSON.object(members).description
        #expect(throws: UnreadableRecord.self) { try ModelStore.decode(text) }
        do {
            _ = try ModelStore.decode(text)
        } catch {
            #expect("\(error)".hasPrefix("optimizer:"), "\(error)")
        }
        #expect(try ModelStore.decode(ModelStore.encode(Self.record())) == Self.record())
    }
}
