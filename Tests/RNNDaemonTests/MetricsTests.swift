import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// `daemon.metrics` on the read-only socket: Prometheus's text format, checked by promtool,
/// with counts that follow what the daemon did.
@Suite struct MetricsTests {
    /// The value of the sample `line` (name and labels as printed) in `text`.
    static func value(_ line: String, in text: String) -> Double? {
        for row in text.split(separator: "\n") where row.hasPrefix(line + " ") {
            return Double(row.dropFirst(line.count + 1))
        }
        return nil
    }

    @Test func metricsFollowTheWorkAndPassPromtool() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let admin = try daemon.client()
        try admin.call(
            "model.create",
            [
                "model": .string("m"), "hidden_size": .number(16),
                "corpus": .object(["text": .string(shakespeare(2_000))]),
            ])
        let reader = try daemon.client(readOnly: true)
        for seed in 0..<3 {
            try reader.call("sample", ["model": .string("m"), "length": .number(50), "seed": .integer(seed)])
        }
        try reader.call("score", ["model": .string("m"), "texts": .array([.string("First"), .string("Citizen")])])
        let answer = try reader.call("daemon.metrics")
        let text = try #require(answer["text"]?.stringValue)
        #expect(answer["content_type"]?.stringValue?.hasPrefix("text/plain; version=0.0.4") == true)

        #expect(Self.value("rnnd_sampled_characters_total", in: text) == 150, "\(text)")
        #expect(Self.value("rnnd_samples_total", in: text) == 3)
        #expect(Self.value("rnnd_scored_texts_total", in: text) == 2)
        #expect(Self.value("rnnd_models", in: text) == 1)
        #expect(Self.value("rnnd_models_loaded", in: text) == 1)
        #expect(Self.value(#"rnnd_requests_total{method="sample",outcome="ok"}"#, in: text) == 3)
        #expect(Self.value(#"rnnd_request_duration_seconds_count{method="sample"}"#, in: text) == 3)
        #expect(Self.value(#"rnnd_connections{socket="read_only"}"#, in: text) == 1)
        #expect(Self.value(#"rnnd_connections{socket="admin"}"#, in: text) == 1)
        #expect(Self.value("rnnd_sample_batch_rows_count", in: text) ?? 0 >= 50)
        // A refused request counts as an error of its method.
        _ = try? reader.call("sample", ["model": .string("nope")])
        // So does a changing method refused on the read-only socket.
        _ = try? reader.call("model.delete", ["model": .string("m")])
        let after = try #require(try reader.call("daemon.metrics")["text"]?.stringValue)
        #expect(Self.value(#"rnnd_requests_total{method="sample",outcome="error"}"#, in: after) == 1)
        #expect(Self.value(#"rnnd_requests_total{method="model.delete",outcome="error"}"#, in: after) == 1)

        // promtool (Debian's prometheus package; scripts/setup installs it) finds nothing to lint.
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let promtool else {
            Issue.record("promtool is missing: scripts/setup installs it (apt-get install prometheus)")
            return
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: promtool)
        check.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        check.standardInput = input
        check.standardOutput = output
        check.standardError = output
        try check.run()
        input.fileHandleForWriting.write(Data(after.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "promtool check metrics: \(report)")
    }
}
