import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Flags every verb takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "rnnd's socket (default: $RNND_SOCKET, /run/rnnd/rnnd.sock, $XDG_RUNTIME_DIR/rnnd/rnnd.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's JSON result instead of text, for scripts.")
    var json = false

    /// The socket path to use.
    var socketPath: String {
        if let socket { return socket }
        if let env = getenv("RNND_SOCKET").map({ String(cString: $0) }), !env.isEmpty { return env }
        if access("/run/rnnd/rnnd.sock", F_OK) == 0 { return "/run/rnnd/rnnd.sock" }
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return runtime + "/rnnd/rnnd.sock"
        }
        return "/tmp/rnnd-\(getuid())/rnnd.sock"
    }

    /// A connection, or exit 69 with what to do.
    func connect() throws -> RNNClient {
        let path = socketPath
        do {
            return try RNNClient(path: path)
        } catch {
            // The admin socket may be closed to us while the read-only one is open.
            let readOnly = path.hasSuffix("/rnnd.sock") ? String(path.dropLast(9)) + "rnnd-ro.sock" : nil
            if let readOnly, access(path, F_OK) == 0, let client = try? RNNClient(path: readOnly) { return client }
            let reason: String
            if case .unreachable(_, let why) = error { reason = why } else { reason = "\(error)" }
            printError(
                "rnnctl: rnnd is not running at \(path) (\(reason)); start it with `rnnd` "
                    + "(or `systemctl start rnnd.socket`), or point --socket / RNND_SOCKET at its socket")
            throw ExitCode(69)
        }
    }

    /// Calls a method; a refusal is printed and exits 1.
    @discardableResult
    func call(
        _ client: RNNClient, _ method: String, _ params: JSONObject = [:],
        onNotification: ((String, JSON) -> Void)? = nil
    ) throws -> JSON {
        do {
            return try client.call(method, params, onNotification: onNotification)
        } catch .daemon(let error) {
            report(error)
            throw ExitCode(1)
        } catch {
            printError("rnnctl: \(error)")
            throw ExitCode(69)
        }
    }

    /// Runs typed calls (the contract's stubs): a parameter the contract refuses, checked
    /// here before sending, or the daemon's refusal is printed and exits 1; a broken
    /// connection exits 69.
    func perform<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as RPCError {
            report(error)
            throw ExitCode(1)
        } catch RNNClient.Failure.daemon(let error) {
            report(error)
            throw ExitCode(1)
        } catch {
            printError("rnnctl: \(error)")
            throw ExitCode(69)
        }
    }

    /// Prints a refusal: as JSON with --json, else as a line naming the option.
    func report(_ error: RPCError) {
        if json {
            print(JSONCoding.line(.object(["error": JSONCoding.value(error)])))
        } else {
            printError("rnnctl: \(optionWording(error))")
        }
    }

    /// Prints `value` as JSON when --json, else runs `text`.
    func output(_ value: JSON, text: () -> Void) {
        if json { print(JSONCoding.line(value)) } else { text() }
    }
}

/// A refusal's message with the parameter named as the command line names it
/// (`parameter "top_k"` becomes `--top-k`; the model is the model's name).
func optionWording(_ error: RPCError) -> String {
    guard let parameter = error.data?["parameter"]?.stringValue, !parameter.contains(".") else { return error.message }
    let quoted = "parameter \"\(parameter)\""
    let option = parameter == "model" ? "the model name" : "--" + parameter.replacing("_", with: "-")
    return error.message.replacing(quoted, with: option)
}

func printError(_ message: String) {
    writeStandardError(message + "\n")
}

/// Writes `text` to stdout at once (streamed output); `print` output is flushed first.
func writeNow(_ text: String) {
    writeAll(1, text)
}

/// Writes `text` to stderr at once.
func writeStandardError(_ text: String) {
    writeAll(2, text)
}

private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}
