import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// The whole life of a model through a real rnnd: create, train, sample, stream, feed,
/// save, SIGTERM, restart, and the same model and text back.
@Suite(.serialized) struct LifecycleTests {
    @Test func createTrainSampleFeedRestart() throws {
        let daemon = try DaemonProcess()
        let corpus = try daemon.writeCorpus("shakespeare.txt", shakespeare(30_000))
        let client = try daemon.client()
        let created = try client.call(
            "model.create",
            [
                "model": .string("bard"), "architecture": .string("lstm"), "layers": .number(2),
                "hidden_size": .number(64),
                "corpus": .object(["file": .string(corpus)]), "seed": .number(7), "learning_rate": .number(0.005),
                "optimizer": .string("adam"),
            ])
        #expect(created["name"] == .string("bard"))
        #expect(created["vocabulary_size"]?.int ?? 0 > 40)

        var progress = 0
        let finished = try client.call(
            "train.start",
            [
                "model": .string("bard"), "corpus": .object(["file": .string(corpus)]), "steps": .number(300),
                "batch_size": .number(16), "seq_length": .number(32), "validate_every": .number(100),
                "stream": .bool(true),
            ]
        ) { method, params in
            if method == "train.progress" && params["job"] != nil { progress += 1 }
        }
        #expect(finished["state"] == .string("finished"))
        #expect(finished["step"]?.int == 300)
        #expect(progress > 0)
        let validation = try #require(finished["validation_loss"]?.numberValue)
        #expect(validation < 3.0, "validation loss after 300 steps: \(validation) (uniform is about 4.1)")

        let request: JSONObject = [
            "model": .string("bard"), "length": .number(120), "seed": .number(42), "prime": .string("ROMEO:\n"),
        ]
        let first = try client.call("sample", request)
        let text = try #require(first["text"]?.stringValue)
        #expect(text.unicodeScalars.count == 120)
        #expect(try client.call("sample", request)["text"] == .string(text))

        var streamed = ""
        var chunks = 0
        var streamRequest = request
        streamRequest["stream"] = .bool(true)
        let final = try client.call("sample", streamRequest) { method, params in
            if method == "sample.chunk", let piece = params["text"]?.stringValue {
                streamed += piece
                chunks += 1
            }
        }
        #expect(chunks >= 1)
        #expect(streamed == text)
        #expect(final["text"] == .string(text))

        let fed = String(repeating: "To be, or not to be: that is the question.\n", count: 100)
        let ack = try client.call("train.feed", ["model": .string("bard"), "text": .string(fed)])
        #expect(ack["accepted_bytes"]?.int == fed.utf8.count)

        try waitUntilLearnt(client, "bard")
        let saved = try client.call("model.save", ["model": .string("bard")])
        #expect(saved["bytes"]?.int ?? 0 > 0)
        let before = try client.call("model.info", ["model": .string("bard")])
        let reference = try client.call("sample", request)["text"]
        #expect(daemon.stop() == 0)

        try daemon.start()
        let again = try daemon.client()
        let after = try again.call("model.info", ["model": .string("bard")])
        #expect(after["steps"] == before["steps"])
        #expect(after["feed_total_bytes"]?.int == fed.utf8.count)
        #expect(after["feed_backlog_bytes"]?.int == 0)
        #expect(after["vocabulary_size"] == before["vocabulary_size"])
        #expect(after["loss_history"] == before["loss_history"])
        #expect(try again.call("sample", request)["text"] == reference)
        #expect(daemon.stop() == 0)
    }

    @Test func theSameSeedGivesTheSameTextAfterARestart() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try client.call(
            "model.create",
            [
                "model": .string("g"), "architecture": .string("gru"), "hidden_size": .number(32), "layers": .number(1),
                "vocabulary": .string("bytes"), "seed": .number(3),
            ])
        try client.call(
            "train.start",
            [
                "model": .string("g"), "corpus": .object(["text": .string(shakespeare(5000))]), "steps": .number(20),
                "batch_size": .number(4), "seq_length": .number(16), "stream": .bool(true),
            ])
        let request: JSONObject = [
            "model": .string("g"), "length": .number(80), "seed": .number(9), "temperature": .number(0.7),
        ]
        let text = try client.call("sample", request)["text"]
        #expect(daemon.stop() == 0)
        try daemon.start()
        #expect(try daemon.client().call("sample", request)["text"] == text)
        daemon.stop()
    }
}

/// Polls `model.info` until the feed backlog is learnt (at most 60 s).
func waitUntilLearnt(_ client: RNNClient, _ model: String) throws {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if try client.call("model.info", ["model": .string(model)])["feed_backlog_bytes"]?.int ?? 1 <= 1 { return }
        usleep(20_000)
    }
    throw DaemonTestError("the feed backlog of \(model) was not learnt within 60 s")
}

/// A job whose corpus is too short for even one step ends with a reason instead of
/// spinning, and the daemon still stops promptly.
@Suite struct TooShortCorpusTests {
    @Test func aCorpusTooShortToTrainOnFailsTheJob() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try client.call(
            "model.create", ["model": "t", "hidden_size": 8, "layers": 1, "corpus": ["text": "abc"]])
        let job = try client.call("train.start", ["model": "t", "corpus": ["text": "a"], "steps": 5])
        var info = job
        let deadline = Date().addingTimeInterval(30)
        while info["state"]?.stringValue == "queued" || info["state"]?.stringValue == "running", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            info = try client.call("train.status", ["job": job["job"] ?? .null])
        }
        #expect(info["state"] == "failed")
        #expect(info["error"]?.stringValue?.contains("too short") == true, "\(info)")
        let start = Date()
        #expect(daemon.stop() == 0)
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
