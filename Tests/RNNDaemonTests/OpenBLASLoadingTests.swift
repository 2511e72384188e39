import Foundation
import RNNClient
import RNNJSON
import Testing

/// OpenBLAS is a comparison, not a dependency: rnnd maps it only under `RNND_GEMM=openblas`,
/// trains on it then, and says why when it cannot load it.
@Suite(.serialized) struct OpenBLASLoadingTests {
    /// The shared objects mapped into `pid`.
    func mappedLibraries(_ pid: Int32) throws -> String {
        try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
    }

    @Test func rnndDoesNotMapOpenBLASByDefault() throws {
        // Empty, not absent: the test runner's own RNND_GEMM must not leak into the daemon.
        let daemon = try DaemonProcess(environment: ["RNND_GEMM": ""])
        let status = try daemon.client(readOnly: true).call("daemon.status", [:])
        #expect(status["engine"]?["gemm"] == .string("kernels"))
        #expect(!(try mappedLibraries(daemon.process.processIdentifier)).contains("openblas"))
        #expect(daemon.stop() == 0)
    }

    @Test func rnndTrainsOnOpenBLASWhenAsked() throws {
        let daemon = try DaemonProcess(environment: ["RNND_GEMM": "openblas"])
        // CI installs libopenblas0 (scripts/setup, .ci/run): its absence is a failure here.
        #expect(daemon.startupLog.contains("gemm=openblas (core "), "\(daemon.startupLog)")
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

    /// A libopenblas.so.0 that is not a library, found first on LD_LIBRARY_PATH: rnnd starts
    /// on its own kernels and says why it did not honour RNND_GEMM, and what to do.
    @Test func aBrokenOpenBLASFallsBackToTheKernelsAndSaysWhy() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fake-blas-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "not a shared object\n".write(
            to: folder.appendingPathComponent("libopenblas.so.0"), atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(environment: ["RNND_GEMM": "openblas", "LD_LIBRARY_PATH": folder.path])
        let log = daemon.startupLog
        #expect(log.contains("gemm=kernels (RNND_GEMM=openblas refused: OpenBLAS could not be loaded"), "\(log)")
        #expect(log.contains("install Debian's libopenblas0, or leave RNND_GEMM unset"), "\(log)")
        let status = try daemon.client(readOnly: true).call("daemon.status", [:])
        #expect(status["engine"]?["gemm"] == .string("kernels"))
        #expect(!(try mappedLibraries(daemon.process.processIdentifier)).contains("openblas"))
        #expect(daemon.stop() == 0)
    }
}
