import Foundation
import RNNClient
import RNNJSON
import Testing

/// rnnd -> PyTorch -> rnnd with examples/pytorch/charrnn.py: the same weights give the same
/// loss on both sides, and weights trained in PyTorch come back into rnnd whole.
@Suite struct PyTorchRoundTripTests {
    /// A Python with torch and safetensors: $RNND_TORCH_PYTHON, ~/.refvenv (the reference
    /// benchmarks' venv), or python3.
    static let python: String? = {
        var candidates = [
            ProcessInfo.processInfo.environment["RNND_TORCH_PYTHON"],
            NSHomeDirectory() + "/.refvenv/bin/python",
        ].compactMap { $0 }
        candidates.append("/usr/bin/python3")
        return candidates.first { path in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            return (try? run(path, ["-c", "import torch, safetensors"]))?.status == 0
        }
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/pytorch/charrnn.py").path

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The loss charrnn.py prints for `text` with the weights of `file`.
    static func torchLoss(_ file: String, _ text: String) throws -> Double {
        let r = try run(python!, [script, "--init-from", file, "--eval", text])
        let value = r.output.split(separator: "\n").last { $0.hasPrefix("loss=") }.flatMap { Double($0.dropFirst(5)) }
        return try #require(value, "charrnn.py failed: \(r.output)")
    }

    @Test(
        .enabled(
            if: python != nil,
            "PyTorch is not installed: pip install torch safetensors (or set RNND_TORCH_PYTHON) to run the round trip"))
    func aModelGoesToPyTorchAndBackWithTheSameLoss() throws {
        let daemon = try DaemonProcess()
        let client = try daemon.client()
        let text = shakespeare(20_000)
        let textFile = try daemon.writeCorpus("text.txt", text)
        try client.call(
            "model.create", ["model": "m", "layers": 2, "hidden_size": 32, "corpus": ["text": .string(text)]])
        try client.call("train.start", ["model": "m", "corpus": ["text": .string(text)], "steps": 20, "stream": true])
        let exported = daemon.corpusDirectory + "/m.safetensors"
        try client.call("model.export", ["model": "m", "path": .string(exported)])
        let sample = String(text.prefix(3000))
        let sampleFile = try daemon.writeCorpus("sample.txt", sample)
        let rnnd = try #require(
            try client.call("evaluate", ["model": "m", "text": .string(sample)])["loss"]?.numberValue)
        #expect(abs(try Self.torchLoss(exported, sampleFile) - rnnd) < 1e-4)

        // Trained further in PyTorch, imported back: rnnd scores it as PyTorch does.
        let back = daemon.corpusDirectory + "/back.safetensors"
        let trained = try Self.run(
            Self.python!, [Self.script, "--init-from", exported, "--data", textFile, "--steps", "10", "--out", back])
        #expect(trained.status == 0, "\(trained.output)")
        try client.call("model.import", ["model": "m2", "path": .string(back)])
        let rnndBack = try #require(
            try client.call("evaluate", ["model": "m2", "text": .string(sample)])["loss"]?.numberValue)
        #expect(abs(try Self.torchLoss(back, sampleFile) - rnndBack) < 1e-4)
        #expect(abs(rnndBack - rnnd) > 1e-3, "ten steps in PyTorch changed nothing")
        // The vocabulary came back too: the same text has no unknown characters.
        #expect(try client.call("evaluate", ["model": "m2", "text": .string(sample)])["unknown_characters"] == nil)
    }
}
