/// A ``JSON`` value inside a Codable type: the tree coders pass it through untouched;
/// other coders see its primitives.
extension JSON: Codable {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeCarrier {
            self = tree.treeValue
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let n = try? c.decode(Double.self) {
            self = .double(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSON].self) {
            self = .array(a)
        } else {
            self = .object(JSONObject(try c.decode([String: JSON].self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            switch n.storage {
            case .signed(let v): try c.encode(v)
            case .unsigned(let v): try c.encode(v)
            case .decimal(let v): try c.encode(v)
            }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o.dictionary)
        }
    }
}

/// A decoder that already holds a ``JSON`` tree (the tree decoder's), handed over whole.
protocol JSONTreeCarrier {
    var treeValue: JSON { get }
}
