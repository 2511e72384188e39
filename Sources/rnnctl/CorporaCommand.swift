import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct CorporaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpora", abstract: "Built-in corpus kinds and the corpus plugins rnnd found.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.corpusList() }
        global.output(r.wire) {
            print("built in: " + r.builtins.joined(separator: ", "))
            for p in r.plugins {
                print("\(p.name): \(p.description)")
                for parameter in p.parameters {
                    print(
                        "  --\(parameter.name) \(parameter.type)" + (parameter.default.map { " (default \($0))" } ?? "")
                    )
                }
            }
            for problem in r.problems { print("problem: \(problem)") }
        }
    }
}
