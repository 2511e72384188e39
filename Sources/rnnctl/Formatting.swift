import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

extension JSON {
    /// The value as `rnnctl show` prints it.
    var text: String {
        switch self {
        case .string(let s): s
        case .number(let n): n.isIntegral ? n.description : format4(n.doubleValue)
        case .bool(let b): b ? "yes" : "no"
        case .null: "-"
        default: JSONCoding.line(self)
        }
    }
}

/// A number with 4 significant decimals.
func format4(_ x: Double) -> String {
    let scaled = (x * 10_000).rounded() / 10_000
    return "\(scaled)"
}

/// A number with 3 significant digits, written from its digits so that no binary noise
/// shows (a learning rate: 0.002, 0.000675, 6.4e-05).
func significant3(_ x: Double) -> String {
    guard x.isFinite, x != 0 else { return "\(x)" }
    var exponent = Int(log10(abs(x)).rounded(.down))
    var digits = Int((abs(x) / pow(10, Double(exponent - 2))).rounded())
    if digits >= 1000 {
        digits /= 10
        exponent += 1
    }
    var text = String(digits)
    while text.count > 1, text.hasSuffix("0") { text.removeLast() }
    let sign = x < 0 ? "-" : ""
    if exponent < -4 || exponent > 6 {
        let mantissa = text.count > 1 ? String(text.first!) + "." + text.dropFirst() : text
        return sign + mantissa + "e\(exponent)"
    }
    if exponent < 0 { return sign + "0." + String(repeating: "0", count: -exponent - 1) + text }
    if text.count <= exponent + 1 { return sign + text + String(repeating: "0", count: exponent + 1 - text.count) }
    return sign + text.prefix(exponent + 1) + "." + text.dropFirst(exponent + 1)
}

/// A corpus spec from --corpus: a file path (absolute or relative) or, with --text, inline.
func corpusSpec(_ corpus: String?, text: String?) -> CorpusSpec? {
    if let text { return CorpusSpec(text: text) }
    guard let corpus else { return nil }
    return CorpusSpec(file: corpus.hasPrefix("/") ? corpus : currentDirectory() + "/" + corpus)
}
