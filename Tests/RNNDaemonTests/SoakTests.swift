import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Repeated create/train/feed/sample/save/unload/load/delete cycles on a real rnnd: its
/// memory and open descriptors come back to where they were after the first cycles.
/// RNND_SOAK_SECONDS sets the length (120 s by default).
@Suite struct SoakTests {
    func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    func cycle(_ client: RNNClient, _ i: Int) throws {
        let name = JSON.string("soak\(i % 3)")
        let architecture = ["rnn-tanh", "lstm", "gru"][i % 3]
        try client.call(
            "model.create",
            [
                "model": name, "architecture": .string(architecture), "layers": .number(2), "hidden_size": .number(32),
                "corpus": .object(["text": .string(shakespeare(3000))]),
            ])
        try client.call(
            "train.start",
            [
                "model": name, "corpus": .object(["text": .string(shakespeare(20_000))]), "steps": .number(10),
                "batch_size": .number(8), "seq_length": .number(32), "stream": .bool(true),
            ])
        try client.call("train.feed", ["model": name, "text": .string("cycle \(i)\n")])
        _ = try client.call("sample", ["model": name, "length": .number(200), "stream": .bool(i % 2 == 0)])
        try client.call("model.save", ["model": name])
        try client.call("model.unload", ["model": name])
        try client.call("model.load", ["model": name])
        try client.call("model.delete", ["model": name])
    }

    @Test func cyclesReturnMemoryAndDescriptors() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RNND_SOAK_SECONDS"] ?? "") ?? 120
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let pid = daemon.process.processIdentifier
        let client = try daemon.client()
        for i in 0..<6 { try cycle(client, i) }  // warm-up: caches, thread pools, workspaces
        Thread.sleep(forTimeInterval: 1)
        let memory0 = try client.call("daemon.status")["resident_bytes"]?.int ?? 0
        let fds0 = openDescriptors(pid)
        let start = Date()
        var cycles = 0
        while Date().timeIntervalSince(start) < seconds {
            try cycle(try daemon.client(), cycles)  // a new connection each time, too
            cycles += 1
            if cycles % 10 == 0, ProcessInfo.processInfo.environment["RNND_SOAK_TRACE"] != nil {
                print(
                    "soak trace: \(cycles) \((try client.call("daemon.status")["resident_bytes"]?.int ?? 0) >> 10) KiB")
            }
        }
        Thread.sleep(forTimeInterval: 1)
        let memory1 = try client.call("daemon.status")["resident_bytes"]?.int ?? 0
        let fds1 = openDescriptors(pid)
        print(
            "soak: \(cycles) cycles in \(Int(seconds)) s; resident \(memory0 >> 10) -> \(memory1 >> 10) KiB; fds \(fds0) -> \(fds1)"
        )
        #expect(cycles > 10)
        #expect(fds1 == fds0, "descriptors leaked: \(fds0) -> \(fds1)")
        #expect(memory1 - memory0 < 8 << 20, "memory grew: \(memory0 >> 10) -> \(memory1 >> 10) KiB")
        #expect(try client.call("model.list")["models"]?.arrayValue?.isEmpty == true)
    }
}
