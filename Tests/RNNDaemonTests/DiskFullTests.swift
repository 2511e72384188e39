import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A full disk (a small tmpfs as the state folder): saving fails with a clear error and the
/// previous checkpoint stays as it was; feeding is refused rather than acknowledged and lost.
@Suite struct DiskFullTests {
    /// Fills the filesystem of `folder` with one file, to the last byte.
    func fill(_ folder: String) -> String {
        let path = folder + "/filler"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let block = [UInt8](repeating: 0x55, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        var byte: UInt8 = 0x55
        while write(fd, &byte, 1) > 0 {}
        close(fd)
        return path
    }

    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func savingAndFeedingOnAFullDiskLoseNothing() throws {
        let daemon = try DaemonProcess(stateFilesystemKiB: 2048)
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call(
            "model.create",
            [
                "model": .string("m"), "architecture": .string("lstm"), "hidden_size": .number(16),
                "corpus": .object(["text": .string(shakespeare(2000))]),
            ])
        let fed = try client.call("train.feed", ["model": .string("m"), "text": .string("before the disk filled\n")])
        let acknowledged = fed["accepted_bytes"]?.int ?? 0
        try client.call("model.save", ["model": .string("m")])
        let checkpoint = daemon.stateDirectory + "/models/m/model.safetensors"
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))

        let filler = fill(daemon.stateDirectory)
        try client.call(
            "train.start",
            [
                "model": .string("m"), "corpus": .object(["text": .string(shakespeare(4000))]), "steps": .number(5),
                "stream": .bool(true),
            ])
        let saveError = refusal { try client.call("model.save", ["model": .string("m")]) }
        #expect(saveError?.reason == "storage_error", "\(String(describing: saveError))")
        #expect(saveError?.message.contains("No space left") == true, "\(String(describing: saveError?.message))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before, "the last checkpoint is intact")
        let feedError = refusal {
            try client.call(
                "train.feed", ["model": .string("m"), "text": .string(String(repeating: "x", count: 8192))])
        }
        #expect(feedError?.reason == "storage_error", "\(String(describing: feedError))")
        #expect(try client.call("model.info", ["model": .string("m")])["feed_total_bytes"]?.int == acknowledged)
        #expect(try client.call("daemon.status")["version"] != nil, "rnnd keeps serving")

        try FileManager.default.removeItem(atPath: filler)
        try client.call("model.save", ["model": .string("m")])
        #expect(daemon.stop() == 0)
        try daemon.start()
        let info = try daemon.client().call("model.info", ["model": .string("m")])
        #expect(info["state"]?.stringValue != "failed", "\(info)")
        #expect(info["feed_total_bytes"]?.int == acknowledged)
        #expect(info["steps"]?.int ?? 0 >= 5)
    }
}
