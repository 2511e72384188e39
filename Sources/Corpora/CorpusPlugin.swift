#if canImport(Glibc)
    import Glibc
#endif
public import Foundation

/// What a plugin says of itself (`NAME --describe`).
public struct PluginDescription: Sendable, Hashable, Codable {
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        /// string, integer, number or boolean.
        public var type: String
        public var description: String?
        public var `default`: String?
    }
    public var name: String
    public var description: String
    public var parameters: [Parameter]
}

/// An executable in a plugin folder, with the contract of plugins/README.md.
public struct CorpusPlugin: Sendable {
    public let path: String
    public let description: PluginDescription

    /// Asks `path --describe` (within 5 s) and checks what it says.
    public init(path: String) throws(CorpusError) {
        self.path = path
        let output = try Self.run(path, ["--describe"], seconds: 5)
        let decoded: PluginDescription
        do {
            let raw = try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any] ?? [:]
            let parameters = (raw["parameters"] as? [[String: Any]] ?? []).map { p in
                PluginDescription.Parameter(
                    name: p["name"] as? String ?? "", type: p["type"] as? String ?? "string",
                    description: p["description"] as? String, default: p["default"].map { "\($0)" })
            }
            decoded = PluginDescription(
                name: raw["name"] as? String ?? "", description: raw["description"] as? String ?? "", parameters: parameters)
        } catch {
            throw CorpusError("\(path) --describe did not print JSON")
        }
        guard !decoded.name.isEmpty, decoded.parameters.allSatisfy({ ["string", "integer", "number", "boolean"].contains($0.type) && !$0.name.isEmpty })
        else { throw CorpusError("\(path) --describe needs a name and parameters typed string, integer, number or boolean") }
        description = decoded
    }

    /// Checks `values` against the description and turns them into `--name value` arguments.
    public func arguments(_ values: [String: String]) throws(CorpusError) -> [String] {
        var arguments: [String] = []
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let parameter = description.parameters.first(where: { $0.name == name }) else {
                throw CorpusError(
                    "plugin \(description.name) has no parameter \"\(name)\"; it takes: \(description.parameters.map(\.name).joined(separator: ", "))")
            }
            let ok: Bool =
                switch parameter.type {
                case "integer": Int(value) != nil
                case "number": Double(value) != nil
                case "boolean": ["true", "false"].contains(value)
                default: true
                }
            guard ok else { throw CorpusError("plugin parameter \"\(name)\" must be a \(parameter.type), got \"\(value)\"") }
            arguments += ["--\(name)", value]
        }
        return arguments
    }

    /// Runs a command to completion within `seconds` and returns its stdout.
    static func run(_ path: String, _ arguments: [String], seconds: Double) throws(CorpusError) -> [UInt8] {
        var stream = try PluginStream(path: path, arguments: arguments, limits: .init(seconds: seconds, bytes: 1 << 20, idleSeconds: seconds))
        var out: [UInt8] = []
        while let chunk = try stream.read(maximumBytes: 1 << 16) { out += chunk }
        return out
    }
}

/// A running plugin's stdout, with its lifetime, size and silence bounded.
struct PluginStream: @unchecked Sendable {
    // @unchecked: owned by one reader; the Process is only touched through it.
    struct Limits: Sendable {
        var seconds: Double
        var bytes: Int
        var idleSeconds: Double
    }

    let path: String
    private let process: Process
    private let fd: Int32
    private let errors: Pipe
    private let limits: Limits
    private let started = Date()
    private var total = 0
    private var done = false

    init(path: String, arguments: [String], limits: Limits) throws(CorpusError) {
        self.path = path
        self.limits = limits
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        errors = Pipe()
        process.standardOutput = out
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CorpusError("cannot start plugin \(path): \(error.localizedDescription)")
        }
        fd = out.fileHandleForReading.fileDescriptor
    }

    /// Up to `maximumBytes` of output; nil when the plugin ended well or reached its size bound.
    mutating func read(maximumBytes: Int) throws(CorpusError) -> [UInt8]? {
        guard !done else { return nil }
        if total >= limits.bytes {
            stop()
            return nil
        }
        let remaining = limits.seconds - Date().timeIntervalSince(started)
        if remaining <= 0 {
            stop()
            return nil  // its lifetime is up: the corpus ends there
        }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let wait = Int32(min(remaining, limits.idleSeconds) * 1000)
        let ready = poll(&poller, 1, max(1, wait))
        if ready == 0 {
            stop()
            if Date().timeIntervalSince(started) >= limits.seconds { return nil }
            throw CorpusError("plugin \(path) wrote nothing for \(Int(limits.idleSeconds)) s and was stopped")
        }
        var buffer = [UInt8](repeating: 0, count: min(maximumBytes, limits.bytes - total))
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            total += n
            return Array(buffer[0..<n])
        }
        done = true
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
            let tail = String(decoding: errors.fileHandleForReading.availableData.suffix(300), as: UTF8.self)
            throw CorpusError(
                "plugin \(path) failed (exit \(process.terminationStatus))\(tail.isEmpty ? "" : ": \(tail.trimmingCharacters(in: .whitespacesAndNewlines))")")
        }
        return nil
    }

    /// Ends the plugin: SIGTERM, then SIGKILL if it lingers.
    mutating func stop() {
        done = true
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A plugin's output as a corpus: whole UTF-8 characters, invalid UTF-8 an error.
public struct PluginCorpus: CorpusSource {
    public let plugin: CorpusPlugin
    private var stream: PluginStream
    private var carry: [UInt8] = []

    /// Starts `plugin` with `parameters`, bounded by `seconds`, `bytes` and `idleSeconds`.
    public init(plugin: CorpusPlugin, parameters: [String: String], seconds: Double, bytes: Int, idleSeconds: Double) throws(CorpusError) {
        self.plugin = plugin
        stream = try PluginStream(
            path: plugin.path, arguments: try plugin.arguments(parameters),
            limits: .init(seconds: seconds, bytes: bytes, idleSeconds: idleSeconds))
    }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        guard let bytes = try stream.read(maximumBytes: maximumBytes) else {
            guard carry.isEmpty else { throw CorpusError("plugin \(plugin.description.name) ended inside a UTF-8 character") }
            return nil
        }
        var all = carry + bytes
        let whole = UTF8Boundary.wholePrefix(all[...])
        carry = Array(all[whole...])
        all.removeLast(all.count - whole)
        guard let text = String(validating: all, as: UTF8.self) else {
            stream.stop()
            throw CorpusError("plugin \(plugin.description.name) wrote invalid UTF-8 and was stopped")
        }
        return CorpusChunk(text: text)
    }

    public mutating func close() { stream.stop() }
}

/// The plugins of the configured folders: executables that describe themselves.
public enum PluginCatalog {
    /// Every plugin found, by name; executables that fail `--describe` are reported apart.
    public static func scan(_ folders: [String]) -> (plugins: [String: CorpusPlugin], problems: [String]) {
        var plugins: [String: CorpusPlugin] = [:]
        var problems: [String] = []
        for folder in folders {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? [] {
                let path = folder + "/" + name
                guard !name.hasPrefix("."), name != "README.md", FileManager.default.isExecutableFile(atPath: path) else { continue }
                do {
                    let plugin = try CorpusPlugin(path: path)
                    if plugins[plugin.description.name] == nil { plugins[plugin.description.name] = plugin }
                } catch {
                    problems.append(error.message)
                }
            }
        }
        return (plugins, problems)
    }
}
