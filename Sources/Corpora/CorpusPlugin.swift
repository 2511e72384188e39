public import Foundation
import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

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
        guard let raw = (try? JSONParser.parse(output))?.objectValue else {
            throw CorpusError("\(path) --describe did not print a JSON object")
        }
        let parameters = (raw["parameters"]?.arrayValue ?? []).map { p in
            PluginDescription.Parameter(
                name: p["name"]?.stringValue ?? "", type: p["type"]?.stringValue ?? "string",
                description: p["description"]?.stringValue, default: p["default"].map(Self.argumentText))
        }
        let decoded = PluginDescription(
            name: raw["name"]?.stringValue ?? "", description: raw["description"]?.stringValue ?? "",
            parameters: parameters)
        guard !decoded.name.isEmpty,
            decoded.parameters.allSatisfy({
                ["string", "integer", "number", "boolean"].contains($0.type) && !$0.name.isEmpty
            })
        else {
            throw CorpusError("\(path) --describe needs a name and parameters typed string, integer, number or boolean")
        }
        description = decoded
    }

    /// A described default as the text it would be given on the command line.
    private static func argumentText(_ value: JSON) -> String {
        switch value {
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        default: value.description
        }
    }

    /// Checks `values` against the description and turns them into `--name value` arguments.
    public func arguments(_ values: [String: String]) throws(CorpusError) -> [String] {
        var arguments: [String] = []
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let parameter = description.parameters.first(where: { $0.name == name }) else {
                throw CorpusError(
                    "plugin \(description.name) has no parameter \"\(name)\"; it takes: \(description.parameters.map(\.name).joined(separator: ", "))"
                )
            }
            let ok: Bool =
                switch parameter.type {
                case "integer": Int(value) != nil
                case "number": Double(value) != nil
                case "boolean": ["true", "false"].contains(value)
                default: true
                }
            guard ok else {
                throw CorpusError("plugin parameter \"\(name)\" must be a \(parameter.type), got \"\(value)\"")
            }
            arguments += ["--\(name)", value]
        }
        return arguments
    }

    /// Runs a command to completion within `seconds` and returns its stdout.
    static func run(_ path: String, _ arguments: [String], seconds: Double) throws(CorpusError) -> [UInt8] {
        var stream = try PluginStream(
            path: path, arguments: arguments, limits: .init(seconds: seconds, bytes: 1 << 20, idleSeconds: seconds))
        var out: [UInt8] = []
        while let chunk = try stream.read(maximumBytes: 1 << 16) { out += chunk }
        return out
    }
}

/// A running plugin's stdout, with its lifetime, size and silence bounded. The plugin runs
/// in a process group of its own, so that stopping it stops whatever it started too.
struct PluginStream: @unchecked Sendable {
    // @unchecked: owned by one reader at a time.
    struct Limits: Sendable {
        var seconds: Double
        var bytes: Int
        var idleSeconds: Double
    }

    let path: String
    private let pid: pid_t
    private let fd: Int32
    private let errorFD: Int32
    private let limits: Limits
    private let started = Date()
    private var total = 0
    private var done = false

    init(path: String, arguments: [String], limits: Limits) throws(CorpusError) {
        self.path = path
        self.limits = limits
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw CorpusError("cannot make pipes for plugin \(path): \(String(cString: strerror(errno)))")
        }
        // rnnd's other children must not inherit these; dup2 in the child clears the flag.
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        var status = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        // ETXTBSY: a plugin just written is still open for writing somewhere (often in a child
        // that another thread forked meanwhile, until it execs); it passes within moments.
        var tries = 0
        while status == ETXTBSY && tries < 50 {
            usleep(10_000)
            tries += 1
            status = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        }
        close(out[1])
        close(err[1])
        guard status == 0 else {
            close(out[0])
            close(err[0])
            throw CorpusError("cannot start plugin \(path): \(String(cString: strerror(status)))")
        }
        pid = child
        fd = out[0]
        errorFD = err[0]
    }

    /// Up to `maximumBytes` of output; nil when the plugin ended well or reached a bound.
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
        let ready = poll(&poller, 1, max(1, Int32(min(remaining, limits.idleSeconds) * 1000)))
        if ready == 0 {
            stop()
            if Date().timeIntervalSince(started) >= limits.seconds { return nil }
            throw CorpusError("plugin \(path) wrote nothing for \(limits.idleSeconds) s and was stopped")
        }
        var buffer = [UInt8](repeating: 0, count: max(1, min(maximumBytes, limits.bytes - total)))
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            total += n
            return Array(buffer[0..<n])
        }
        let tail = errorTail()
        if let failure = reap() {
            throw CorpusError("plugin \(path) \(failure)\(tail.isEmpty ? "" : "; its last words: \(tail)")")
        }
        return nil
    }

    /// The last bytes the plugin wrote on stderr.
    private func errorTail() -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 100) > 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(errorFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
            if out.count > 1 << 16 { out.removeFirst(out.count - 4096) }
        }
        return String(decoding: out.suffix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits for the plugin; nil when it exited with status 0, else how it ended.
    @discardableResult
    private mutating func reap() -> String? {
        done = true
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(fd)
        close(errorFD)
        let signal = status & 0x7F
        if signal != 0 {
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return "was killed by signal \(signal) (\(name))"
        }
        let code = (status >> 8) & 0xFF
        return code == 0 ? nil : "failed with exit status \(code)"
    }

    /// Ends the plugin and its process group: SIGTERM, then SIGKILL two seconds later.
    mutating func stop() {
        guard !done else { return }
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(2)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(10_000) }
        kill(-pid, SIGKILL)
        reap()
    }
}

/// A plugin's output as a corpus: whole UTF-8 characters, invalid UTF-8 an error.
public struct PluginCorpus: CorpusSource {
    public let plugin: CorpusPlugin
    private var stream: PluginStream
    private var carry: [UInt8] = []

    /// Starts `plugin` with `parameters`, bounded by `seconds`, `bytes` and `idleSeconds`.
    public init(plugin: CorpusPlugin, parameters: [String: String], seconds: Double, bytes: Int, idleSeconds: Double)
        throws(CorpusError)
    {
        self.plugin = plugin
        stream = try PluginStream(
            path: plugin.path, arguments: try plugin.arguments(parameters),
            limits: .init(seconds: seconds, bytes: bytes, idleSeconds: idleSeconds))
    }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        guard let bytes = try stream.read(maximumBytes: maximumBytes) else {
            guard carry.isEmpty else {
                throw CorpusError("plugin \(plugin.description.name) ended inside a UTF-8 character")
            }
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
                guard !name.hasPrefix("."), name != "README.md", FileManager.default.isExecutableFile(atPath: path)
                else { continue }
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
