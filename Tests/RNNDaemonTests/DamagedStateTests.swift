import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Checkpoints and spools damaged while rnnd was down: each damaged model is reported
/// unloadable with its reason, can be deleted, and the others load and serve.
@Suite struct DamagedStateTests {
    /// Replaces the first `old` in the file's bytes with `new` (same length, so the
    /// safetensors offsets stay valid).
    func patch(_ path: String, _ old: String, _ new: String) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let o = Array(old.utf8), n = Array(new.utf8)
        precondition(o.count == n.count)
        guard let at = (0...(bytes.count - o.count)).first(where: { Array(bytes[$0..<($0 + o.count)]) == o }) else {
            throw DaemonTestError("\(old) is not in \(path)")
        }
        bytes.replaceSubrange(at..<(at + o.count), with: n)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func damagedModelsAreReportedAndTheOthersLoad() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        var client = try daemon.client()
        let names = ["good", "truncated", "zeroed", "newer", "reshaped", "spool"]
        for name in names {
            try client.call(
                "model.create",
                [
                    "model": .string(name), "architecture": .string("lstm"), "hidden_size": .number(8),
                    "corpus": .object(["text": .string("abc")]),
                ])
        }
        try client.call("train.feed", ["model": .string("spool"), "text": .string("abcabc")])
        #expect(daemon.stop() == 0)

        let models = daemon.stateDirectory + "/models/"
        let truncated = models + "truncated/model.safetensors"
        let size = try FileManager.default.attributesOfItem(atPath: truncated)[.size] as? Int ?? 0
        try Data(try Data(contentsOf: URL(fileURLWithPath: truncated)).prefix(size / 2)).write(
            to: URL(fileURLWithPath: truncated))
        let zeroed = models + "zeroed/model.safetensors"
        try Data(count: size).write(to: URL(fileURLWithPath: zeroed))
        try patch(models + "newer/model.safetensors", #""format_version":"1""#, #""format_version":"7""#)
        try patch(models + "reshaped/model.safetensors", #""shape":[32,"#, #""shape":[31,"#)
        // A spool whose text is not UTF-8 any more.
        let spoolFolder = models + "spool"
        for file in try FileManager.default.contentsOfDirectory(atPath: spoolFolder) where file.hasPrefix("spool-") {
            try Data([0xFF, 0xFE, 0x61]).write(to: URL(fileURLWithPath: spoolFolder + "/" + file))
        }

        try daemon.start()
        client = try daemon.client()
        let listed = try client.call("model.list")["models"]?.arrayValue ?? []
        #expect(listed.count == names.count, "every model is listed, damaged or not")
        for name in ["truncated", "zeroed", "newer", "reshaped"] {
            let info = try client.call("model.info", ["model": .string(name)])
            #expect(info["state"]?.stringValue == "failed", "\(name): \(info)")
            let reason = info["error"]?.stringValue ?? ""
            #expect(reason.count > 15, "\(name) says why: \(reason)")
            if name == "newer" { #expect(reason.contains("newer"), "\(reason)") }
            if name == "reshaped" { #expect(reason.contains("shape"), "\(reason)") }
            #expect(throws: RNNClient.Failure.self, "\(name) cannot sample") {
                try client.call("sample", ["model": .string(name), "length": .number(5)])
            }
        }
        #expect(try client.call("sample", ["model": .string("good"), "length": .number(5)])["characters"]?.int == 5)
        let spool = try client.call("model.info", ["model": .string("spool")])
        #expect(spool["state"]?.stringValue != "failed", "a bad spool does not lose the model: \(spool)")
        #expect(try client.call("sample", ["model": .string("spool"), "length": .number(5)])["characters"]?.int == 5)
        try client.call("model.delete", ["model": .string("truncated")])
        #expect(try client.call("model.list")["models"]?.arrayValue?.count == names.count - 1)
    }
}
