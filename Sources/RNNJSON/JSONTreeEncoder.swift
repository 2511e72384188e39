/// Encodes an `Encodable` straight into a ``JSON`` tree, `camelCase` keys as `snake_case`
/// (as Foundation's `.convertToSnakeCase`), without going through JSON text.
public enum JSONTreeEncoder {
    /// `value` as a JSON tree.
    public static func encode(_ value: some Encodable) throws -> JSON {
        let root = Slot()
        try value.encode(to: TreeEncoder(slot: root, codingPath: []))
        return root.json
    }

    /// Foundation's snake-case conversion: `myURLValue` → `my_url_value` (ASCII keys).
    public static func snakeCase(_ key: String) -> String {
        var utf8 = Array(key.utf8)
        func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
        func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
        guard utf8.contains(where: isUpper) else { return key }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 4)
        for i in utf8.indices {
            let b = utf8[i]
            if isUpper(b) {
                let previousLower = i > 0 && !isUpper(utf8[i - 1]) && utf8[i - 1] != 0x5F
                let previousUpper = i > 0 && isUpper(utf8[i - 1])
                let nextLower = i + 1 < utf8.count && isLower(utf8[i + 1])
                if i > 0 && (previousLower || (previousUpper && nextLower)) { out.append(0x5F) }
                out.append(b + 0x20)
            } else {
                out.append(b)
            }
        }
        utf8 = out
        return String(decoding: utf8, as: UTF8.self)
    }
}

/// A place in the tree being built.
private final class Slot {
    enum Content {
        case value(JSON)
        case object([(String, Slot)])
        case array([Slot])
    }
    var content: Content = .value(.null)

    var json: JSON {
        switch content {
        case .value(let v): return v
        case .object(let members):
            return .object(JSONObject(members.map { ($0.0, $0.1.json) }))
        case .array(let elements): return .array(elements.map(\.json))
        }
    }

    func member(_ key: String) -> Slot {
        let child = Slot()
        if case .object(var members) = content {
            members.append((key, child))
            content = .object(members)
        } else {
            content = .object([(key, child)])
        }
        return child
    }

    func element() -> Slot {
        let child = Slot()
        if case .array(var elements) = content {
            elements.append(child)
            content = .array(elements)
        } else {
            content = .array([child])
        }
        return child
    }
}

/// A primitive as JSON, or nil when `value` needs its own `encode(to:)`.
private func primitive(_ value: some Encodable) -> JSON? {
    switch value {
    case let v as JSON: return v
    case let v as String: return .string(v)
    case let v as Bool: return .bool(v)
    case let v as Double: return .double(v)
    case let v as Float: return .double(Double(v))
    case let v as Int: return .integer(v)
    case let v as Int64: return .integer(v)
    case let v as Int32: return .integer(v)
    case let v as UInt64: return .integer(v)
    case let v as UInt32: return .integer(v)
    case let v as UInt: return .integer(v)
    case let v as Int16: return .integer(v)
    case let v as Int8: return .integer(v)
    case let v as UInt16: return .integer(v)
    case let v as UInt8: return .integer(v)
    default: return nil
    }
}

private func encodeValue(_ value: some Encodable, into slot: Slot, codingPath: [any CodingKey]) throws {
    if let p = primitive(value) {
        slot.content = .value(p)
    } else {
        try value.encode(to: TreeEncoder(slot: slot, codingPath: codingPath))
    }
}

private struct TreeEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = slot.content {} else { slot.content = .object([]) }
        return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = slot.content {} else { slot.content = .array([]) }
        return Unkeyed(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    func name(_ key: Key) -> String { JSONTreeEncoder.snakeCase(key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { slot.member(name(key)).content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: slot.member(name(key)), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = slot.member(name(key))
        child.content = .object([])
        return KeyedEncodingContainer(Keyed<NestedKey>(slot: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = slot.member(name(key))
        child.content = .array([])
        return Unkeyed(slot: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.member("super"), codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(slot: slot.member(name(key)), codingPath: codingPath + [key])
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let elements) = slot.content { return elements.count }
        return 0
    }

    mutating func encodeNil() throws { slot.element().content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: slot.element(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = slot.element()
        child.content = .object([])
        return KeyedEncodingContainer(Keyed<NestedKey>(slot: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = slot.element()
        child.content = .array([])
        return Unkeyed(slot: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.element(), codingPath: codingPath) }
}

private struct Single: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: slot, codingPath: codingPath)
    }
}
