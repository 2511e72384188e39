import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Corpora through the real daemon: plugins listed and used, a failing plugin reported as
/// the job's error, learning-to-execute with its answer mask, folders.
@Suite struct CorpusDaemonTests {
    static let plugins = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("plugins").path

    func daemon() throws -> DaemonProcess {
        try DaemonProcess(config: "", pluginFolders: [Self.plugins])
    }

    @Test func pluginsAreListedAndTrainedOn() throws {
        let d = try daemon()
        defer { d.stop() }
        let client = try d.client()
        let list = try client.call("corpus.list")
        let names = list["plugins"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == ["command-output", "source-tree"])
        #expect(list["builtins"]?.arrayValue?.contains(.string("l2e")) == true)
        try client.call(
            "model.create", ["model": .string("p"), "hidden_size": .number(16), "vocabulary": .string("bytes")])
        let done = try client.call(
            "train.start",
            [
                "model": .string("p"), "steps": .number(20), "batch_size": .number(2), "seq_length": .number(16),
                "stream": .bool(true),
                "corpus": .object([
                    "plugin": .string("command-output"),
                    "params": .object(["command": .string("seq 1 3000"), "max-lines": .number(3000)]),
                ]),
            ])
        #expect(done["state"] == .string("finished"))
        #expect(done["step"]?.int == 20)
    }

    @Test func cancellingAJobStopsItsPlugin() throws {
        let d = try daemon()
        defer { d.stop() }
        let client = try d.client()
        try client.call(
            "model.create", ["model": .string("p"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        let marker = "rnnd-plugin-\(UUID().uuidString.prefix(8))"
        let job = try client.call(
            "train.start",
            [
                "model": .string("p"), "batch_size": .number(2), "seq_length": .number(8),
                "corpus": .object([
                    "plugin": .string("command-output"), "params": .object(["command": .string("yes \(marker)")]),
                ]),
            ])
        let id = try #require(job["job"]?.stringValue)
        func running() -> Bool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
            p.arguments = ["-f", "yes \(marker)"]
            p.standardOutput = FileHandle.nullDevice
            try? p.run()
            p.waitUntilExit()
            return p.terminationStatus == 0
        }
        // The job starts its plugin when it first reads; under the whole suite's load that
        // can take a while.
        var deadline = Date().addingTimeInterval(60)
        while !running() && Date() < deadline { usleep(20_000) }
        #expect(running(), "the plugin runs while the job does")
        try client.call("train.cancel", ["job": .string(id)])
        deadline = Date().addingTimeInterval(20)
        while (try client.call("train.status", ["job": .string(id)]))["state"] == .string("running")
            && Date() < deadline
        {
            usleep(20_000)
        }
        #expect(try client.call("train.status", ["job": .string(id)])["state"] == .string("cancelled"))
        deadline = Date().addingTimeInterval(10)
        while running() && Date() < deadline { usleep(20_000) }
        #expect(!running(), "the plugin (and what it started) is stopped with its job")
    }

    @Test func aFailingPluginFailsItsJobNotTheDaemon() throws {
        let d = try daemon()
        defer { d.stop() }
        let client = try d.client()
        try client.call(
            "model.create", ["model": .string("p"), "hidden_size": .number(16), "vocabulary": .string("bytes")])
        let failure = refusal {
            try client.call(
                "train.start",
                [
                    "model": .string("p"), "steps": .number(50), "stream": .bool(true),
                    "corpus": .object([
                        "plugin": .string("source-tree"), "params": .object(["root": .string("/nonexistent")]),
                    ]),
                ])
        }
        #expect(failure?.reason == "training_failed")
        #expect(failure?.message.contains("no folder /nonexistent") == true, "\(failure?.message ?? "no error")")
        #expect(throws: RNNClient.Failure.self) {
            try client.call(
                "train.start",
                [
                    "model": .string("p"),
                    "corpus": .object(["plugin": .string("source-tree"), "params": .object(["bogus": .string("1")])]),
                ])
        }
        #expect(try client.call("daemon.status")["version"] != nil)
        #expect(try client.call("sample", ["model": .string("p"), "length": .number(5)])["characters"]?.int == 5)
    }

    @Test func learningToExecuteTrainsOnAnswers() throws {
        let d = try daemon()
        defer { d.stop() }
        let client = try d.client()
        try client.call(
            "model.create",
            [
                "model": .string("l2e"), "hidden_size": .number(64), "layers": .number(1), "optimizer": .string("adam"),
                "learning_rate": .number(0.01),
                "corpus": .object(["text": .string("0123456789+-*()=;:#@.\nabcdefghijxprintfoe<> ")]),
            ])
        let done = try client.call(
            "train.start",
            [
                "model": .string("l2e"), "steps": .number(150), "batch_size": .number(16), "seq_length": .number(32),
                "validate_every": .number(50), "stream": .bool(true),
                "corpus": .object([
                    "l2e": .object(["task": .string("addition"), "length": .number(2), "seed": .number(3)])
                ]),
            ])
        #expect(done["state"] == .string("finished"))
        let loss = try #require(done["validation_loss"]?.numberValue)
        #expect(loss < log(10.0), "answer-only loss below a uniform guess over digits: \(loss)")
        #expect(done["answer_accuracy"]?.numberValue != nil, "the job reports answer accuracy")
        let measured = try client.call(
            "evaluate",
            [
                "model": .string("l2e"), "samples": .number(50),
                "corpus": .object([
                    "l2e": .object(["task": .string("addition"), "length": .number(2), "split": .string("test")])
                ]),
            ])
        #expect(measured["samples"]?.int == 50)
        let accuracy = try #require(measured["answer_accuracy"]?.numberValue)
        let exact = try #require(measured["exact_match"]?.numberValue)
        #expect((0...1).contains(accuracy) && (0...1).contains(exact))
    }
}

/// The daemon's refusal of `body`, if it refused.
func refusal(_ body: () throws -> Void) -> RPCError? {
    do {
        try body()
    } catch let failure as RNNClient.Failure {
        if case .daemon(let error) = failure { return error }
    } catch {}
    return nil
}
