import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Everything about one model.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.modelInfo(.init(model: model)).wire }
        global.output(r) {
            let keys = [
                "name", "state", "architecture", "layers", "hidden_size", "embedding_size", "dropout", "vocabulary",
                "vocabulary_size", "max_vocabulary", "parameters", "bytes_in_memory", "optimizer", "learning_rate",
                "clip",
                "clip_value", "batch_size", "seq_length", "steps", "characters_seen", "last_loss",
                "last_validation_loss",
                "feed_backlog_bytes", "feed_total_bytes", "error",
            ]
            for key in keys { if let v = r[key] { print(pad(key + ":", 22) + v.text) } }
            if let kept = r["kept_best"], let job = kept["job"]?.text, let step = kept["step"]?.text,
                let loss = kept["validation_loss"]?.text, let lastStep = kept["last_step"]?.text
            {
                let last = kept["last_validation_loss"]?.text ?? "a loss that was not finite"
                // What the weights in memory score, beside what the last weights of the job scored.
                print(
                    pad("kept_best:", 22)
                        + "validation \(loss) at step \(step) (\(job); its last weights, step \(lastStep), scored \(last))"
                )
            }
        }
    }
}

/// `s` padded with spaces to `width` characters (at least one space after it).
private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
