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
