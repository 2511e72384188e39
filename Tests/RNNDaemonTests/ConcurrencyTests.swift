import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Sampling while the same model trains: every client is answered, and none waits for the
/// job (the job is still running when all of them are done).
@Suite struct ConcurrencyTests {
    @Test func tenClientsSampleWhileTheModelTrains() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let admin = try daemon.client()
        try admin.call(
            "model.create",
            [
                "model": .string("busy"), "hidden_size": .number(128), "layers": .number(2),
                "corpus": .object(["text": .string(shakespeare(20_000))]), "seed": .number(1),
            ])
        let job = try admin.call(
            "train.start",
            [
                "model": .string("busy"), "corpus": .object(["text": .string(shakespeare(100_000))]),
                "seconds": .number(60), "batch_size": .number(32), "seq_length": .number(64),
            ])
        let id = try #require(job["job"]?.stringValue)

        let results = NSLock()
        nonisolated(unsafe) var answered = 0
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 10) { i in
            do {
                let client = try daemon.client(readOnly: true)
                for round in 0..<5 {
                    let r = try client.call(
                        "sample",
                        ["model": .string("busy"), "length": .number(200), "seed": .integer(i * 10 + round)])
                    guard r["characters"]?.int == 200 else { throw DaemonTestError("short sample: \(r)") }
                    results.lock()
                    answered += 1
                    results.unlock()
                }
            } catch {
                results.lock()
                failures.append("\(error)")
                results.unlock()
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(answered == 50)
        let status = try admin.call("train.status", ["job": .string(id)])
        #expect(status["state"] == .string("running"), "the job should still run: all samples came while it trained")
        #expect(status["step"]?.int ?? 0 > 0)
        let cancelled = try admin.call("train.cancel", ["job": .string(id)])
        #expect(cancelled["job"] == .string(id))
    }

    @Test func severalModelsLiveAtOnce() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        for (name, arch) in [("a", "rnn-tanh"), ("b", "rnn-relu"), ("c", "gru"), ("d", "lstm")] {
            try client.call(
                "model.create",
                [
                    "model": .string(name), "architecture": .string(arch), "hidden_size": .number(16),
                    "layers": .number(2),
                    "vocabulary": .string("bytes"),
                ])
        }
        let list = try #require(try client.call("model.list")["models"]?.arrayValue)
        #expect(list.compactMap { $0["name"]?.stringValue } == ["a", "b", "c", "d"])
        #expect(list.allSatisfy { $0["loaded"] == .bool(true) })
        try client.call("model.unload", ["model": .string("b")])
        #expect(try client.call("model.info", ["model": .string("b")])["loaded"] == .bool(false))
        // Sampling an unloaded model is refused; loading it brings it back.
        #expect(throws: RNNClient.Failure.self) { try client.call("sample", ["model": .string("b")]) }
        try client.call("model.load", ["model": .string("b")])
        #expect(try client.call("sample", ["model": .string("b"), "length": .number(5)])["characters"]?.int == 5)
        try client.call("model.delete", ["model": .string("d")])
        #expect(try client.call("model.list")["models"]?.arrayValue?.count == 3)
    }
}
