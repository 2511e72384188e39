import Foundation
import Logging
import RNNDaemon
import RNNJSON
import RNNProtocol
import Testing

/// Replays what the fuzzer found (Tests/fuzz/regressions) and its seeds (every request of
/// protocol/examples, on both sockets) through the request path in process: each must be
/// answered with JSON lines, without a crash.
@Suite struct FuzzRegressionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Inputs as the fuzzer sees them: a socket byte, then what the client sends.
    static func inputs() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        let regressions = repository.appendingPathComponent("Tests/fuzz/regressions")
        for name in try FileManager.default.contentsOfDirectory(atPath: regressions.path).sorted()
        where !name.hasPrefix(".") {
            out.append((name, Array(try Data(contentsOf: regressions.appendingPathComponent(name)))))
        }
        let examples = repository.appendingPathComponent("protocol/examples")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted() {
            let text = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let entry = try JSONCoding.parse(Array(line.utf8))
                let sent: [UInt8]
                if let raw = entry["send_raw"]?.stringValue {
                    sent = Array(raw.utf8)
                } else if let value = entry["send"] {
                    sent = Array(JSONCoding.line(value).utf8)
                } else {
                    continue
                }
                out.append(("\(name) admin", [0] + sent + [0x0A]))
                out.append(("\(name) read-only", [1] + sent + [0x0A]))
            }
        }
        return out
    }

    @Test func savedInputsAreAnsweredWithJSON() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "fuzz-replay")
        logger.logLevel = .critical
        let harness = try RequestHarness(stateDirectory: folder.appendingPathComponent("state").path, logger: logger)
        let inputs = try Self.inputs()
        #expect(inputs.count > 40)
        for (name, bytes) in inputs {
            guard let first = bytes.first else { continue }
            for line in harness.run(Array(bytes.dropFirst()), readOnly: first & 1 == 1) {
                #expect((try? JSONCoding.parse(Array(line.utf8))) != nil, "\(name): \(line.prefix(200))")
            }
        }
    }
}
