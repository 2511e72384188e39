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
            print(pad("NAME", 20) + pad("ARCH", 10) + pad("SIZE", 10) + pad("PARAMS", 12) + pad("STATE", 10) + "STEPS")
            for m in r.models {
                print(
                    pad(m.name, 20) + pad(m.architecture.rawValue, 10) + pad("\(m.layers)x\(m.hiddenSize)", 10)
                        + pad("\(m.parameters)", 12) + pad(m.state.rawValue, 10) + "\(m.steps)")
            }
        }
    }
}
