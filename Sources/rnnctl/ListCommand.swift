import ArgumentParser
import RNNProtocol

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every model, loaded or not.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let r = try global.call(try global.connect(), "model.list")
        global.output(r) {
            print(pad("NAME", 20) + pad("ARCH", 10) + pad("SIZE", 10) + pad("PARAMS", 12) + pad("STATE", 10) + "STEPS")
            for m in r["models"]?.arrayValue ?? [] {
                print(
                    pad(m["name"]?.text ?? "", 20) + pad(m["architecture"]?.text ?? "", 10)
                        + pad("\(m["layers"]?.text ?? "?")x\(m["hidden_size"]?.text ?? "?")", 10)
                        + pad(m["parameters"]?.text ?? "", 12) + pad(m["state"]?.text ?? "", 10)
                        + (m["steps"]?.text ?? ""))
            }
        }
    }
}
