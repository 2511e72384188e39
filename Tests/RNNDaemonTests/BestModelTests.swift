import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Training that ends with its best model: keep_best, early stopping, decay on plateau,
/// and named snapshots, through the real daemon.
@Suite struct BestModelTests {
    /// Training text that a model overfits at once: it learns "abab..." while the held-out
    /// last fifth is "cdcd...", whose loss only rises once the first validations are past.
    static let overfitting = String(repeating: "ab", count: 600) + String(repeating: "cd", count: 150)

    static func makeModel(_ client: RNNClient, _ name: String = "m") throws {
        try client.call(
            "model.create",
            [
                "model": .string(name), "layers": 1, "hidden_size": 32, "corpus": ["text": .string(overfitting)],
                "seed": 7,
            ])
    }

    /// Starts a job on the overfitting text and waits for its end.
    static func train(_ client: RNNClient, _ extra: JSONObject = [:]) throws -> JSON {
        var params: JSONObject = [
            "model": "m", "corpus": ["text": .string(overfitting)], "steps": 60, "validate_every": 5,
            "validation_fraction": 0.2, "batch_size": 4, "seq_length": 20, "learning_rate": 0.01,
        ]
        for (key, value) in extra { params[key] = value }
        var info = try client.call("train.start", params)
        let deadline = Date().addingTimeInterval(120)
        while ["queued", "running"].contains(info["state"]?.stringValue), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            info = try client.call("train.status", ["job": info["job"] ?? .null])
        }
        return info
    }

    /// The model's weights as `model.export` writes them.
    static func exported(_ daemon: DaemonProcess, _ client: RNNClient, _ file: String) throws -> Data {
        let path = daemon.corpusDirectory + "/" + file
        try client.call("model.export", ["model": "m", "path": .string(path)])
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    @Test func keepBestEndsWithTheWeightsOfTheBestValidation() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try Self.makeModel(client)
        let info = try Self.train(client, ["snapshot_best": true])
        #expect(info["state"] == "finished" && info["stop_reason"] == "budget", "\(info)")
        let best = try #require(info["best_validation_loss"]?.numberValue)
        let last = try #require(info["validation_loss"]?.numberValue)
        let bestStep = try #require(info["best_step"]?.intValue)
        #expect(best < last && bestStep < 60, "the text was to overfit: \(info)")
        #expect(info["kept_best"] == true)
        let details = try client.call("model.info", ["model": "m"])
        #expect(details["kept_best"]?["step"]?.intValue == bestStep)
        #expect(details["kept_best"]?["last_validation_loss"]?.numberValue == last)
        #expect(details["kept_best"]?["last_step"]?.intValue == 60)
        // The weights held now are those the snapshot of the best step took, bit for bit.
        let kept = try Self.exported(daemon, client, "kept.safetensors")
        let snapshots = try client.call("model.snapshots", ["model": "m"])
        #expect(snapshots["snapshots"]?.arrayValue?.first?["step"]?.intValue == bestStep, "\(snapshots)")
        try client.call("model.restore", ["model": "m", "name": "best-job-1"])
        #expect(try Self.exported(daemon, client, "restored.safetensors") == kept)
        // And they are not the last weights: without keep_best the same job ends elsewhere.
        try client.call("model.delete", ["model": "m"])
        try Self.makeModel(client)
        let plain = try Self.train(client, ["keep_best": false])
        #expect(plain["kept_best"] == nil && plain["best_step"]?.intValue == bestStep)
        #expect(try client.call("model.info", ["model": "m"])["kept_best"] == nil)
    }

    @Test func patienceStopsTheJobAndThePlateauLowersTheRate() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try Self.makeModel(client)
        let info = try Self.train(
            client, ["steps": 500, "patience": 3, "plateau_factor": 0.5, "plateau_patience": 1])
        #expect(info["state"] == "finished" && info["stop_reason"] == "early_stopping", "\(info)")
        let steps = try #require(info["step"]?.intValue)
        #expect(steps < 500)
        // Three validations without improvement: the rate was halved three times.
        #expect(info["learning_rate"]?.numberValue == 0.01 / 8, "\(info)")
        #expect(info["kept_best"] == true)
        // min_learning_rate bounds the decay.
        let floored = try Self.train(
            client,
            ["steps": 500, "patience": 3, "plateau_factor": 0.5, "plateau_patience": 1, "min_learning_rate": 0.004])
        #expect(floored["learning_rate"]?.numberValue == 0.004, "\(floored)")
    }

    @Test func restoreBringsBackASnapshotExactly() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_snapshots = 2")
        let client = try daemon.client()
        try Self.makeModel(client)
        let taken = try client.call("model.snapshot", ["model": "m", "name": "start"])
        #expect(taken["step"] == 0 && taken["name"] == "start")
        let before = try Self.exported(daemon, client, "before.safetensors")
        _ = try Self.train(client, ["steps": 10, "keep_best": false])
        #expect(try Self.exported(daemon, client, "trained.safetensors") != before)
        try client.call("model.restore", ["model": "m", "name": "start"])
        #expect(try Self.exported(daemon, client, "after.safetensors") == before)
        // A restart keeps the restored weights (restore checkpoints).
        _ = daemon.stop()
        try daemon.start()
        let again = try daemon.client()
        try again.call("model.load", ["model": "m"])
        #expect(try Self.exported(daemon, again, "restarted.safetensors") == before)

        // The limit counts snapshots; a name already taken is replaced, not counted.
        let second = try again.call("model.snapshot", ["model": "m"])
        #expect(second["name"] == "step-10")
        try again.call("model.snapshot", ["model": "m", "name": "start"])
        let refused = refusal { try again.call("model.snapshot", ["model": "m", "name": "third"]) }
        #expect(refused?.reason == "limit_reached" && refused?.message.contains("max_snapshots") == true)
        try again.call("model.snapshot_delete", ["model": "m", "name": "start"])
        try again.call("model.snapshot", ["model": "m", "name": "third"])
        #expect(try again.call("model.snapshots", ["model": "m"])["snapshots"]?.arrayValue?.count == 2)
        // Refusals name what was wrong.
        let missing = refusal { try again.call("model.restore", ["model": "m", "name": "nope"]) }
        #expect(missing?.reason == "invalid_params" && missing?.data?["parameter"] == "name")
        let badName = refusal { try again.call("model.snapshot", ["model": "m", "name": "../x"]) }
        #expect(badName?.reason == "invalid_params" && badName?.data?["parameter"] == "name")
        // A name whose file would be another snapshot's optimizer state is refused.
        let clash = refusal { try again.call("model.snapshot", ["model": "m", "name": "third.optimizer"]) }
        #expect(clash?.reason == "invalid_params" && clash?.message.contains(".optimizer") == true)
    }

    @Test func onlineLearningIsValidatedOnAHeldOutSliceOfWhatWasFed() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        let text = shakespeare(40_000)
        try client.call(
            "model.create", ["model": "m", "layers": 1, "hidden_size": 32, "corpus": ["text": .string(text)]])
        try client.call("train.feed", ["model": "m", "text": .string(text)])
        var info = try client.call("model.info", ["model": "m"])
        let deadline = Date().addingTimeInterval(120)
        while info["feed_backlog_bytes"]?.intValue != 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            info = try client.call("model.info", ["model": "m"])
        }
        #expect(info["feed_backlog_bytes"] == 0)
        let validated = info["loss_history"]?.arrayValue?.compactMap { $0["validation_loss"]?.numberValue } ?? []
        #expect(!validated.isEmpty, "no validation loss after learning fed text: \(info)")
        #expect(validated.allSatisfy { $0.isFinite && $0 > 0 })
    }
}
