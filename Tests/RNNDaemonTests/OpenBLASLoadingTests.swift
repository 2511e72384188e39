import Foundation
import RNNClient
import RNNJSON
import Testing

/// OpenBLAS is a comparison, not a dependency: rnnd maps it only under `RNND_GEMM=openblas`,
/// and then trains on it.
@Suite(.serialized) struct OpenBLASLoadingTests {
    /// The shared objects mapped into `pid`.
    func mappedLibraries(_ pid: Int32) throws -> String {
        try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
    }

    @Test func rnndDoesNotMapOpenBLASByDefault() throws {
        let daemon = try DaemonProcess()
        let status = try daemon.client(readOnly: true).call("daemon.status", [:])
        #expect(status["engine"]?["gemm"] == .string("kernels"))
        #expect(!(try mappedLibraries(daemon.process.processIdentifier)).contains("openblas"))
        #expect(daemon.stop() == 0)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libopenblas.so.0")))
    func rnndTrainsOnOpenBLASWhenAsked() throws {
        let daemon = try DaemonProcess(environment: ["RNND_GEMM": "openblas"])
        let client = try daemon.client()
        let status = try client.call("daemon.status", [:])
        #expect(status["engine"]?["gemm"] == .string("openblas"))
        #expect(try mappedLibraries(daemon.process.processIdentifier).contains("openblas"))
        let corpus = try daemon.writeCorpus("bard.txt", shakespeare(8_000))
        _ = try client.call(
            "model.create",
            [
                "model": .string("bard"), "architecture": .string("lstm"), "hidden_size": .number(32),
                "corpus": .object(["file": .string(corpus)]), "seed": .number(1),
            ])
        let finished = try client.call(
            "train.start",
            [
                "model": .string("bard"), "corpus": .object(["file": .string(corpus)]), "steps": .number(30),
                "batch_size": .number(8), "seq_length": .number(16), "stream": .bool(true),
            ]
        ) { _, _ in }
        #expect(finished["state"] == .string("finished"))
        let loss = try #require(finished["loss"]?.numberValue)
        #expect(loss.isFinite && loss < 4.0, "loss after 30 steps on OpenBLAS: \(loss)")
        #expect(daemon.stop() == 0)
    }
}
