import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A second rnnd, idle peers, and caps (issue 13, items 5-8).
@Suite struct PeerTrustTests {
    /// Runs rnnd with `config` until it exits (or 20 s); returns its status and stderr.
    func runSecond(config: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try DaemonProcess.binary
        process.arguments = ["--config", config]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return (-1, "still running")
        }
        return (
            process.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    @Test func aSecondRnndNeitherServesTheStateNorTakesTheSockets() throws {
        let first = try DaemonProcess()
        defer { first.stop() }
        try first.client().call("model.create", ["model": .string("m"), "hidden_size": .number(8)])
        // The same configuration: the state folder is locked.
        let (status, log) = try runSecond(config: first.configPath)
        #expect(status != 0)
        #expect(log.contains("another rnnd (pid \(first.process.processIdentifier)) serves"), "\(log)")
        // Another state folder, the same sockets: they are in use and stay the first one's.
        let other = first.root.path + "/other.toml"
        try """
        [paths]
        state_directory = "\(first.root.path)/state2"
        socket_directory = "\(first.socketDirectory)"
        """.write(toFile: other, atomically: true, encoding: .utf8)
        let (status2, log2) = try runSecond(config: other)
        #expect(status2 != 0)
        #expect(log2.contains("another process listens on"), "\(log2)")
        #expect(try first.client().call("model.list")["models"]?.arrayValue?.count == 1)
        #expect(try first.client(readOnly: true).call("model.list")["models"]?.arrayValue?.count == 1)
    }

    /// Opens `count` connections to `path` and keeps them open, saying nothing.
    func idlePeers(_ path: String, count: Int) -> [Int32] {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, rlim_t(count + 256)))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        var fds: [Int32] = []
        for _ in 0..<count {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8))
                raw[path.utf8.count] = 0
            }
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if ok == 0 { fds.append(fd) } else { close(fd) }
        }
        return fds
    }

    @Test func athousandIdlePeersOnTheReadOnlySocketDoNotStarveTheAdmin() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_connections = 2000\nidle_connection_seconds = 120")
        defer { daemon.stop() }
        let peers = idlePeers(daemon.readOnlySocket, count: 1000)
        defer { peers.forEach { close($0) } }
        #expect(peers.count == 1000)
        let admin = try daemon.client()
        var times: [Double] = []
        for _ in 0..<20 {
            let start = Date()
            #expect(try admin.call("daemon.status")["pid"] != nil)
            times.append(Date().timeIntervalSince(start) * 1000)
        }
        times.sort()
        print("daemon.status beside 1000 idle read-only peers: p50 \(times[10]) ms, max \(times[19]) ms")
        #expect(times[10] < 1000)
    }

    @Test func eachSocketHasItsOwnLimitAndIdlePeersAreClosed() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_connections = 4\nidle_connection_seconds = 1")
        defer { daemon.stop() }
        let peers = idlePeers(daemon.readOnlySocket, count: 4)
        defer { peers.forEach { close($0) } }
        usleep(100_000)
        let refused = refusal { try daemon.client(readOnly: true).call("model.list") }
        #expect(refused?.reason == "limit_reached", "\(String(describing: refused))")
        #expect(refused?.message.contains("limits.max_connections") == true)
        #expect(try daemon.client().call("daemon.status")["pid"] != nil)
        // After the idle time the silent peers are closed (read returns end of file)...
        var buffer = [UInt8](repeating: 0, count: 16)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(peers[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(read(peers[0], &buffer, 16) == 0)
        usleep(200_000)
        // ...and their places are free again.
        #expect(try daemon.client(readOnly: true).call("model.list")["models"] != nil)
    }

    @Test func loadedModelsStayWithinTheLimitAtCreateAndAtStart() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_loaded_models = 2")
        defer { daemon.stop() }
        let client = try daemon.client()
        for name in ["a", "b", "c", "d"] {
            try client.call("model.create", ["model": .string(name), "hidden_size": .number(8)])
            let status = try client.call("daemon.status")
            #expect((status["models_loaded"]?.int ?? 99) <= 2)
        }
        #expect(try client.call("daemon.status")["models_total"]?.int == 4)
        daemon.stop()
        try daemon.start()
        let status = try daemon.client().call("daemon.status")
        #expect(status["models_total"]?.int == 4)
        #expect((status["models_loaded"]?.int ?? 99) <= 2)
        // Every model still answers: the unloaded ones load on use.
        for name in ["a", "b", "c", "d"] {
            try daemon.client().call("model.load", ["model": .string(name)])
            #expect(
                try daemon.client().call("sample", ["model": .string(name), "length": .number(2)])["characters"]?.int
                    == 2)
            #expect((try daemon.client().call("daemon.status")["models_loaded"]?.int ?? 99) <= 2)
        }
    }

    @Test func aModelOverTheParameterCapIsRefusedAndTheDaemonLives() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        let refused = refusal {
            try client.call(
                "model.create", ["model": .string("huge"), "layers": .number(16), "hidden_size": .number(8192)])
        }
        #expect(refused?.reason == "limit_reached", "\(String(describing: refused))")
        #expect(refused?.message.contains("limits.max_parameters") == true)
        #expect(try client.call("daemon.status")["models_total"]?.int == 0)
    }

    @Test func absurdSizesAndBatchShapesAreRefusedNotCrashed() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        for params in [
            ["model": JSON.string("e"), "embedding_size": .number(4_611_686_018_427_387_904)],
            [
                "model": .string("b"), "hidden_size": .number(64), "batch_size": .number(4096),
                "seq_length": .number(100_000),
            ],
        ] {
            let refused = refusal { try client.call("model.create", params) }
            #expect(
                refused?.reason == "limit_reached" || refused?.reason == "invalid_params",
                "\(String(describing: refused))")
        }
        try client.call(
            "model.create", ["model": .string("ok"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        let job = refusal {
            try client.call(
                "train.start",
                [
                    "model": .string("ok"), "corpus": .object(["text": .string("abc")]), "batch_size": .number(4096),
                    "seq_length": .number(100_000),
                ])
        }
        #expect(job?.reason == "limit_reached", "\(String(describing: job))")
        #expect(try client.call("daemon.status")["pid"] != nil)
    }

    @Test func samplesBeyondTheLimitAreRefusedAtOnce() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_samples = 1")
        defer { daemon.stop() }
        try daemon.client().call(
            "model.create", ["model": .string("m"), "hidden_size": .number(256), "vocabulary": .string("bytes")])
        let long = Thread {
            _ = try? daemon.client(readOnly: true).call(
                "sample", ["model": .string("m"), "length": .number(100_000)])
        }
        long.start()
        usleep(300_000)
        let refused = refusal {
            try daemon.client(readOnly: true).call("sample", ["model": .string("m"), "length": .number(5)])
        }
        #expect(refused?.reason == "limit_reached", "\(String(describing: refused))")
        #expect(refused?.message.contains("limits.max_samples") == true)
        // The admin socket's samples are not counted against it, and go first.
        #expect(
            try daemon.client().call("sample", ["model": .string("m"), "length": .number(5)])["characters"]?.int == 5)
        // Admin work does not wait behind it.
        let start = Date()
        try daemon.client().call("train.feed", ["model": .string("m"), "text": .string("hello")])
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func aFolderOthersCanWriteIsRefusedForSockets() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        daemon.stop()
        chmod(daemon.socketDirectory, 0o777)
        #expect(throws: (any Error).self) { try daemon.start() }
        chmod(daemon.socketDirectory, 0o755)
        try daemon.start()
    }

    @Test func feedingNewCharactersNeverGrowsAModelPastTheParameterCap() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_parameters = 5000")
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call(
            "model.create",
            ["model": .string("g"), "hidden_size": .number(16), "corpus": .object(["text": .string("abab")])])
        let alphabet = String(String.UnicodeScalarView((0x4E00..<0x4F00).compactMap(Unicode.Scalar.init)))
        try client.call("train.feed", ["model": .string("g"), "text": .string(alphabet + alphabet)])
        Thread.sleep(forTimeInterval: 2)
        try client.call("model.save", ["model": .string("g")])
        #expect((try client.call("model.info", ["model": .string("g")])["parameters"]?.int ?? .max) <= 5000)
        daemon.stop()
        try daemon.start()
        let info = try daemon.client().call("model.info", ["model": .string("g")])
        #expect(info["error"] == nil || info["error"] == .null, "\(info)")
        #expect((info["parameters"]?.int ?? .max) <= 5000)
    }
}

