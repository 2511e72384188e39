import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Sample text; it appears as it is produced.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Option(parsing: .unconditional, help: "Temperature (> 0; default 1).") var temperature: Double?
    @Option(parsing: .unconditional, help: "Keep the k most likely characters.") var topK: Int?
    @Option(parsing: .unconditional, help: "Keep the most likely characters up to this probability.") var topP: Double?
    @Flag(help: "Always take the most likely character.") var argmax = false
    @Option(parsing: .unconditional, help: "Seed of the draws.") var seed: Int?
    @Option(help: "Text that warms the hidden state first.") var prime: String?
    @Option(help: "Stop when the text ends with this (repeatable).") var stop: [String] = []
    @Option(parsing: .unconditional, help: "Characters to produce (default 200).") var length: Int?

    func validate() throws {
        // JSON has no infinity or NaN: said here, not as "got null" from the contract's check.
        for (name, value) in [("--temperature", temperature), ("--top-p", topP)] {
            if let value, !value.isFinite { throw ValidationError("\(name) must be a finite number, got \(value)") }
        }
    }

    func run() throws {
        var params = Sample.Params(
            model: model, topK: topK, topP: topP, argmax: argmax, seed: seed, stop: stop.isEmpty ? nil : stop,
            stream: !global.json)
        if let temperature { params.temperature = temperature }
        if let prime { params.prime = prime }
        if let length { params.length = length }
        let checked = try global.perform { try params.validated() }
        let client = try global.connect()
        if !global.json { writeNow(checked.prime) }
        let r = try global.perform {
            try client.sample(checked) { chunk in if let text = chunk["text"]?.stringValue { writeNow(text) } }
        }
        global.output(r.wire) { writeNow("\n") }
    }
}
