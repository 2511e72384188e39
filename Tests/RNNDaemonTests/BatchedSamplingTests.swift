import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Samples of one model are stepped together (continuous batching), and a seeded sample's
/// text does not depend on what else is in its batch.
@Suite struct BatchedSamplingTests {
    static func request(_ id: Int, seed: Int, length: Int, temperature: Double, prime: String, stream: Bool = false)
        -> String
    {
        let params: JSON = .object([
            "model": .string("m"), "seed": .integer(seed), "length": .integer(length),
            "temperature": .double(temperature), "prime": .string(prime), "stream": .bool(stream),
        ])
        return JSONCoding.line(RPCRequest(method: "sample", params: params, id: .number(JSONNumber(id))).json)
    }

    /// The result of `id`, skipping stream notifications (collected into `streamed`).
    static func result(_ client: RNNClient, streamed: inout String) throws -> JSON {
        while true {
            let message = try JSONCoding.parse(client.readLine())
            if message["method"] != nil {
                streamed += message["params"]?["text"]?.stringValue ?? ""
                continue
            }
            return try #require(message["result"], "\(message)")
        }
    }

    /// Creates model "m" (`hidden` x `layers`, seeded) and returns the result of `request`
    /// sent alone on the read-only socket.
    static func createAndSampleAlone(_ daemon: DaemonProcess, hidden: Int, layers: Int, seed: Int, request: String)
        throws -> JSON
    {
        try daemon.client().call(
            "model.create",
            [
                "model": .string("m"), "hidden_size": .integer(hidden), "layers": .integer(layers),
                "corpus": .object(["text": .string(shakespeare(5_000))]), "seed": .integer(seed),
            ])
        let alone = try daemon.client(readOnly: true)
        try alone.send(request)
        var ignored = ""
        return try result(alone, streamed: &ignored)
    }

    @Test func aSeededSampleIsTheSameAloneAndAmongFifteenOthers() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let ours = Self.request(0, seed: 42, length: 400, temperature: 0.9, prime: "ROMEO:")
        let expected = try Self.createAndSampleAlone(daemon, hidden: 64, layers: 2, seed: 3, request: ours)
        #expect(expected["characters"]?.int == 400)

        // Sixteen clients at once, ours among fifteen others of other seeds, lengths, primes
        // and temperatures, half of them streamed; every request is sent before any is read.
        var clients: [RNNClient] = []
        for i in 0..<16 {
            let client = try daemon.client(readOnly: true)
            try client.send(
                i == 7
                    ? ours
                    : Self.request(
                        i, seed: 1000 + i, length: 100 + 37 * i, temperature: 0.5 + 0.1 * Double(i),
                        prime: String(repeating: "a", count: i), stream: i % 2 == 0))
            clients.append(client)
        }
        for (i, client) in clients.enumerated() {
            var streamed = ""
            let result = try Self.result(client, streamed: &streamed)
            if i == 7 {
                #expect(result["text"] == expected["text"], "the same seed gave another text in a batch")
            } else {
                #expect(result["characters"]?.int == 100 + 37 * i)
                if i % 2 == 0 { #expect(streamed == result["text"]?.stringValue, "stream \(i) and result agree") }
            }
        }
        // They were stepped together: the daemon's sampling counters saw batches of many rows.
        let sampling = try daemon.client().call("daemon.status")["sampling"]
        #expect((sampling?["largest_batch"]?.int ?? 0) >= 8, "\(String(describing: sampling))")
    }

    /// With `sampling.weights` int8 (the default) or half, a model whose recurrent matrix is
    /// reduced (1x256: 1 MiB of floats, past an eighth of L2 on any CPU up to 8 MiB of L2)
    /// still gives a seeded sample the same text alone and beside seven others.
    @Test(arguments: ["int8", "half"])
    func aReducedSampleIsTheSameAloneAndAmongOthers(weights: String) throws {
        let daemon = try DaemonProcess(config: weights == "int8" ? "" : "[sampling]\nweights = \"\(weights)\"")
        defer { daemon.stop() }
        #expect(daemon.startupLog.contains("sampling_weights=\(weights)"), "\(daemon.startupLog)")
        #expect(try daemon.client().call("daemon.status")["engine"]?["sampling_weights"] == .string(weights))
        let ours = Self.request(0, seed: 9, length: 120, temperature: 1.2, prime: "KING")
        let expected = try Self.createAndSampleAlone(daemon, hidden: 256, layers: 1, seed: 5, request: ours)
        var clients: [RNNClient] = []
        for i in 0..<8 {
            let client = try daemon.client(readOnly: true)
            try client.send(
                i == 3
                    ? ours
                    : Self.request(
                        i, seed: 100 + i, length: 40 + 11 * i, temperature: 0.8, prime: "", stream: i % 2 == 0))
            clients.append(client)
        }
        for (i, client) in clients.enumerated() {
            var streamed = ""
            let result = try Self.result(client, streamed: &streamed)
            if i == 3 { #expect(result["text"] == expected["text"], "the same seed gave another text in a batch") }
        }
        let sampling = try daemon.client().call("daemon.status")["sampling"]
        #expect((sampling?["largest_batch"]?.int ?? 0) >= 4, "\(String(describing: sampling))")
    }
}
