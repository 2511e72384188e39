import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "Loaded models: memory, state, steps.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let rows = try global.perform {
            try client.modelList().models.filter(\.loaded).map { try client.modelInfo(.init(model: $0.name)) }
        }
        global.output(.object(["models": rows.wire])) {
            print(pad("NAME", 20) + pad("STATE", 10) + pad("MEMORY", 12) + pad("STEPS", 10) + "BACKLOG")
            for r in rows {
                print(
                    pad(r.name, 20) + pad(r.state.rawValue, 10) + pad(bytes(r.bytesInMemory), 12)
                        + pad("\(r.steps)", 10)
                        + bytes(r.feedBacklogBytes))
            }
        }
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