/// A client that sends without reading (large answers: rpc.discover): its unanswered requests stay
/// bounded, other clients are served, and every answer arrives once it reads.
@Suite struct UnreadAnswersTests {
    @Test func aClientThatDoesNotReadIsHeldBackAndLosesNothing() throws {
        let daemon = try DaemonProcess()
        defer { _ = daemon.stop() }
        let flooder = try daemon.client(readOnly: true)
        let line = Array(#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#.utf8) + [0x0A]
        let status = try daemon.client()
        let before = try status.call("daemon.status")["resident_bytes"]?.int ?? 0
        // 3,000 discover documents (about 60 KB each) would be 180 MB if all were buffered.
        // The sender blocks once the daemon stops reading: it runs on a thread of its own.
        nonisolated(unsafe) let unread = flooder
        let sender = Thread {
            for _ in 0..<3000 { try? unread.sendBytes(line) }
        }
        sender.start()
        Thread.sleep(forTimeInterval: 2)
        let start = Date()
        let during = try status.call("daemon.status")["resident_bytes"]?.int ?? 0
        #expect(Date().timeIntervalSince(start) < 1, "another client waited")
        #expect(during - before < 64 << 20, "the daemon buffered \((during - before) >> 20) MiB of answers")
        var answers = 0
        while answers < 3000, let reply = try? flooder.readLine() {
            if (try? JSONCoding.parse(reply))?["result"] != nil { answers += 1 }
        }
        #expect(answers == 3000)
    }

    @Test func halfClosingGetsEveryAnswer() throws {
        let daemon = try DaemonProcess()
        defer { _ = daemon.stop() }
        let client = try daemon.client(readOnly: true)
        let line = Array(#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#.utf8) + [0x0A]
        try client.sendBytes(Array([[UInt8]](repeating: line, count: 100).joined()))
        client.finishSending()
        Thread.sleep(forTimeInterval: 0.05)
        var answers = 0
        while let reply = try? client.readLine() {
            if (try? JSONCoding.parse(reply))?["result"] != nil { answers += 1 }
        }
        #expect(answers == 100)
    }
}
