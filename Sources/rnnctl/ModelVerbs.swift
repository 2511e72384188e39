import ArgumentParser
import RNNProtocol

/// A verb that calls one method with just the model's name and prints a line.
protocol SimpleModelVerb: ParsableCommand {
    var global: GlobalOptions { get }
    var model: String { get }
    static var method: String { get }
    static func describe(_ model: String, _ result: JSON) -> String
}

extension SimpleModelVerb {
    func run() throws {
        let r = try global.call(try global.connect(), Self.method, ["model": .string(model)])
        global.output(r) { print(Self.describe(model, r)) }
    }
}

struct RmCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a model and its files.")
    static let method = "model.delete"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    static func describe(_ model: String, _ r: JSON) -> String { "deleted \(model)" }
}

struct LoadCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load a model into memory.")
    static let method = "model.load"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    static func describe(_ model: String, _ r: JSON) -> String {
        "loaded \(model) (\(bytes(r["bytes_in_memory"]?.int ?? 0)))"
    }
}

struct UnloadCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(
        commandName: "unload", abstract: "Checkpoint a model and drop it from memory.")
    static let method = "model.unload"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    static func describe(_ model: String, _ r: JSON) -> String { "unloaded \(model)" }
}

struct SaveCommand: SimpleModelVerb {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Checkpoint a model now.")
    static let method = "model.save"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    static func describe(_ model: String, _ r: JSON) -> String {
        "saved \(model) to \(r["path"]?.text ?? "?") (\(bytes(r["bytes"]?.int ?? 0)))"
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
        let r = try global.call(
            try global.connect(), "model.import", ["model": .string(model), "path": .string(absolute)])
        global.output(r) {
            print(
                "imported \(model): \(r["architecture"]?.text ?? "") \(r["layers"]?.text ?? "")x\(r["hidden_size"]?.text ?? "")"
            )
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a model as PyTorch-layout safetensors.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    @Argument(help: "Where to write (in a folder rnnd allows).") var path: String

    func run() throws {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        let r = try global.call(
            try global.connect(), "model.export", ["model": .string(model), "path": .string(absolute)])
        global.output(r) { print("exported \(model) to \(r["path"]?.text ?? "") (\(bytes(r["bytes"]?.int ?? 0)))") }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a training job.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String

    func run() throws {
        let r = try global.call(try global.connect(), "train.cancel", ["job": .string(job)])
        global.output(r) { print("cancelling \(job) (step \(r["step"]?.text ?? "?"))") }
    }
}

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Training jobs since rnnd started.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let r = try global.call(try global.connect(), "train.list")
        global.output(r) {
            print(pad("JOB", 10) + pad("MODEL", 16) + pad("STATE", 12) + pad("STEP", 12) + pad("LOSS", 10) + "VAL LOSS")
            for j in r["jobs"]?.arrayValue ?? [] {
                let step = (j["step"]?.text ?? "0") + (j["total_steps"].map { "/" + $0.text } ?? "")
                print(
                    pad(j["job"]?.text ?? "", 10) + pad(j["model"]?.text ?? "", 16) + pad(j["state"]?.text ?? "", 12)
                        + pad(step, 12) + pad(j["loss"]?.text ?? "-", 10) + (j["validation_loss"]?.text ?? "-"))
            }
        }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Loss of a model on a text (argument, or stdin with -).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    @Argument(help: "The text, or - for stdin.") var text: String

    func run() throws {
        let input = text == "-" ? readAllStandardInput() : text
        let r = try global.call(try global.connect(), "evaluate", ["model": .string(model), "text": .string(input)])
        global.output(r) {
            print(
                "\(r["loss"]?.text ?? "?") nats/char, \(r["bits_per_character"]?.text ?? "?") bits/char over \(r["characters"]?.text ?? "?") characters"
            )
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
