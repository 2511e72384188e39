public import RNNJSON

/// A type the wire carries: decoded and validated from JSON at a path (so every refusal
/// names the parameter), encoded back to JSON. The contract's types are generated with it.
public protocol WireCodable: Sendable {
    /// Decodes and validates `wire`, found at `path`.
    ///
    /// - Throws: ``RPCError`` `-32602` naming the parameter and the rule it broke.
    init(wire: JSON, at path: WirePath) throws(RPCError)
    /// The value as JSON.
    var wire: JSON { get }
    /// Appends the value's JSON text (what `JSONWriter.write(wire, into:)` appends) without
    /// building the tree: answers written straight to bytes.
    func writeWire(into out: inout [UInt8])
}

extension WireCodable {
    public func writeWire(into out: inout [UInt8]) { JSONWriter.write(wire, into: &out) }
}

/// A type a client reads from answers: decoded straight from JSON text too (results and the
/// contract's shared types; requests' params are read by the daemon, from a tree).
public protocol WireReadable: WireCodable {
    /// Decodes the value straight from JSON text, without a tree. Succeeds exactly when
    /// ``init(wire:at:)`` would succeed on the parsed text, with the same value; on any
    /// failure it throws without saying why, and the caller decodes the tree for the message.
    init(reading reader: inout JSONReader) throws
}

/// A generated object type: its members' wire names in declaration (by-position) order.
public protocol WireStruct: WireCodable {
    static var fields: [String] { get }
}

/// Where a value sits in a request's params: a JSON pointer (`/corpus/l2e/length`) and a
/// dotted name for messages (`corpus.l2e.length`).
public struct WirePath: Sendable, Hashable {
    // The parent's tokens are shared and the last is kept apart: a top-level member's path
    // (the common case, built for every member decoded) allocates nothing.
    private let prefix: [String]
    private let last: String?

    /// The reference tokens, outermost first.
    public var parts: [String] { last.map { prefix + [$0] } ?? prefix }

    /// The params themselves.
    public static let root = WirePath(prefix: [], last: nil)

    private init(prefix: [String], last: String?) {
        self.prefix = prefix
        self.last = last
    }

    /// The path of a member or element.
    public func appending(_ part: String) -> WirePath { WirePath(prefix: parts, last: part) }

    /// RFC 6901 JSON pointer.
    public var pointer: String {
        parts.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    /// The dotted name (`params` for the root).
    public var name: String { parts.isEmpty ? "params" : parts.joined(separator: ".") }
}

extension RPCError {
    /// `-32602`: the value at `path` broke `rule`.
    public static func invalid(_ path: WirePath, _ rule: String, _ what: String) -> RPCError {
        RPCError(
            .invalidParams, "parameter \"\(path.name)\" \(what)",
            details: ["parameter": .string(path.name), "pointer": .string(path.pointer), "rule": .string(rule)])
    }

    /// `-32602`: a required member is missing.
    public static func missing(_ path: WirePath) -> RPCError {
        invalid(path, "required", "is required")
    }
}

/// Reads an object's members for a generated type.
public enum WireObject {
    /// The members of `wire`, refusing a non-object.
    public static func members(of wire: JSON, at path: WirePath) throws(RPCError) -> JSONObject {
        guard case .object(let members) = wire else {
            throw RPCError.invalid(path, "type", "must be an object, got \(wire.kindName)")
        }
        return members
    }

    /// Refuses the first member (in sorted order) that is not in `allowed`.
    public static func refuseUnknown(_ members: JSONObject, allowed: [String], at path: WirePath) throws(RPCError) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw RPCError.invalid(
                path.appending(key), "additionalProperties",
                "is not known here; \(path.parts.isEmpty ? "this method takes" : "allowed are"): "
                    + (allowed.isEmpty ? "none" : allowed.joined(separator: ", ")))
        }
    }
}

/// The contract's `pattern`s, compiled once.
public enum WirePattern {
    private static let cache = PatternCache()

    /// Whether `text` matches the ECMA-262-style `pattern` (anchored by its own `^`/`$`).
    public static func matches(_ text: String, _ pattern: String) -> Bool {
        cache.matches(text, pattern)
    }
}

extension WireStruct {
    /// The value checked against the contract's rules, as the daemon will check it: a client
    /// refuses a bad value before sending it, with the same message.
    public func validated() throws(RPCError) -> Self { try Self(wire: wire, at: .root) }

