import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Work whose client went away stops, an administrator's sample is not kept waiting by
/// read-only rows, answers nobody reads are not held without bound, and a daemon stopped
/// with requests in flight exits cleanly (an attacker's review found each of these).
@Suite struct AbandonedWorkTests {
    static let config = """
        [limits]
        max_sample_length = 20000000
        max_message_bytes = 16777216
        max_batch = 4
        max_evaluations = 1
        """

    static func start() throws -> (DaemonProcess, RNNClient) {
        let daemon = try DaemonProcess(config: config)
        let admin = try daemon.client()
        try admin.call(
            "model.create",
            ["model": .string("m"), "hidden_size": .number(8), "corpus": .object(["text": .string("abcdefgh")])])
        return (daemon, admin)
    }

    /// A `sample` request line of model m; a notification when `id` is nil.
    static func sample(length: Int, id: Int?) -> String {
        let idPart = id.map { #","id":\#($0)"# } ?? ""
        return #"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","length":\#(length)}"# + idPart + "}"
    }

    static func inProgress(_ admin: RNNClient) throws -> Int {
        try admin.call("daemon.status")["sampling"]?["in_progress"]?.int ?? -1
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    @Test func samplesOfClientsThatHangUpStop() throws {
        let (daemon, admin) = try Self.start()
        defer { daemon.stop() }
        // Sixteen samples of 20 million characters (minutes of work) on four connections,
        // also inside a batch of notifications, then the clients hang up.
        var clients: [RNNClient] = []
        for i in 0..<4 {
            let client = try daemon.client(readOnly: true)
            for j in 0..<3 {
                try client.send(
                    Self.sample(length: 20_000_000, id: j))
            }
            if i == 0 {
                let one = Self.sample(length: 20_000_000, id: nil)
                try client.send("[" + Array(repeating: one, count: 50).joined(separator: ",") + "]")
            }
            clients.append(client)
        }
        #expect(try Self.eventually(5) { try Self.inProgress(admin) >= 12 })
        clients.removeAll()
        let ended = try Self.eventually(3) { try Self.inProgress(admin) == 0 }
        #expect(ended, "samples still in progress after their clients left: \((try? Self.inProgress(admin)) ?? -1)")
        // The batch's later samples never started either.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try Self.inProgress(admin) == 0)
    }

    @Test func scoringOfAClientThatHangsUpStops() throws {
        let (daemon, admin) = try Self.start()
        defer { daemon.stop() }
        // One scoring of 12 million characters as one stream (a row at a time: tens of
        // seconds) holds the only evaluation slot, then its client hangs up.
        var client: RNNClient? = try daemon.client(readOnly: true)
        let text = String(repeating: "abcdefgh", count: 1_500_000)
        try client!.send(
            #"{"jsonrpc":"2.0","method":"score","params":{"model":"m","texts":[""#
                + text + #""],"as_one_stream":true},"id":1}"#)
        // Once its 12 MB line is parsed, the scoring holds the slot.
        let busy = Self.eventually(20) {
            (try? admin.call("evaluate", ["model": .string("m"), "text": .string("abcabc")])) == nil
        }
        try #require(busy, "the scoring never took the evaluation slot")
        client = nil
        let freed = try Self.eventually(3) {
            (try? admin.call("evaluate", ["model": .string("m"), "text": .string("abcabc")])) != nil
        }
        #expect(freed, "the evaluation slot stayed taken after the scoring's client left")
    }

    @Test func adminSamplesJoinABatchFullOfReadOnlyRows() throws {
        let (daemon, admin) = try Self.start()
        defer { daemon.stop() }
        var readers: [RNNClient] = []
        for _ in 0..<4 {
            let client = try daemon.client(readOnly: true)
            try client.send(Self.sample(length: 20_000_000, id: 1))
            readers.append(client)
        }
        #expect(try Self.eventually(5) { try Self.inProgress(admin) == 4 })
        let start = Date()
        let sample = try admin.call("sample", ["model": .string("m"), "length": .number(20)])
        #expect(sample["characters"]?.int == 20)
        #expect(Date().timeIntervalSince(start) < 3, "an admin sample waited behind read-only rows")
        // A fifth read-only sample still waits for room (max_batch = 4).
        let fifth = try daemon.client(readOnly: true)
        try fifth.send(Self.sample(length: 20, id: 5))
        Thread.sleep(forTimeInterval: 1)
        #expect(try Self.inProgress(admin) == 5)
        readers.removeAll()
        #expect(try JSONCoding.parse(fifth.readLine())["result"]?["characters"]?.int == 20)
    }

    @Test func waitingSamplesOfClientsThatHangUpStop() throws {
        let (daemon, admin) = try Self.start()
        defer { daemon.stop() }
        // Four live rows fill the batch (max_batch = 4); another client's two samples wait
        // for room, then it hangs up: they end without waiting for the live rows.
        let live = try daemon.client(readOnly: true)
        for id in 0..<4 {
            try live.send(
                Self.sample(length: 20_000_000, id: id))
        }
        #expect(try Self.eventually(5) { try Self.inProgress(admin) == 4 })
        var waiting: RNNClient? = try daemon.client(readOnly: true)
        for id in 0..<2 {
            try waiting!.send(Self.sample(length: 10, id: id))
        }
        #expect(try Self.eventually(5) { try Self.inProgress(admin) == 6 })
        waiting = nil
        let ended = try Self.eventually(3) { try Self.inProgress(admin) == 4 }
        #expect(ended, "waiting samples of a client that left still count: \((try? Self.inProgress(admin)) ?? -1)")
    }

    @Test func batchAnswersAreCapped() throws {
        let (daemon, _) = try Self.start()
        defer { daemon.stop() }
        let client = try daemon.client(readOnly: true)
        let one = #"{"jsonrpc":"2.0","method":"daemon.metrics","id":1}"#
        try client.send("[" + Array(repeating: one, count: 1000).joined(separator: ",") + "]")
        let line = try client.readLine()
        #expect(line.count < 18 << 20, "a batch answered \(line.count >> 20) MiB")
        let answers = try #require(try JSONCoding.parse(line).arrayValue)
        #expect(answers.count == 1000)
        let refused = answers.filter { $0["error"]?["code"]?.int == -32006 }
        #expect(!refused.isEmpty && answers.first?["result"] != nil)
        #expect(refused.first?["error"]?["message"]?.stringValue?.contains("fewer requests per batch") == true)
    }

    @Test func unreadAnswersAreNotHeldWithoutBound() throws {
        let (daemon, admin) = try Self.start()
        defer { daemon.stop() }
        let before = try admin.call("daemon.status")["resident_bytes"]?.int ?? 0
        // Each batch answers about 12 MB; none is read.
        let one = #"{"jsonrpc":"2.0","method":"daemon.metrics","id":1}"#
        let batch = "[" + Array(repeating: one, count: 300).joined(separator: ",") + "]"
        var hoarders: [RNNClient] = []
        for _ in 0..<3 {
            let client = try daemon.client(readOnly: true)
            for _ in 0..<16 { try? client.send(batch) }
            hoarders.append(client)
        }
        Thread.sleep(forTimeInterval: 8)
        let during = try admin.call("daemon.status")["resident_bytes"]?.int ?? 0
        #expect(
            during - before < 160 << 20,
            "rnnd grew by \((during - before) >> 20) MiB holding answers nobody reads")
        // Others are served meanwhile.
        let other = try daemon.client(readOnly: true)
        #expect(try other.call("sample", ["model": .string("m"), "length": .number(10)])["characters"]?.int == 10)
        hoarders.removeAll()
    }

    @Test func stoppingWithRequestsInFlightExitsCleanly() throws {
        let (daemon, admin) = try Self.start()
        // Long samples, and short ones answered one after another while rnnd stops (an
        // answer written after the event loops stopped had crashed it).
        var clients: [RNNClient] = []
        for i in 0..<6 {
            let client = try daemon.client(readOnly: i % 2 == 0)
            try client.send(Self.sample(length: 20_000_000, id: 1))
            for j in 2..<16 {
                try client.send(
                    Self.sample(length: 2000 * j, id: j))
            }
            clients.append(client)
        }
        #expect(try Self.eventually(5) { try Self.inProgress(admin) >= 6 })
        let status = daemon.stop()
        #expect(status == 0, "rnnd exited with \(status) when stopped with requests in flight")
        clients.removeAll()
    }
}
