import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Draw a model's loss history in the terminal.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Option(help: "Width of the plot in characters.") var width: Int = 60

    func run() throws {
        let client = try global.connect()
        let history = try global.perform { try client.modelInfo(.init(model: model)).lossHistory }
        global.output(.object(["model": .string(model), "loss_history": history.wire])) {
            let losses = history.map(\.loss)
            let validation = history.compactMap(\.validationLoss)
            guard let first = losses.first, let last = losses.last else {
                print("\(model): no training yet")
                return
            }
            print("\(model): \(history.last?.step ?? 0) steps, loss \(format4(first)) -> \(format4(last)) nats/char")
            print("train " + sparkline(losses, width: width) + " \(format4(last))")
            if let v = validation.last { print("valid " + sparkline(validation, width: width) + " \(format4(v))") }
        }
    }
}

/// `values` resampled to `width` columns and drawn with ▁▂▃▄▅▆▇█ (low is good).
func sparkline(_ values: [Double], width: Int) -> String {
    guard !values.isEmpty else { return "" }
    let columns = min(width, values.count)
    let ticks = Array("▁▂▃▄▅▆▇█")
    let lo = values.min()!, hi = values.max()!
    var out = ""
    for c in 0..<columns {
        let start = c * values.count / columns
        let end = max(start + 1, (c + 1) * values.count / columns)
        let mean = values[start..<end].reduce(0, +) / Double(end - start)
        let level = hi > lo ? Int(((mean - lo) / (hi - lo) * Double(ticks.count - 1)).rounded()) : 0
        out.append(ticks[level])
    }
    return out
}
