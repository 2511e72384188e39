import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// One line on stderr, redrawn in place: step of total, a bar, loss, validation loss,
/// characters per second, ETA. Plain lines when stderr is not a terminal.
struct ProgressBar {
    let enabled: Bool

    func draw(_ info: JSON) {
        guard enabled else { return }
        let step = info["step"]?.intValue ?? 0
        var line = "step \(step)"
        if let total = info["total_steps"]?.intValue, total > 0 {
            let width = 24
            let filled = min(width, step * width / total)
            line =
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                + "] \(step)/\(total)"
        }
        if let loss = info["loss"]?.numberValue { line += "  loss \(format4(loss))" }
        if let v = info["validation_loss"]?.numberValue { line += "  val \(format4(v))" }
        if let best = info["best_validation_loss"]?.numberValue { line += " (best \(format4(best)))" }
        if let lr = info["learning_rate"]?.numberValue { line += "  lr \(significant3(lr))" }
        if let rate = info["characters_per_second"]?.numberValue { line += "  \(Int(rate)) chars/s" }
        if let eta = info["eta_seconds"]?.numberValue, info["stop_reason"] == nil { line += "  eta \(duration(eta))" }
        if let reason = info["stop_reason"]?.stringValue { line += "  stopped: \(reason)" }
        if stderrIsTerminal {
            writeStandardError("\r\u{1B}[2K" + line)
        } else {
            writeStandardError(line + "\n")
        }
    }

    func finish() {
        if enabled && stderrIsTerminal { writeStandardError("\n") }
    }
}
