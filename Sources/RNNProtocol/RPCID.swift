/// A JSON-RPC request id: a string, a number or null, echoed exactly as sent.
public enum RPCID: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case null

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try JSON(self).encode(to: encoder)
    }

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .number(let n): n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : "\(n)"
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
