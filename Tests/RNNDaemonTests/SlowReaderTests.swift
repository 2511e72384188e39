import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Clients that stop reading in the middle of a stream: rnnd's memory stays bounded
/// (the samplers wait for them), other clients are served, and a client that resumes
/// reading gets the whole stream.
@Suite struct SlowReaderTests {
    @Test func streamsWaitForClientsThatStopReading() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_sample_length = 20000000")
        defer { daemon.stop() }
        let admin = try daemon.client()
        try admin.call(
            "model.create",
            ["model": .string("m"), "hidden_size": .number(8), "corpus": .object(["text": .string("ab")])])
        let before = try admin.call("daemon.status")["resident_bytes"]?.int ?? 0
        // Four streams of 3 million characters that nobody reads: unchecked, each would pile up
        // its whole output (over 10 MB each) in rnnd within seconds.
        var stalled: [RNNClient] = []
        for i in 0..<4 {
            let client = try daemon.client(readOnly: i % 2 == 1)
            try client.send(
                #"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","length":3000000,"stream":true},"id":\#(i)}"#
            )
            stalled.append(client)
        }
        Thread.sleep(forTimeInterval: 4)
        let during = try admin.call("daemon.status")["resident_bytes"]?.int ?? 0
        print(
            "slow readers: rnnd grew by \((during - before) >> 10) KiB",
            try admin.call("daemon.status")["sampling"] ?? .null)
        #expect(during - before < 6 << 20, "rnnd grew by \((during - before) >> 20) MiB for four stalled streams")
        // Others are served meanwhile, sampling included.
        let other = try daemon.client(readOnly: true)
        #expect(try other.call("sample", ["model": .string("m"), "length": .number(50)])["characters"]?.int == 50)
        // Stalled clients that hang up end their samples: the daemon goes quiet again.
        stalled.removeAll()
        Thread.sleep(forTimeInterval: 1)
        #expect(try admin.call("daemon.status")["resident_bytes"]?.int ?? 0 < during + (4 << 20))
        // A client that pauses and then reads again gets every chunk, adding up to the result.
        let reader = try daemon.client()
        try reader.send(
            #"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","length":200000,"stream":true},"id":9}"#)
        Thread.sleep(forTimeInterval: 2)
        var streamed = ""
        var result: JSON = .null
        while true {
            let message = try JSONCoding.parse(reader.readLine())
            if message["method"] != nil {
                streamed += message["params"]?["text"]?.stringValue ?? ""
            } else {
                result = message["result"] ?? .null
                break
            }
        }
        #expect(result["characters"]?.int == 200_000)
        #expect(streamed == result["text"]?.stringValue, "the stream and the result agree")
    }
}
