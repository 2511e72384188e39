import ArgumentParser
import RNNProtocol

struct CorporaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpora", abstract: "Built-in corpus kinds and the corpus plugins rnnd found.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let r = try global.call(try global.connect(), "corpus.list")
        global.output(r) {
            print("built in: " + (r["builtins"]?.arrayValue ?? []).map(\.text).joined(separator: ", "))
            for p in r["plugins"]?.arrayValue ?? [] {
                print("\(p["name"]?.text ?? ""): \(p["description"]?.text ?? "")")
                for parameter in p["parameters"]?.arrayValue ?? [] {
                    let defaultText = parameter["default"].map { " (default \($0.text))" } ?? ""
                    print("  --\(parameter["name"]?.text ?? "") \(parameter["type"]?.text ?? "")\(defaultText)")
                }
            }
            for problem in r["problems"]?.arrayValue ?? [] { print("problem: \(problem.text)") }
        }
    }
}
