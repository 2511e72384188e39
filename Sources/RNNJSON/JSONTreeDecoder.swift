/// Decodes a `Decodable` straight from a ``JSON`` tree, `camelCase` keys read from their
/// `snake_case` wire names (the inverse of ``JSONTreeEncoder``). Integers must be exact:
/// `10.5` or `1e20` for an `Int` is a type mismatch, never a rounding.
public enum JSONTreeDecoder {
    /// `T` from `value`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSON) throws -> T {
        try decodeValue(T.self, from: value, codingPath: [])
    }
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: JSON, codingPath: [any CodingKey]) throws -> T {
    if T.self == JSON.self { return value as! T }
    return try T(from: TreeDecoder(value: value, codingPath: codingPath))
}

private func mismatch(_ type: Any.Type, _ value: JSON, _ codingPath: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found \(value.kindName)"))
}

private func primitive<T>(_ type: T.Type, _ value: JSON, _ codingPath: [any CodingKey]) throws -> T? {
    switch type {
    case is String.Type: if case .string(let s) = value { return s as? T }
    case is Bool.Type: if case .bool(let b) = value { return b as? T }
    case is Double.Type: if case .number(let n) = value { return n.doubleValue as? T }
    case is Float.Type: if case .number(let n) = value { return Float(n.doubleValue) as? T }
    case is Int.Type: if case .number(let n) = value, let v = n.exactly(Int.self) { return v as? T }
    case is Int64.Type: if case .number(let n) = value, let v = n.exactly(Int64.self) { return v as? T }
    case is Int32.Type: if case .number(let n) = value, let v = n.exactly(Int32.self) { return v as? T }
    case is UInt64.Type: if case .number(let n) = value, let v = n.exactly(UInt64.self) { return v as? T }
    case is UInt32.Type: if case .number(let n) = value, let v = n.exactly(UInt32.self) { return v as? T }
    case is UInt.Type: if case .number(let n) = value, let v = n.exactly(UInt.self) { return v as? T }
    case is Int16.Type: if case .number(let n) = value, let v = n.exactly(Int16.self) { return v as? T }
    case is Int8.Type: if case .number(let n) = value, let v = n.exactly(Int8.self) { return v as? T }
    case is UInt16.Type: if case .number(let n) = value, let v = n.exactly(UInt16.self) { return v as? T }
    case is UInt8.Type: if case .number(let n) = value, let v = n.exactly(UInt8.self) { return v as? T }
    default: return nil
    }
    throw mismatch(type, value, codingPath)
}

private struct TreeDecoder: Decoder, JSONTreeCarrier {
    let value: JSON
    var treeValue: JSON { value }
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch(JSONObject.self, value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSON].self, value, codingPath) }
        return Unkeyed(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        Single(value: value, codingPath: codingPath)
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func name(_ key: Key) -> String { JSONTreeEncoder.snakeCase(key.stringValue) }

    func contains(_ key: Key) -> Bool { members[name(key)] != nil }

    func member(_ key: Key) throws -> JSON {
        guard let v = members[name(key)] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let v = try member(key)
        let path = codingPath + [key]
        if v == .null, T.self != JSON.self {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "null"))
        }
        if let p = try primitive(type, v, path) { return p }
        return try decodeValue(type, from: v, codingPath: path)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TreeDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TreeDecoder(value: members["super"] ?? .null, codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(value: try member(key), codingPath: codingPath + [key])
    }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let elements: [JSON]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [JSON], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    mutating func next(_ type: Any.Type) throws -> (JSON, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "array too short"))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [IndexKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next(type)
        if let p = try primitive(type, v, path) { return p }
        return try decodeValue(type, from: v, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let (v, path) = try next(JSONObject.self)
        return try TreeDecoder(value: v, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, path) = try next([JSON].self)
        return try TreeDecoder(value: v, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, path) = try next(JSON.self)
        return TreeDecoder(value: v, codingPath: path)
    }
}

private struct Single: SingleValueDecodingContainer {
    let value: JSON
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let p = try primitive(type, value, codingPath) { return p }
        return try decodeValue(type, from: value, codingPath: codingPath)
    }
}
