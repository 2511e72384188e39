import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A verb that calls one method with just the model's name and prints a line.
protocol SimpleModelVerb: ParsableCommand {
    associatedtype Result: WireCodable
    var global: GlobalOptions { get }
    var model: String { get }
    static func call(_ client: RNNClient, _ model: String) throws -> Result
    static func describe(_ model: String, _ result: Result) -> String
}

extension SimpleModelVerb {
    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try Self.call(client, model) }
        global.output(r.wire) { print(Self.describe(model, r)) }
    }
}

struct RmCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a model and its files.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    static func call(_ client: RNNClient, _ model: String) throws -> Done {
        try client.modelDelete(.init(model: model))
    }
    static func describe(_ model: String, _ r: Done) -> String { "deleted \(model)" }
}

struct LoadCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load a model into memory.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    static func call(_ client: RNNClient, _ model: String) throws -> ModelDetails {
        try client.modelLoad(.init(model: model))
    }
    static func describe(_ model: String, _ r: ModelDetails) -> String { "loaded \(model) (\(bytes(r.bytesInMemory)))" }
}

struct UnloadCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(
        commandName: "unload", abstract: "Checkpoint a model and drop it from memory.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    static func call(_ client: RNNClient, _ model: String) throws -> ModelDetails {
        try client.modelUnload(.init(model: model))
    }
    static func describe(_ model: String, _ r: ModelDetails) -> String { "unloaded \(model)" }
}

struct SaveCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Checkpoint a model now.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    static func call(_ client: RNNClient, _ model: String) throws -> SaveResult {
        try client.modelSave(.init(model: model))
    }
    static func describe(_ model: String, _ r: SaveResult) -> String {
        "saved \(model) to \(r.path) (\(bytes(r.bytes)))"
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Create a model from a PyTorch-layout safetensors file.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new model's name.") var model: String
    @Argument(help: "The .safetensors file (in a folder rnnd allows).") var path: String

    func run() throws {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        let client = try global.connect()
        let r = try global.perform { try client.modelImport(.init(model: model, path: absolute)) }
        global.output(r.wire) { print("imported \(model): \(r.architecture.rawValue) \(r.layers)x\(r.hiddenSize)") }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a model as PyTorch-layout safetensors.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "Where to write (in a folder rnnd allows).") var path: String

    func run() throws {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        let client = try global.connect()
        let r = try global.perform { try client.modelExport(.init(model: model, path: absolute)) }
        global.output(r.wire) { print("exported \(model) to \(r.path) (\(bytes(r.bytes)))") }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a training job.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.", completion: .jobIDs) var job: String

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.trainCancel(.init(job: job)) }
        let ended = ![JobState.queued, .running].contains(r.state)
        global.output(r.wire) {
            if ended {
                writeStandardError(
                    "rnnctl: \(job) had already ended (\(r.state.rawValue) at step \(r.step)); nothing to cancel\n")
            } else {
                print("cancelling \(job) (step \(r.step)); it stops after its current step")
            }
        }
        // Nothing was cancelled: a script must not take it for done.
        if ended { throw ExitCode(1) }
    }
}

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Training jobs since rnnd started.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.trainList() }
        global.output(r.wire) {
            var table = Table("JOB", "MODEL", "STATE", "STEP", "LOSS", "VAL LOSS", "BEST", "STOPPED")
            for j in r.jobs {
                let step = "\(j.step)" + (j.totalSteps.map { "/\($0)" } ?? "")
                let best = j.bestValidationLoss.map { format4($0) + (j.bestStep.map { " @\($0)" } ?? "") } ?? "-"
                table.add(
                    j.job, j.model, j.state.rawValue, step, j.loss.map(format4) ?? "-",
                    j.validationLoss.map(format4) ?? "-", best, j.stopReason?.rawValue ?? "-")
            }
            table.print()
        }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Loss of a model on a text (argument, or stdin with -).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "The text, or - for stdin.") var text: String

    func run() throws {
        let input = text == "-" ? readAllStandardInput() : text
        let client = try global.connect()
        let r = try global.perform { try Self.evaluate(client, model, input) }
        global.output(r.wire) {
            let (unit, units) = r.unit == .byte ? ("byte", "bytes") : ("char", "characters")
            print(
                "\(format4(r.loss)) nats/\(unit), \(format4(r.bitsPerCharacter)) bits/\(unit) over \(r.characters) \(units)"
            )
            if let unknown = r.unknownCharacters {
                writeStandardError(
                    "rnnctl: \(unknown) characters of the text are not in \(model)'s vocabulary; they count as its unknown slot\n"
                )
            }
        }
    }
}