    /// Decodes a request's `params`: an object, an array in ``fields`` order, or absent.
    public init(params: JSON?) throws(RPCError) {
        switch params {
        case nil: try self.init(wire: .object([:]), at: .root)
        case .array(let items)?:
            guard items.count <= Self.fields.count else {
                throw RPCError.invalid(
                    .root, "maxItems",
                    "holds \(items.count) positional values; this method takes at most \(Self.fields.count)"
                        + (Self.fields.isEmpty ? "" : " (\(Self.fields.joined(separator: ", ")))"))
            }
            try self.init(wire: .object(JSONObject(zip(Self.fields, items))), at: .root)
        case let value?: try self.init(wire: value, at: .root)
        }
    }
}

extension String: WireCodable {
    public init(wire: JSON, at path: WirePath) throws(RPCError) {
        guard case .string(let s) = wire else {
            throw RPCError.invalid(path, "type", "must be a string, got \(wire.kindName)")
        }
        self = s
    }
    public var wire: JSON { .string(self) }
    public func writeWire(into out: inout [UInt8]) { JSONWriter.writeString(self, into: &out) }
}

extension Bool: WireCodable {
    public init(wire: JSON, at path: WirePath) throws(RPCError) {
        guard case .bool(let b) = wire else {
            throw RPCError.invalid(path, "type", "must be true or false, got \(wire.kindName)")
        }
        self = b
    }
    public var wire: JSON { .bool(self) }
    public func writeWire(into out: inout [UInt8]) { out.append(contentsOf: (self ? "true" : "false").utf8) }
}

extension Int: WireCodable {
    public init(wire: JSON, at path: WirePath) throws(RPCError) {
        guard case .number(let n) = wire else {
            throw RPCError.invalid(path, "type", "must be an integer, got \(wire.kindName)")
        }
        guard let v = n.exactly(Int.self) else {
            throw RPCError.invalid(
                path, "type",
                n.isIntegral
                    ? "must be an integer within ±2^63, got \(n)" : "must be an integer, got \(n)")
        }
        self = v
    }
    public var wire: JSON { .integer(self) }
    public func writeWire(into out: inout [UInt8]) { JSONWriter.writeInteger(Int64(self), into: &out) }
}

extension Double: WireCodable {
    /// A number; `null` is NaN, which is how a non-finite value (a diverged loss) travels,
    /// since JSON has no NaN. Every number parameter of the contract has a bound, which NaN
    /// fails, so a `null` parameter is refused naming itself.
    public init(wire: JSON, at path: WirePath) throws(RPCError) {
        switch wire {
        case .number(let n): self = n.doubleValue
        case .null: self = .nan
        default: throw RPCError.invalid(path, "type", "must be a number, got \(wire.kindName)")
        }
    }
    public var wire: JSON { .double(self) }
    public func writeWire(into out: inout [UInt8]) { JSONWriter.writeDouble(self, into: &out) }
}

extension JSON: WireCodable {
    public init(wire: JSON, at path: WirePath) { self = wire }
    public var wire: JSON { self }
    public func writeWire(into out: inout [UInt8]) { JSONWriter.write(self, into: &out) }
}

extension Array: WireCodable where Element: WireCodable {
    public init(wire: JSON, at path: WirePath) throws(RPCError) {
        guard case .array(let items) = wire else {
            throw RPCError.invalid(path, "type", "must be an array, got \(wire.kindName)")
        }
        var out: [Element] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try Element(wire: item, at: path.appending(String(i)))) }
        self = out
    }
    public var wire: JSON { .array(map(\.wire)) }
    public func writeWire(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, element) in enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            element.writeWire(into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}

extension String: WireReadable {
    public init(reading reader: inout JSONReader) throws { self = try reader.readString() }
}

extension Bool: WireReadable {
    public init(reading reader: inout JSONReader) throws { self = try reader.readBool() }
}

extension Int: WireReadable {
    public init(reading reader: inout JSONReader) throws {
        guard let v = try reader.readNumber().exactly(Int.self) else { throw JSONReader.Mismatch() }
        self = v
    }
}

extension Double: WireReadable {
    public init(reading reader: inout JSONReader) throws {
        self = try reader.readNull() ? .nan : reader.readNumber().doubleValue
    }
}

extension JSON: WireReadable {
    public init(reading reader: inout JSONReader) throws { self = try reader.readValue() }
}

extension Array: WireReadable where Element: WireReadable {
    public init(reading reader: inout JSONReader) throws {
        var out: [Element] = []
        try reader.readArray { out.append(try Element(reading: &$0)) }
        self = out
    }
}
