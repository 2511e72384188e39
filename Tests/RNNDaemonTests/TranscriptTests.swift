import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Replays every transcript in protocol/examples against a fresh rnnd. Lines are
/// `{"send": value}`, `{"send_raw": "text"}` or `{"recv": expected}`; an expected value
/// matches when its objects' members are present and match (extra members are allowed),
/// arrays match element by element, and the string "*" matches any value.
@Suite struct TranscriptTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("protocol/examples")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".jsonl") }
            .sorted()
    }

    @Test func everySpecificationExampleHasATranscript() {
        for section in 1...12 {
            #expect(
                Self.files.contains { $0.hasPrefix("spec-7.\(section)-") },
                "no transcript for section 7 example \(section)")
        }
    }

    @Test(arguments: files)
    func transcriptReplays(_ file: String) throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        let text = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
        for (number, line) in text.split(separator: "\n").enumerated() {
            let step = try JSONCoding.parse(Array(line.utf8))
            if let value = step["send"] {
                try client.send(JSONCoding.line(value))
            } else if let raw = step["send_raw"]?.stringValue {
                try client.send(raw)
            } else if let expected = step["recv"] {
                let received = try JSONCoding.parse(try client.readLine())
                #expect(
                    matches(received, expected), "\(file):\(number + 1): got \(JSONCoding.line(received))")
            }
        }
    }
}

/// Whether `actual` matches the pattern `expected` (see ``TranscriptTests``).
func matches(_ actual: JSON, _ expected: JSON) -> Bool {
    switch expected {
    case .string("*"): return true
    case .object(let members):
        guard let object = actual.objectValue else { return false }
        return members.allSatisfy { key, value in object[key].map { matches($0, value) } ?? false }
    case .array(let items):
        guard let array = actual.arrayValue, array.count == items.count else { return false }
        return zip(array, items).allSatisfy { matches($0, $1) }
    default:
        return actual == expected
    }
}
