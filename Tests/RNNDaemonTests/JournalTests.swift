import Foundation
import RNNJSON
import RNNProtocol
import Testing

/// rnnd's structured journal entries, caught on a fake /run/systemd/journal/socket inside a
/// private mount namespace (never the machine's real journal).
@Suite struct JournalTests {
    @Test func entriesCarryPriorityCodeLocationAndRNNDFields() throws {
        guard getuid() == 0 else {
            Issue.record("needs root for unshare --mount")
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "journal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Helpers/fake_journal.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", "python3", script.path, try DaemonProcess.binary.path, work.path,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let entries = try #require(try JSONCoding.parse(Array(data)).arrayValue)
        let messages = entries.compactMap { $0["MESSAGE"]?.stringValue }
        #expect(messages.contains { $0.contains("serving") }, "\(messages)")
        for entry in entries {
            #expect(entry["SYSLOG_IDENTIFIER"] == .string("rnnd"))
            #expect(entry["PRIORITY"]?.stringValue.flatMap(Int.init).map { (0...7).contains($0) } == true)
            #expect(entry["CODE_FILE"] != nil && entry["CODE_LINE"] != nil && entry["CODE_FUNC"] != nil)
        }
        let created = try #require(entries.first { $0["MESSAGE"]?.stringValue == "created model journaled" })
        #expect(created["RNND_MODEL"] == .string("journaled"))
        #expect(created["PRIORITY"] == .string("6"))
        let admin = try #require(
            entries.first { $0["MESSAGE"]?.stringValue?.hasPrefix("admin call model.create") == true })
        #expect(admin["RNND_PEER"]?.stringValue?.contains("uid 0") == true, "SO_PEERCRED logged for admin calls")
    }
}
