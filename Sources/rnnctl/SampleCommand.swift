import ArgumentParser
import RNNProtocol

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Sample text; it appears as it is produced.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    @Option(help: "Temperature (> 0).") var temperature: Double?
    @Option(help: "Keep the k most likely characters.") var topK: Int?
    @Option(help: "Keep the most likely characters up to this probability.") var topP: Double?
    @Flag(help: "Always take the most likely character.") var argmax = false
    @Option(help: "Seed of the draws.") var seed: Int?
    @Option(help: "Text that warms the hidden state first.") var prime: String?
    @Option(help: "Stop when the text ends with this (repeatable).") var stop: [String] = []
    @Option(help: "Characters to produce.") var length: Int?

    func validate() throws {
        if let temperature, !(temperature > 0) { throw ValidationError("--temperature must be > 0") }
        if let length, length < 0 { throw ValidationError("--length must be >= 0") }
    }

    func run() throws {
        var p = ParamBuilder()
        p.set("model", model)
        p.set("temperature", temperature)
        p.set("top_k", topK)
        p.set("top_p", topP)
        if argmax { p.set("argmax", true) }
        p.set("seed", seed)
        p.set("prime", prime)
        if !stop.isEmpty { p.set("stop", JSON.array(stop.map { .string($0) })) }
        p.set("length", length)
        p.set("stream", !global.json)
        let client = try global.connect()
        if let prime, !global.json { writeNow(prime) }
        let r = try global.call(client, "sample", p.params) { method, params in
            if method == "sample.chunk", let text = params["text"]?.stringValue { writeNow(text) }
        }
        global.output(r) { writeNow("\n") }
    }
}
