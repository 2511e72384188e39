import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

@Suite struct ConfigurationTests {
    @Test func sighupReloadsTheLimits() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        #expect(try client.call("daemon.status")["limits"]?["max_sample_length"]?.int == 100_000)
        let text =
            try String(contentsOfFile: daemon.configPath, encoding: .utf8) + "\n[limits]\nmax_sample_length = 10\n"
        try text.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        var limit = 0
        while Date() < deadline {
            limit = try client.call("daemon.status")["limits"]?["max_sample_length"]?.int ?? 0
            if limit == 10 { break }
            usleep(10_000)
        }
        #expect(limit == 10)
        try client.call(
            "model.create", ["model": .string("m"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        #expect(throws: RNNClient.Failure.self) {
            try client.call("sample", ["model": .string("m"), "length": .number(11)])
        }
    }

    @Test(arguments: [
        ("[limits]\nmax_jobs = 0\n", "max_jobs"),
        ("[limits]\nmax_job = 3\n", "unknown key limits.max_job"),
        ("[limits\n", "invalid TOML"),
        ("[limits]\nmax_jobs = \"many\"\n", "must be an integer"),
        ("[sampling]\nweights = \"fp8\"\n", "sampling.weights must be one of \"single\", \"half\", \"int8\""),
    ])
    func aBadConfigurationIsRefusedAtStart(_ text: String, _ expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rnnd-bad-\(UUID()).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = try DaemonProcess.binary
        process.arguments = ["--config", path, "--state-dir", "/tmp/rnnd-never", "--socket-dir", "/tmp/rnnd-never"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains(expected), "\(output)")
    }
}
