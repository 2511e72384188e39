import Foundation
import RNNClient
import RNNProtocol
import Testing

/// Refusals and faults: the read-only socket, bad names, over-long lines, paths outside
/// the allowed folders, kill -9 during training, saving and feeding.
@Suite struct SafetyTests {
    func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch RNNClient.Failure.daemon(let error) {
            return error.reason
        } catch {
            return "\(error)"
        }
    }

    @Test func theReadOnlySocketRefusesChanges() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.client().call(
            "model.create", ["model": .string("m"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        let ro = try daemon.client(readOnly: true)
        #expect(try ro.call("model.list")["models"]?.arrayValue?.count == 1)
        #expect(try ro.call("sample", ["model": .string("m"), "length": .number(3)])["characters"]?.int == 3)
        for (method, params) in [
            ("model.create", ["model": JSON.string("n")]), ("model.delete", ["model": .string("m")]),
            ("train.feed", ["model": .string("m"), "text": .string("x")]), ("daemon.shutdown", [:]),
            ("model.save", ["model": .string("m")]),
        ] {
            #expect(reason { try ro.call(method, params) } == "read_only_socket", "\(method)")
        }
        #expect(try daemon.client().call("model.list")["models"]?.arrayValue?.count == 1)
    }

    @Test func namesCannotEscapeTheStateFolder() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        for name in ["../x", "a/b", "..", ".hidden", "", String(repeating: "n", count: 65), "a\u{0}b", "名字"] {
            #expect(reason { try client.call("model.create", ["model": .string(name)]) } == "invalid_params", "\(name)")
        }
        #expect(
            reason { try client.call("model.import", ["model": .string("i"), "path": .string("/etc/passwd")]) }
                == "path_not_allowed")
        #expect(
            reason {
                try client.call(
                    "model.import", ["model": .string("i"), "path": .string(daemon.corpusDirectory + "/../../x")])
            } == "path_not_allowed")
        #expect(
            reason {
                try client.call(
                    "model.create", ["model": .string("c"), "corpus": .object(["file": .string("/etc/hostname")])])
            } == "path_not_allowed")
    }

    @Test func anOverLongLineGetsAnErrorAndOthersAreServed() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_message_bytes = 4096")
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.send(String(repeating: "x", count: 10_000))
        let response = try RPCResponse(parsing: JSONCoding.parse(client.readLine()))
        guard case .failure(let error) = response.outcome else { Issue.record("no error"); return }
        #expect(error.reason == "message_too_large")
        #expect(throws: RNNClient.Failure.self) { try client.readLine() }  // then closed
        #expect(try daemon.client().call("daemon.status")["version"] != nil)
    }

    @Test func exportAndImportRoundTripThroughAllowedFolders() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call(
            "model.create",
            ["model": .string("src"), "hidden_size": .number(8), "corpus": .object(["text": .string("hello")])])
        let path = daemon.corpusDirectory + "/src.safetensors"
        #expect(
            try client.call("model.export", ["model": .string("src"), "path": .string(path)])["bytes"]?.int ?? 0 > 0)
        try client.call("model.import", ["model": .string("copy"), "path": .string(path)])
        let request: [String: JSON] = ["length": .number(30), "seed": .number(4)]
        var a = request, b = request
        a["model"] = .string("src")
        b["model"] = .string("copy")
        #expect(try client.call("sample", a)["text"] == client.call("sample", b)["text"])
    }

    @Test func killNineLosesNothingAcknowledged() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try client.call(
            "model.create",
            [
                "model": .string("k"), "hidden_size": .number(32), "layers": .number(1), "batch_size": .number(4),
                "seq_length": .number(16), "corpus": .object(["text": .string(shakespeare(3000))]),
            ])
        var acknowledged = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<4 {
            let c = try daemon.client()
            try c.call(
                "train.start",
                [
                    "model": .string("k"), "corpus": .object(["text": .string(shakespeare(20_000))]),
                    "seconds": .number(30),
                    "checkpoint_every": .number(3),
                ])
            for i in 0..<Int.random(in: 3...12, using: &generator) {
                let text = "round \(round) line \(i): " + String(repeating: "feed me ", count: 50) + "\n"
                let ack = try c.call("train.feed", ["model": .string("k"), "text": .string(text)])
                acknowledged += ack["accepted_bytes"]?.int ?? 0
                if Bool.random(using: &generator) { try c.call("model.save", ["model": .string("k")]) }
            }
            daemon.stop(signal: SIGKILL)
            try daemon.start()
            let info = try daemon.client().call("model.info", ["model": .string("k")])
            #expect(info["state"] != .string("failed"), "round \(round): \(info["error"] ?? .null)")
            #expect(info["feed_total_bytes"]?.int == acknowledged, "round \(round): acknowledged text was lost")
        }
        try waitUntilLearnt(daemon.client(), "k")
        #expect(daemon.stop() == 0)
        try daemon.start()
        let info = try daemon.client().call("model.info", ["model": .string("k")])
        #expect(info["feed_total_bytes"]?.int == acknowledged)
        #expect(info["feed_backlog_bytes"]?.int ?? 99 <= 1)
        daemon.stop()
    }
}
