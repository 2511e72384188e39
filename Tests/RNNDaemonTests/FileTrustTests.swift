import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Paths a hostile client names (issue 13, items 1-4): links as the last part or in the
/// middle, a planted temporary file, a FIFO, a link to /dev/zero. Each is refused with the
/// reason and nothing outside the allowed folder is read or written.
@Suite struct FileTrustTests {
    /// A secret outside every allowed folder, and a daemon whose corpus folder links to it.
    func setUp() throws -> (DaemonProcess, secret: String, outside: String) {
        let daemon = try DaemonProcess()
        let outside = daemon.root.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let secret = outside + "/secret.txt"
        try String(repeating: "TOP SECRET LINE\n", count: 200).write(toFile: secret, atomically: true, encoding: .utf8)
        return (daemon, secret, outside)
    }

    @Test func aLinkAsTheLastPartIsNotFollowed() throws {
        let (daemon, secret, outside) = try setUp()
        defer { daemon.stop() }
        let client = try daemon.client()
        let link = daemon.corpusDirectory + "/link.txt"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: secret)
        try FileManager.default.createDirectory(
            atPath: daemon.corpusDirectory + "/tree", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: daemon.corpusDirectory + "/tree/in.txt", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(
            atPath: daemon.corpusDirectory + "/via", withDestinationPath: outside)
        let refused = refusal {
            try client.call("model.create", ["model": .string("a"), "corpus": .object(["file": .string(link)])])
        }
        #expect(refused?.reason == "path_not_allowed")
        #expect(refused?.message.contains("symbolic link") == true, "\(String(describing: refused))")
        let middle = refusal {
            try client.call(
                "model.create",
                [
                    "model": .string("b"),
                    "corpus": .object(["file": .string(daemon.corpusDirectory + "/via/secret.txt")]),
                ])
        }
        #expect(middle?.reason == "path_not_allowed")
        // A folder corpus passes over links inside it: nothing to train on here.
        let folder = refusal {
            try client.call(
                "model.create",
                ["model": .string("c"), "corpus": .object(["dir": .string(daemon.corpusDirectory + "/tree")])])
        }
        #expect(folder?.reason == "invalid_params", "\(String(describing: folder))")
        let imported = refusal {
            try client.call("model.import", ["model": .string("d"), "path": .string(link)])
        }
        #expect(imported?.reason == "path_not_allowed")
        #expect(try client.call("model.list")["models"]?.arrayValue?.isEmpty == true)
    }

    @Test func exportNeverWritesThroughALinkOrAPlantedTemporaryFile() throws {
        let (daemon, secret, outside) = try setUp()
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call("model.create", ["model": .string("e"), "hidden_size": .number(8)])
        let before = try Data(contentsOf: URL(fileURLWithPath: secret))
        try FileManager.default.createSymbolicLink(
            atPath: daemon.corpusDirectory + "/outdir", withDestinationPath: outside)
        let through = refusal {
            try client.call(
                "model.export",
                ["model": .string("e"), "path": .string(daemon.corpusDirectory + "/outdir/x.safetensors")])
        }
        #expect(through?.reason == "path_not_allowed", "\(String(describing: through))")
        #expect(!FileManager.default.fileExists(atPath: outside + "/x.safetensors"))
        // The old temporary name, planted as a link to the secret; and the target itself a link.
        let target = daemon.corpusDirectory + "/m.safetensors"
        try FileManager.default.createSymbolicLink(atPath: target + ".tmp", withDestinationPath: secret)
        try client.call("model.export", ["model": .string("e"), "path": .string(target)])
        #expect(try Data(contentsOf: URL(fileURLWithPath: secret)) == before)
        let written = try FileManager.default.attributesOfItem(atPath: target)
        #expect(written[.type] as? FileAttributeType == .typeRegular)
        try FileManager.default.createSymbolicLink(
            atPath: daemon.corpusDirectory + "/l.safetensors", withDestinationPath: secret)
        let overLink = refusal {
            try client.call(
                "model.export", ["model": .string("e"), "path": .string(daemon.corpusDirectory + "/l.safetensors")])
        }
        #expect(overLink?.reason == "path_not_allowed")
        #expect(try Data(contentsOf: URL(fileURLWithPath: secret)) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: daemon.corpusDirectory)
            .filter { $0.hasSuffix(".tmp") && $0 != "m.safetensors.tmp" }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aFIFOOrADeviceIsRefusedAtOnceAndTheDaemonStillStops() throws {
        let (daemon, _, _) = try setUp()
        let client = try daemon.client()
        let fifo = daemon.corpusDirectory + "/pipe.txt"
        #expect(mkfifo(fifo, 0o644) == 0)
        let started = Date()
        let refused = refusal {
            try client.call("model.create", ["model": .string("f"), "corpus": .object(["file": .string(fifo)])])
        }
        #expect(refused?.reason == "invalid_params")
        #expect(refused?.message.contains("FIFO") == true, "\(String(describing: refused))")
        #expect(Date().timeIntervalSince(started) < 5)
        try FileManager.default.createSymbolicLink(
            atPath: daemon.corpusDirectory + "/zero", withDestinationPath: "/dev/zero")
        let zero = refusal {
            try client.call("model.import", ["model": .string("z"), "path": .string(daemon.corpusDirectory + "/zero")])
        }
        #expect(zero?.reason == "path_not_allowed")
        #expect(daemon.stop() == 0)
    }

    @Test func anImportLargerThanTheCapIsRefusedBeforeItIsRead() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_import_bytes = 1000")
        defer { daemon.stop() }
        let path = daemon.corpusDirectory + "/big.safetensors"
        try Data(count: 5000).write(to: URL(fileURLWithPath: path))
        let refused = refusal {
            try daemon.client().call("model.import", ["model": .string("big"), "path": .string(path)])
        }
        #expect(refused?.reason == "limit_reached", "\(String(describing: refused))")
    }
}
