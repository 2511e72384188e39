public import RNNJSON

/// A JSON-RPC request id: a string, a number or null, echoed exactly as sent (integers to
/// 64 bits, since ``JSONNumber`` keeps them).
public enum RPCID: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case number(JSONNumber)
    case null

    /// The id of a request member, if it is a valid one (a string, a number or null).
    public init?(_ value: JSON) {
        switch value {
        case .string(let s): self = .string(s)
        case .number(let n): self = .number(n)
        case .null: self = .null
        default: return nil
        }
    }

    public init(from decoder: any Decoder) throws {
        guard let id = RPCID(try JSON(from: decoder)) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "an id is a string, a number or null"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        try JSON(self).encode(to: encoder)
    }

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .number(let n): n.description
        case .null: "null"
        }
    }
}

extension JSON {
    /// The id as a JSON value.
    public init(_ id: RPCID) {
        switch id {
        case .string(let s): self = .string(s)
        case .number(let n): self = .number(n)
        case .null: self = .null
        }
    }
}
