import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// A real rnnd process on temporary folders, started from the built binary.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked: used from one test at a time; `process` is only replaced by `restart`.
    let root: URL
    var stateDirectory: String { root.appendingPathComponent("state").path }
    var socketDirectory: String { root.appendingPathComponent("run").path }
    var corpusDirectory: String { root.appendingPathComponent("corpora").path }
    var adminSocket: String { socketDirectory + "/rnnd.sock" }
    var readOnlySocket: String { socketDirectory + "/rnnd-ro.sock" }
    let configPath: String
    private(set) var process: Process
    private var log = Data()
    /// What rnnd wrote to stderr up to the line that says it serves its sockets.
    var startupLog: String { String(decoding: log, as: UTF8.self) }

    /// The built `rnnd`, next to the test bundle.
    static var binary: URL {
        get throws {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("rnnd")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
            let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/rnnd")
            guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
                throw DaemonTestError("rnnd is not built; run swift build first")
            }
            return fallback
        }
    }

    let environment: [String: String]

    /// The state folder's own tmpfs, in KiB, if one was asked for.
    let stateFilesystemKiB: Int?

    /// - Parameter stateFilesystemKiB: mount a tmpfs of this size as the state folder (root
    ///   only), for running out of disk.
    init(
        config extra: String = "", environment: [String: String] = [:], pluginFolders: [String] = [],
        stateFilesystemKiB: Int? = nil
    ) throws {
        self.environment = environment
        self.stateFilesystemKiB = stateFilesystemKiB
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rnnd-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: root.path + "/corpora", withIntermediateDirectories: true)
        configPath = root.path + "/rnnd.toml"
        let config = """
            [paths]
            state_directory = "\(root.path)/state"
            socket_directory = "\(root.path)/run"
            corpus_directories = ["\(root.path)/corpora"]
            import_directories = ["\(root.path)/corpora"]
            export_directories = ["\(root.path)/corpora"]
            plugin_directories = [\(pluginFolders.map { "\"\($0)\"" }.joined(separator: ", "))]
            [training]
            blas_threads = 1
            autosave_seconds = 1
            \(extra)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        process = Process()
        if let size = stateFilesystemKiB {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)k,mode=0700", "tmpfs", stateDirectory])
        }
        try start()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if stateFilesystemKiB != nil { try? runTool("/bin/umount", ["-l", stateDirectory]) }
        try? FileManager.default.removeItem(at: root)
    }

    /// Starts rnnd and waits until it says it serves its sockets.
    func start() throws {
        process = Process()
        process.executableURL = try Self.binary
        process.arguments = ["--config", configPath, "--log-level", "info"]
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = pipe.fileHandleForReading
        var seen = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty {
                throw DaemonTestError("rnnd exited before serving: \(String(decoding: seen, as: UTF8.self))")
            }
            seen.append(chunk)
            if String(decoding: seen, as: UTF8.self).contains("serving") { break }
        }
        log = seen
        // Keep draining stderr so that rnnd never blocks on a full pipe.
        DispatchQueue.global().async { while !handle.availableData.isEmpty {} }
    }

    /// Sends `signal` and waits for rnnd to exit; returns its status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    func client(readOnly: Bool = false) throws -> RNNClient {
        try RNNClient(path: readOnly ? readOnlySocket : adminSocket)
    }

    /// Writes a corpus file into the allowed corpus folder and returns its path.
    func writeCorpus(_ name: String, _ text: String) throws -> String {
        let path = corpusDirectory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Runs a program to completion; throws when it fails.
func runTool(_ path: String, _ arguments: [String]) throws {
    let tool = Process()
    tool.executableURL = URL(fileURLWithPath: path)
    tool.arguments = arguments
    try tool.run()
    tool.waitUntilExit()
    guard tool.terminationStatus == 0 else {
        throw DaemonTestError("\(path) \(arguments.joined(separator: " ")) exited with \(tool.terminationStatus)")
    }
}

struct DaemonTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A slice of tinyshakespeare (Tests/corpora), or a stand-in when it is absent.
func shakespeare(_ bytes: Int) -> String {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("corpora/tinyshakespeare.txt")
    if let data = FileManager.default.contents(atPath: path.path) {
        return String(decoding: data.prefix(bytes), as: UTF8.self)
    }
    return String(
        String(repeating: "First Citizen:\nBefore we proceed any further, hear me speak.\n\n", count: bytes / 60 + 1)
            .prefix(bytes))
}

extension JSON {
    var int: Int? { intValue }
}
