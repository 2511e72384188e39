import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

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
        let r = try global.perform { try client.evaluate(.init(model: model, text: input)) }
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

struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Call any method with JSON params and print the JSON result.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The method, e.g. daemon.status.") var method: String
    @Argument(help: "Params as a JSON object.") var params: String = "{}"

    func run() throws {
        guard let value = try? JSONCoding.parse(Array(params.utf8)), let object = value.objectValue else {
            throw ValidationError("params must be a JSON object, got \(params)")
        }
        let r = try global.call(try global.connect(), method, object) { _, p in print(JSONCoding.line(p)) }
        print(JSONCoding.line(r))
    }
}
