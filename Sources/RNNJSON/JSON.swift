/// Any JSON value. Numbers keep what was written: integers stay exact up to 64 bits
/// (``JSONNumber``), so an id or a seed of 2^53+1 comes back as it was sent.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// An exact integer.
    public static func integer(_ value: some BinaryInteger) -> JSON { .number(JSONNumber(value)) }

    /// A binary floating-point number (written as an integer when it is one, as `null`
    /// when it is not finite, since JSON has no infinities or NaN: a diverged loss).
    public static func double(_ value: Double) -> JSON { JSONNumber(value).map(JSON.number) ?? .null }

    /// The members, if this is an object.
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The elements, if this is an array.
    public var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }
    /// The string, if this is one.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The Boolean, if this is one.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The number as a Double (rounded for integers past 2^53), if this is a number.
    public var numberValue: Double? { if case .number(let n) = self { n.doubleValue } else { nil } }
    /// The number as an `Int`, if this is an integral number that fits exactly.
    public var intValue: Int? { if case .number(let n) = self { n.exactly(Int.self) } else { nil } }
    /// Whether this is `null`.
    public var isNull: Bool { self == .null }
    /// The member `key` of an object.
    public subscript(key: String) -> JSON? { objectValue?[key] }

    /// The JSON type's name, for messages ("an object", "a string", ...).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(let n): n.exactly(Int64.self) != nil || n.exactly(UInt64.self) != nil ? "an integer" : "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSON: CustomStringConvertible {
    /// Compact JSON text, keys sorted.
    public var description: String { JSONWriter.text(self) }
}
