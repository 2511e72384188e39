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
            var table = Table("NAME", "STATE", "MEMORY", "STEPS", "BACKLOG")
            for r in rows {
                table.add(r.name, r.state.rawValue, bytes(r.bytesInMemory), "\(r.steps)", bytes(r.feedBacklogBytes))
            }
            table.print()
        }
    }
}
