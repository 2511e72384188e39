import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every model, loaded or not.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.modelList() }
        global.output(r.wire) {
            var table = Table("NAME", "ARCH", "SIZE", "PARAMS", "STATE", "STEPS")
            for m in r.models {
                table.add(
                    m.name, m.architecture.rawValue, "\(m.layers)x\(m.hiddenSize)", "\(m.parameters)", m.state.rawValue,
                    "\(m.steps)")
            }
            table.print()
        }
    }
}
