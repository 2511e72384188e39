import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Refusals and faults: the read-only socket, bad names, over-long lines, paths outside
/// the allowed folders, kill -9 during training, saving and feeding.
@Suite struct SafetyTests {
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
            #expect(refusalReason { try ro.call(method, params) } == "read_only_socket", "\(method)")
        }
        #expect(try daemon.client().call("model.list")["models"]?.arrayValue?.count == 1)
        // Every method the contract does not mark read-only, whatever its parameters.
        for method in RPCMethods.all where !method.isReadOnly {
            #expect(
                refusalReason { try ro.call(method.name, ["model": .string("m")]) } == "read_only_socket",
                "\(method.name)")
        }
        #expect(RPCMethods.all.filter { !$0.isReadOnly }.count >= 10)
        #expect(try daemon.client().call("model.list")["models"]?.arrayValue?.count == 1)
        // The socket files: admin for the owner only, read-only for everyone.
        let admin = try FileManager.default.attributesOfItem(atPath: daemon.adminSocket)
        let readOnly = try FileManager.default.attributesOfItem(atPath: daemon.readOnlySocket)
        #expect((admin[.posixPermissions] as? Int) == 0o600)
        #expect((readOnly[.posixPermissions] as? Int) == 0o666)
    }

    @Test func namesCannotEscapeTheStateFolder() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        for name in ["../x", "a/b", "..", ".hidden", "", String(repeating: "n", count: 65), "a\u{0}b", "名字"] {
            #expect(
                refusalReason { try client.call("model.create", ["model": .string(name)]) } == "invalid_params",
                "\(name)")
        }
        #expect(
            refusalReason { try client.call("model.import", ["model": .string("i"), "path": .string("/etc/passwd")]) }
                == "path_not_allowed")
        #expect(
            refusalReason {
                try client.call(
                    "model.import", ["model": .string("i"), "path": .string(daemon.corpusDirectory + "/../../x")])
            } == "path_not_allowed")
        #expect(
            refusalReason {
                try client.call(
                    "model.create", ["model": .string("c"), "corpus": .object(["file": .string("/etc/hostname")])])
            } == "path_not_allowed")
        try client.call("model.create", ["model": .string("e"), "hidden_size": .number(8)])
        for (method, params) in [
            ("model.export", ["model": JSON.string("e"), "path": .string("/tmp/escaped.safetensors")]),
            ("model.export", ["model": .string("e"), "path": .string(daemon.corpusDirectory + "/../escaped")]),
            ("model.export", ["model": .string("e"), "path": .string(daemon.stateDirectory + "/models/e/x")]),
            ("train.start", ["model": .string("e"), "corpus": .object(["file": .string("/etc/passwd")])]),
            ("train.start", ["model": .string("e"), "corpus": .object(["dir": .string("/etc")])]),
        ] {
            #expect(refusalReason { try client.call(method, params) } == "path_not_allowed", "\(method) \(params)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped.safetensors"))
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
        let request: JSONObject = ["length": .number(30), "seed": .number(4)]
        var a = request, b = request
        a["model"] = .string("src")
        b["model"] = .string("copy")
        #expect(try client.call("sample", a)["text"] == client.call("sample", b)["text"])
    }

    /// RNND_KILL_ROUNDS rounds (8 by default) from RNND_KILL_SEED (random by default, printed
    /// so that a failing run can be repeated).
    @Test func killNineLosesNothingAcknowledged() throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = Int(environment["RNND_KILL_ROUNDS"] ?? "") ?? 8
        let seed = UInt64(environment["RNND_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("kill -9: \(rounds) rounds, RNND_KILL_SEED=\(seed)")
        var generator = SeededGenerator(seed: seed)
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        try client.call(
            "model.create",
            [
                "model": .string("k"), "hidden_size": .number(32), "layers": .number(1), "batch_size": .number(4),
                "seq_length": .number(16), "corpus": .object(["text": .string(shakespeare(3000))]),
            ])
        var acknowledged = 0
        for round in 0..<rounds {
            let c = try daemon.client()
            try c.call(
                "train.start",
                [
                    "model": .string("k"), "corpus": .object(["text": .string(shakespeare(20_000))]),
                    "seconds": .number(30),
                    "checkpoint_every": .integer((Int.random(in: 1...5, using: &generator))),
                ])
            for i in 0..<Int.random(in: 1...12, using: &generator) {
                let text = "round \(round) line \(i): " + String(repeating: "feed me ", count: 50) + "\n"
                let ack = try c.call("train.feed", ["model": .string("k"), "text": .string(text)])
                acknowledged += ack["accepted_bytes"]?.int ?? 0
                if Bool.random(using: &generator) { try c.call("model.save", ["model": .string("k")]) }
            }
            // Kill at a random point of what is going on: steps, autosaves, learning the feed.
            usleep(UInt32.random(in: 0...300_000, using: &generator))
            daemon.stop(signal: SIGKILL)
            try daemon.start()
            let info = try daemon.client().call("model.info", ["model": .string("k")])
            #expect(info["state"] != .string("failed"), "round \(round), seed \(seed): \(info["error"] ?? .null)")
            #expect(
                info["feed_total_bytes"]?.int == acknowledged,
                "round \(round), seed \(seed): acknowledged text was lost")
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

/// SplitMix64, for test randomness that a seed repeats.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
