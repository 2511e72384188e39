import RNNJSON
import RNNProtocol

/// Builds a params object, leaving out options that were not given.
struct ParamBuilder {
    private(set) var params: [String: JSON] = [:]

    mutating func set(_ key: String, _ value: String?) { if let value { params[key] = .string(value) } }
    mutating func set(_ key: String, _ value: Int?) { if let value { params[key] = .integer(value) } }
    mutating func set(_ key: String, _ value: Double?) { if let value { params[key] = .double(value) } }
    mutating func set(_ key: String, _ value: Bool?) { if let value { params[key] = .bool(value) } }
    mutating func set(_ key: String, _ value: JSON?) { if let value { params[key] = value } }
}

extension JSON {
    var int: Int? { intValue }
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