extension EvalCommand {
    /// Bytes of text per `evaluate` call, as JSON encodes it: well under the default 1 MiB
    /// message limit.
    static let chunkBytes = 256 << 10

    /// `text` cut between characters into pieces of at most ``chunkBytes`` once JSON-escaped
    /// (a control character takes up to six bytes on the wire).
    static func pieces(of text: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex
        var size = 0
        for index in text.unicodeScalars.indices {
            let scalar = text.unicodeScalars[index]
            let width = scalar.isASCII ? JSONWriter.escapedLength(UInt8(scalar.value)) : UTF8.width(scalar)
            if size + width > chunkBytes {
                pieces.append(text[start..<index])
                start = index
                size = 0
            }
            size += width
        }
        pieces.append(text[start...])
        return pieces
    }

    /// The loss of a text of any size: in calls of at most ``chunkBytes`` (cut between
    /// characters), each scored from a fresh state, combined by their characters. A chunk's
    /// first character has no context, so a long text scores a little higher than in one call.
    static func evaluate(_ client: RNNClient, _ model: String, _ text: String) throws -> EvaluateResult {
        let pieces = pieces(of: text)
        if pieces.count == 1 { return try client.evaluate(.init(model: model, text: text)) }
        var nats = 0.0
        var characters = 0
        var unknown = 0
        var unit = EvaluateResult.Unit.character
        for piece in pieces where piece.unicodeScalars.count >= 2 {
            let r = try client.evaluate(.init(model: model, text: String(piece)))
            nats += r.loss * Double(r.characters)
            characters += r.characters
            unknown += r.unknownCharacters ?? 0
            unit = r.unit
        }
        let loss = nats / Double(max(characters, 1))
        return EvaluateResult(
            loss: loss, bitsPerCharacter: loss / 0.6931471805599453, characters: characters, unit: unit,
            unknownCharacters: unknown > 0 ? unknown : nil)
    }
}

struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Call any method with JSON params and print the JSON result.",
        discussion: """
            Params are an object (by name) or an array (by position). With --batch, the argument \
            is a file (or - for stdin) holding a JSON array of requests ({"method": ..., "params": \
            ...}; jsonrpc and id are added when missing, an object without id is a notification), \
            sent as one JSON-RPC batch; the array of responses is printed.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The method, e.g. daemon.status (with --batch: the requests' file, or -).") var method: String
    @Argument(help: "Params as a JSON object or array.") var params: String = "{}"
    @Flag(help: "Send a batch of requests read from the file named instead of the method.") var batch = false

    func run() throws {
        let client = try global.connect()
        if batch { return try sendBatch(client) }
        guard let value = try? JSONCoding.parse(Array(params.utf8)), value.objectValue != nil || value.arrayValue != nil
        else {
            throw ValidationError("params must be a JSON object (by name) or array (by position), got \(params)")
        }
        let r = try global.perform {
            try client.call(method, value) { _, p in print(JSONCoding.line(p)) }
        }
        print(JSONCoding.line(r))
    }

    /// Sends the requests of the file as one batch and prints the responses.
    private func sendBatch(_ client: RNNClient) throws {
        let text = method == "-" ? readAllStandardInput() : try readFile(method)
        guard let value = try? JSONCoding.parse(Array(text.utf8)), let requests = value.arrayValue else {
            throw ValidationError("--batch takes a JSON array of requests, like [{\"method\": \"daemon.status\"}]")
        }
        var expectsAnswer = false
        let filled: [JSON] = requests.map { request in
            guard var object = request.objectValue else { return request }  // rnnd says what is wrong
            if object["jsonrpc"] == nil { object["jsonrpc"] = "2.0" }
            if object["id"] != nil { expectsAnswer = true }
            return .object(object)
        }
        try global.perform { try client.send(JSONCoding.line(.array(filled))) }
        // A batch of notifications only gets no answer at all.
        guard expectsAnswer || filled.contains(where: { $0.objectValue == nil }) || filled.isEmpty else { return }
        let line = try global.perform { try client.readLine() }
        print(String(decoding: line, as: UTF8.self))
    }

    private func readFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            writeStandardError("rnnctl: cannot open \(path): \(String(cString: strerror(errno)))\n")
            throw ExitCode(66)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
