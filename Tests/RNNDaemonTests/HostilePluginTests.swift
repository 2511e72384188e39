import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Corpus plugins that crash, hang, flood or write invalid UTF-8: each job ends with a
/// reason (failed, or bounded by the limits), and rnnd keeps serving.
@Suite struct HostilePluginTests {
    /// A plugin folder with one shell plugin per misbehaviour.
    static func pluginFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rnnd-hostile-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let bodies = [
            "crasher": #"printf 'some text before the crash\n%.0s' $(seq 200); kill -SEGV $$"#,
            "hanger": #"printf 'a little text, then silence\n%.0s' $(seq 200); exec sleep 3600"#,
            "flooder": #"exec yes 'all work and no play makes jack a dull boy'"#,
            "mojibake": #"printf 'fine so far\n%.0s' $(seq 100); while :; do printf '\377\376\375'; done"#,
        ]
        for (name, body) in bodies {
            let script = """
                #!/bin/sh
                if [ "$1" = --describe ]; then
                  echo '{"name":"\(name)","description":"misbehaves on purpose","parameters":[]}'
                  exit 0
                fi
                \(body)

                """
            let path = folder + "/" + name
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return folder
    }

    /// The job's final state and error after training on `plugin`.
    func train(_ client: RNNClient, _ plugin: String, epochs: Int? = nil) -> (state: String, error: String) {
        var job: JSON = .null
        var params: JSONObject = [
            "model": .string("p"), "seconds": .number(30), "stream": .bool(true),
            "corpus": .object(["plugin": .string(plugin)]),
        ]
        if let epochs { params["epochs"] = .integer(epochs) }
        let refused = refusal { job = try client.call("train.start", params) }
        if let refused { return ("failed", refused.message) }
        return (job["state"]?.stringValue ?? "?", job["error"]?.stringValue ?? "")
    }

    @Test func misbehavingPluginsEndTheirJobsWithAReason() throws {
        let folder = try Self.pluginFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let daemon = try DaemonProcess(
            config: "[limits]\nplugin_idle_seconds = 2\nplugin_bytes = 200000", pluginFolders: [folder])
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call(
            "model.create", ["model": .string("p"), "hidden_size": .number(16), "vocabulary": .string("bytes")])
        let started = Date()
        let crash = train(client, "crasher")
        #expect(crash.state == "failed" && crash.error.contains("signal 11"), "\(crash)")
        let hang = train(client, "hanger")
        #expect(hang.state == "failed" && hang.error.contains("wrote nothing for 2.0 s"), "\(hang)")
        // A flood is read only as fast as training takes it, and one run ends at plugin_bytes.
        let flood = train(client, "flooder", epochs: 1)
        #expect(flood.state == "finished", "\(flood)")
        let seen = try client.call("model.info", ["model": .string("p")])["characters_seen"]?.int ?? 0
        #expect(seen > 0 && seen < 400_000, "plugin_bytes bounds a run of a plugin: \(seen)")
        let mojibake = train(client, "mojibake")
        #expect(mojibake.state == "failed" && mojibake.error.contains("UTF-8"), "\(mojibake)")
        #expect(Date().timeIntervalSince(started) < 25, "each is stopped by its limit, not the job's budget")
        #expect(try client.call("daemon.status")["jobs_running"]?.int == 0)
        #expect(try client.call("sample", ["model": .string("p"), "length": .number(5)])["characters"]?.int == 5)
    }
}
