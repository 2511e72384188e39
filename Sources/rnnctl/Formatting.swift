import RNNJSON
import RNNProtocol

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

/// A corpus spec from --corpus: a file path (absolute or relative) or, with --text, inline.
func corpusSpec(_ corpus: String?, text: String?) -> CorpusSpec? {
    if let text { return CorpusSpec(text: text) }
    guard let corpus else { return nil }
    return CorpusSpec(file: corpus.hasPrefix("/") ? corpus : currentDirectory() + "/" + corpus)
}
