import ArgumentParser
import RNNJSON
import RNNProtocol

/// The protocol layer's cost for one `daemon.status` answer, step by step, in-process: the
/// result to a JSON tree, the tree to text, the text back to a tree, the tree to the result;
/// and the ways the daemon and client take: the result straight to text, the text straight
/// to the result.
struct JSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Microseconds per daemon.status answer in each JSON stage, as key=value lines.")

    @Option(help: "Answers to time.")
    var count: Int = 50_000

    @Option(help: "Time only this stage (for a profiler).")
    var only: String?

    func run() throws {
        let status = StatusReport(
            version: "0.1.0", pid: 4242, uptimeSeconds: 1234.5, modelsTotal: 3, modelsLoaded: 2, jobsRunning: 1,
            residentBytes: 99_000_000, stateDirectory: "/var/lib/rnnd",
            limits: Limits(
                maxMessageBytes: 1 << 20, maxConnections: 256, maxLoadedModels: 8, maxSampleLength: 100_000,
                maxJobs: 4, maxVocabulary: 4096, idleUnloadSeconds: 0),
            engine: EngineReport(
                cpu: "Intel(R) Xeon(R) Processor (family 6 model 207)", kernels: .avx512, selectedBy: "cpuid",
                supportedKernels: ["portable", "avx2", "avx512"], gemm: "kernels", threads: 2, samplingWeights: .half),
            sampling: SamplingReport(
                inProgress: 0, samples: 100, characters: 20_000, steps: 2_000, meanBatch: 10, largestBatch: 16))
        let response = RPCResponse(id: .number(7), outcome: .success(status.wire))
        let line = JSONCoding.line(response.json)
        var sink = 0
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            if let only, only != name { return }
            let start = monotonicSeconds()
            for _ in 0..<count { try body() }
            print("bench=json stage=\(name) us_per_call=\(format((monotonicSeconds() - start) / Double(count) * 1e6))")
        }
        time("result_to_tree") {
            sink &+= RPCResponse(id: .number(7), outcome: .success(status.wire)).json.kindName.count
        }
        time("tree_to_text") { sink &+= JSONCoding.line(response.json).utf8.count }
        let bytes = Array(line.utf8)
        try time("text_to_tree") { sink &+= try JSONCoding.parse(bytes).kindName.count }
        let tree = try JSONCoding.parse(bytes)
        try time("tree_to_result") { sink &+= try StatusReport(wire: tree["result"]!, at: .root).pid }
        time("result_to_text") {
            var out: [UInt8] = []
            out.reserveCapacity(1024)
            status.writeWire(into: &out)
            sink &+= out.count
        }
        let resultBytes = Array(JSONWriter.text(status.wire).utf8)
        try time("text_to_result") {
            sink &+= try JSONReader.read(resultBytes) { try StatusReport(reading: &$0) }.pid
        }
        print("bench=json bytes=\(bytes.count) sink=\(sink % 10)")
    }
}
