import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// The built rnnctl against a real rnnd: output, exit codes, streaming, feeding a megabyte.
@Suite struct RNNCtlTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        get throws { try DaemonProcess.binary.deletingLastPathComponent().appendingPathComponent("rnnctl") }
    }

    func rnnctl(_ arguments: [String], socket: String?, stdin: Data? = nil) throws -> Run {
        let process = Process()
        process.executableURL = try Self.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RNND_SOCKET"] = socket
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin {
            DispatchQueue.global().async {
                input.fileHandleForWriting.write(stdin)
                try? input.fileHandleForWriting.close()
            }
        } else {
            try input.fileHandleForWriting.close()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// What a newcomer tries: options before the verb, no verb, a missing file, an empty
    /// text, cancelling a job that already ended, snapshots from the command line.
    @Test func theCommandLineSaysWhatWentWrong() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let socket = daemon.adminSocket
        var r = try rnnctl(["--socket", socket, "--json", "status"], socket: nil)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"pid\""))
        r = try rnnctl([], socket: socket)
        #expect(r.status == 64 && r.stderr.contains("give a verb"))
        try daemon.client().call(
            "model.create", ["model": "m", "layers": 1, "hidden_size": 8, "corpus": ["text": "abcd"]])
        r = try rnnctl(["feed", "m", "/nonexistent/file"], socket: socket)
        #expect(r.status == 66 && r.stderr.contains("cannot open /nonexistent/file"), "\(r.stderr)")
        #expect(!r.stderr.contains("Usage"))
        r = try rnnctl(["train", "m", "--text", ""], socket: socket)
        #expect(r.status == 64 && r.stderr.contains("--text is empty"))
        r = try rnnctl(["train", "m", "--text", "abcdabcdabcd", "--steps", "2", "--follow"], socket: socket)
        #expect(r.status == 0, "\(r.stderr)")
        r = try rnnctl(["eval", "m", "abzzd"], socket: socket)
        #expect(r.status == 0 && r.stderr.contains("2 characters of the text are not in m's vocabulary"), "\(r.stderr)")
        #expect(try daemon.client().call("evaluate", ["model": "m", "text": "abcd"])["unknown_characters"] == nil)
        r = try rnnctl(["cancel", "job-1"], socket: socket)
        #expect(r.status == 1 && r.stderr.contains("already ended"), "\(r.stderr)")
        r = try rnnctl(["snapshot", "m", "first"], socket: socket)
        #expect(r.status == 0 && r.stdout.contains("snapshot first at step"), "\(r.stdout)\(r.stderr)")
        r = try rnnctl(["snapshots", "m"], socket: socket)
        #expect(r.status == 0 && r.stdout.contains("first"))
        r = try rnnctl(["restore", "m", "first"], socket: socket)
        #expect(r.status == 0, "\(r.stderr)")
        r = try rnnctl(["rm-snapshot", "m", "first"], socket: socket)
        #expect(r.status == 0, "\(r.stderr)")
        r = try rnnctl(["restore", "m", "first"], socket: socket)
        #expect(r.status == 1 && r.stderr.contains("no snapshot 'first'"), "\(r.stderr)")
    }

    /// `eval` of more than one message's worth of text, `call` by position and in batches.
    @Test func evalTakesAnyTextAndCallTakesArraysAndBatches() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let socket = daemon.adminSocket
        let text = shakespeare(8000)
        try daemon.client().call(
            "model.create", ["model": "m", "layers": 1, "hidden_size": 8, "corpus": ["text": .string(text)]])
        // 1.5 MiB on stdin: more than the daemon's 1 MiB message limit.
        var big = ""
        while big.utf8.count < 3 << 19 { big += text }
        var r = try rnnctl(["--json", "eval", "m", "-"], socket: socket, stdin: Data(big.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let whole = try #require(try JSONCoding.parse(Array(r.stdout.utf8)).objectValue)
        #expect(whole["characters"]?.intValue ?? 0 > big.unicodeScalars.count - 16)
        // Its loss is that of its pieces: the first piece alone is close to it.
        let piece = try daemon.client().call("evaluate", ["model": "m", "text": .string(String(big.prefix(200_000)))])
        let loss = try #require(whole["loss"]?.numberValue)
        #expect(abs(loss - (piece["loss"]?.numberValue ?? 0)) < 0.05, "\(loss) \(piece)")
        // Control characters take six bytes each once JSON-escaped: calls are cut by that size.
        let controls = String(repeating: "\u{1}", count: 200_000)
        r = try rnnctl(["--json", "eval", "m", "-"], socket: socket, stdin: Data(controls.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        // score: lines of control characters, and one line longer than a message between others.
        let lines = Array(repeating: String(repeating: "\u{2}", count: 600), count: 1000)
        r = try rnnctl(["score", "m"], socket: socket, stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0 && r.stdout.split(separator: "\n").count == 1000, "\(r.stderr)")
        let long = String(repeating: "a", count: 2_100_000)
        r = try rnnctl(["score", "m"], socket: socket, stdin: Data("first\n\(long)\nafter\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.split(separator: "\n").map { $0.split(separator: "\t").last.map { String($0.prefix(5)) } }
                == ["first", "aaaaa", "after"], "\(r.stdout.prefix(200))")

        r = try rnnctl(["call", "evaluate", "[\"m\", \"abcabc\"]"], socket: socket)
        #expect(r.status == 0 && r.stdout.contains("\"characters\":5"), "\(r.stdout)\(r.stderr)")
        let batch =
            #"[{"method":"daemon.status","id":1},{"method":"model.info","params":{"model":"m"},"id":2},{"method":"nope","id":3},{"method":"daemon.status"}]"#
        r = try rnnctl(["call", "--batch", "-"], socket: socket, stdin: Data(batch.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let answers = try #require(try JSONCoding.parse(Array(r.stdout.utf8)).arrayValue)
        #expect(answers.count == 3, "the notification gets no answer: \(r.stdout)")
        #expect(Set(answers.compactMap { $0["id"]?.intValue }) == [1, 2, 3])
        #expect(answers.contains { $0["error"]?["code"]?.intValue == -32601 })
    }

    /// `score`: lines in, "bits<TAB>line" out in order, --top, NUL records, the read-only socket.
    @Test func scoreRanksLinesBySurprise() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let socket = daemon.adminSocket
        let text = String(repeating: "the cat sat on the mat\n", count: 400)
        let client = try daemon.client()
        try client.call(
            "model.create",
            ["model": "m", "layers": 1, "hidden_size": 32, "corpus": ["text": .string(text)], "seed": 3])
        try client.call(
            "train.start",
            ["model": "m", "corpus": ["text": .string(text)], "steps": 150, "stream": true, "learning_rate": 0.01])
        var lines = (0..<3000).map { _ in "the cat sat on the mat" }
        lines[1234] = "zq xj vv kk"
        let input = lines.joined(separator: "\n") + "\n"
        var r = try rnnctl(["score", "m"], socket: socket, stdin: Data(input.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout.split(separator: "\n")
        #expect(out.count == 3000)
        #expect(out.map { $0.split(separator: "\t", maxSplits: 1).last.map(String.init) ?? "" } == lines)
        r = try rnnctl(["score", "m", "--top", "3"], socket: socket, stdin: Data(input.utf8))
        #expect(r.stdout.split(separator: "\n").first?.hasSuffix("\tzq xj vv kk") == true, "\(r.stdout)")
        #expect(r.stdout.split(separator: "\n").count == 3)
        r = try rnnctl(["score", "m", "-z"], socket: socket, stdin: Data("the cat\0sat\non".utf8))
        #expect(r.stdout.split(separator: "\n").count == 3, "a NUL record may hold a newline: \(r.stdout)")

        // On the read-only socket, with per-character surprisal, and as one stream.
        let readOnly = try RNNClient(path: daemon.readOnlySocket)
        let scored = try readOnly.call(
            "score", ["model": "m", "texts": ["the cat", "zq"], "surprisal": true])
        let scores = try #require(scored["scores"]?.arrayValue)
        #expect(scores.count == 2 && scored["unit"] == "character")
        #expect(scores[0]["surprisal"]?.arrayValue?.count == 6)
        #expect(scores[1]["bits_per_character"]?.numberValue ?? 0 > scores[0]["bits_per_character"]?.numberValue ?? 0)
        let stream = try readOnly.call(
            "score", ["model": "m", "texts": ["the ", "cat"], "as_one_stream": true, "surprisal": true])
        #expect(stream["scores"]?.arrayValue?.map { $0["characters"]?.intValue } == [3, 3])
        // Empty texts before the first character shift nothing.
        let padded = try readOnly.call(
            "score", ["model": "m", "texts": ["", "the ", "", "cat"], "as_one_stream": true, "surprisal": true])
        #expect(padded["scores"]?.arrayValue?.map { $0["characters"]?.intValue } == [0, 3, 0, 3])
        let paddedCat = padded["scores"]?.arrayValue?.last?["surprisal"]
        #expect(paddedCat != nil && paddedCat == stream["scores"]?.arrayValue?.last?["surprisal"])
    }

    @Test func verbsPrintTextAndJSON() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let socket = daemon.adminSocket
        let corpus = try daemon.writeCorpus("c.txt", shakespeare(8000))
        var r = try rnnctl(
            ["create", "m", "--corpus", corpus, "--hidden", "32", "--layers", "1", "--seed", "2"], socket: socket)
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("created m: lstm 1x32"))
        r = try rnnctl(
            ["train", "m", "--corpus", corpus, "--steps", "40", "--batch", "8", "--seq", "16", "--follow"],
            socket: socket)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("finished: 40 steps"))
        #expect(r.stderr.contains("40/40"), "the progress bar: \(r.stderr)")
        r = try rnnctl(["sample", "m", "--length", "60", "--seed", "3", "--prime", "KING"], socket: socket)
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("KING"))
        #expect(r.stdout.unicodeScalars.count == 4 + 60 + 1)
        let json = try rnnctl(
            ["sample", "m", "--length", "60", "--seed", "3", "--prime", "KING", "--json"], socket: socket)
        let text = try JSONCoding.parse(Array(json.stdout.utf8))["text"]?.stringValue
        #expect("KING" + (text ?? "") + "\n" == r.stdout)
        r = try rnnctl(["stats", "m"], socket: socket)
        #expect(r.stdout.contains("40 steps"))
        #expect(r.stdout.contains("▁") || r.stdout.contains("█"))
        for verb in [["list"], ["ps"], ["jobs"], ["status"], ["show", "m"]] {
            let text = try rnnctl(verb, socket: socket)
            #expect(text.status == 0, "\(verb)")
            let asJSON = try rnnctl(verb + ["--json"], socket: socket)
            #expect((try? JSONCoding.parse(Array(asJSON.stdout.utf8))) != nil, "\(verb) --json: \(asJSON.stdout)")
        }
    }

    @Test func aMegabyteFedThroughStdinIsAcknowledgedWhole() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.client().call(
            "model.create", ["model": .string("f"), "hidden_size": .number(16), "vocabulary": .string("bytes")])
        var text = ""
        while text.utf8.count < 1_000_000 { text += "日志 line \(text.utf8.count): something happened\n" }
        let data = Data(text.utf8)
        let r = try rnnctl(["feed", "f", "--json"], socket: daemon.adminSocket, stdin: data)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try JSONCoding.parse(Array(r.stdout.utf8))["accepted_bytes"]?.int == data.count)
        #expect(try daemon.client().call("model.info", ["model": .string("f")])["feed_total_bytes"]?.int == data.count)
    }

    @Test func exitCodesTellFailuresApart() throws {
        let missing = try rnnctl(["sample", "m"], socket: "/tmp/rnnd-nowhere/rnnd.sock")
        #expect(missing.status == 69)
        #expect(missing.stderr.contains("rnnd is not running at /tmp/rnnd-nowhere/rnnd.sock"))
        #expect(missing.stderr.contains("start it with"))
        let usage = try rnnctl(["sample"], socket: nil)
        #expect(usage.status == 64)
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let refused = try rnnctl(["show", "ghost"], socket: daemon.adminSocket)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("no model named 'ghost'"))
    }
}
