import ArgumentParser
import RNNProtocol

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "Loaded models: memory, state, steps.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.connect()
        let list = try global.call(client, "model.list")
        var rows: [JSON] = []
        for m in list["models"]?.arrayValue ?? [] where m["loaded"] == .bool(true) {
            rows.append(try global.call(client, "model.info", ["model": m["name"] ?? .null]))
        }
        global.output(.object(["models": .array(rows)])) {
            print(pad("NAME", 20) + pad("STATE", 10) + pad("MEMORY", 12) + pad("STEPS", 10) + "BACKLOG")
            for r in rows {
                print(
                    pad(r["name"]?.text ?? "", 20) + pad(r["state"]?.text ?? "", 10)
                        + pad(bytes(r["bytes_in_memory"]?.int ?? 0), 12) + pad(r["steps"]?.text ?? "", 10)
                        + bytes(r["feed_backlog_bytes"]?.int ?? 0))
            }
        }
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
