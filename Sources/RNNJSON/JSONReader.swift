/// Reads one JSON text piece by piece, for decoders that build their own values instead of a
/// ``JSON`` tree (a client decoding a large answer). It is the one parser's scanner, so it
/// accepts only texts ``JSONParser`` accepts. Its errors are for falling back, not for
/// showing: a ``Mismatch`` (the text is not what the decoder expected, or not JSON) or the
/// parser's error. A caller that meets one parses the text again as a tree, which gives the
/// precise error (or a value of a shape the piecewise decoder does not take).
public struct JSONReader {
    /// The text is not JSON, or not the value the decoder expected.
    public struct Mismatch: Error {
        public init() {}
    }

    @usableFromInline
    var parser: Parser

    @usableFromInline
    init(_ bytes: UnsafeBufferPointer<UInt8>) { parser = Parser(bytes: bytes) }

    /// Runs `body` over the one JSON text in `bytes` (surrounding whitespace allowed) and
    /// checks that it read the whole text. Inlinable, so each caller gets it specialized.
    @inlinable
    public static func read<T>(_ bytes: [UInt8], _ body: (inout JSONReader) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            reader.parser.skipSpace()
            let value = try body(&reader)
            reader.parser.skipSpace()
            guard reader.parser.atEnd else { throw Mismatch() }
            return value
        }
    }

    /// The first byte of the next value (nil at the end of the text), for a decoder that
    /// branches on the value's kind.
    var nextByte: UInt8? { parser.atEnd ? nil : parser.bytes[parser.position] }

    /// Whether the next value is `null` (consumed if it is).
    public mutating func readNull() throws -> Bool {
        guard !parser.atEnd, parser.bytes[parser.position] == UInt8(ascii: "n") else { return false }
        _ = try parser.literal("null", .null)
        parser.skipSpace()
        return true
    }

    /// The next value, which must be a string.
    public mutating func readString() throws -> String {
        guard !parser.atEnd, parser.bytes[parser.position] == UInt8(ascii: "\"") else { throw Mismatch() }
        let text = try parser.string()
        parser.skipSpace()
        return text
    }

    /// The next value, which must be a number.
    public mutating func readNumber() throws -> JSONNumber {
        guard !parser.atEnd,
            parser.bytes[parser.position] == UInt8(ascii: "-") || parser.bytes[parser.position] & 0xF0 == 0x30
        else { throw Mismatch() }
        let number = try parser.number()
        parser.skipSpace()
        return number
    }

    /// The next value, which must be `true` or `false`.
    public mutating func readBool() throws -> Bool {
        guard !parser.atEnd else { throw Mismatch() }
        let value: JSON
        switch parser.bytes[parser.position] {
        case UInt8(ascii: "t"): value = try parser.literal("true", .bool(true))
        case UInt8(ascii: "f"): value = try parser.literal("false", .bool(false))
        default: throw Mismatch()
        }
        parser.skipSpace()
        return value == .bool(true)
    }

    /// The next value whatever it is, as a tree.
    public mutating func readValue() throws -> JSON {
        // At the reader's own depth: the nesting limit is the tree parser's, level for level.
        let value = try parser.value(depth: depth)
        parser.skipSpace()
        return value
    }

    private var depth = 0

    /// Reads an array, calling `element` once per element to read it.
    public mutating func readArray(_ element: (inout JSONReader) throws -> Void) throws {
        guard !parser.atEnd, parser.bytes[parser.position] == UInt8(ascii: "[") else { throw Mismatch() }
        try nested { reader in
            reader.parser.position += 1
            reader.parser.skipSpace()
            if try reader.consume(UInt8(ascii: "]")) { return }
            while true {
                try element(&reader)
                if try reader.consume(UInt8(ascii: "]")) { return }
                guard try reader.consume(UInt8(ascii: ",")) else { throw Mismatch() }
            }
        }
    }

    /// Reads an object, calling `member` with each key to read its value. A key given twice
    /// is refused, as the tree parser refuses it. Keys are read in place, so only plain ones
    /// are taken (printable ASCII without escapes, at most 64 members): any other is a
    /// mismatch, left to the tree.
    public mutating func readObject(_ member: (JSONKey, inout JSONReader) throws -> Void) throws {
        guard !parser.atEnd, parser.bytes[parser.position] == UInt8(ascii: "{") else { throw Mismatch() }
        try withUnsafeTemporaryAllocation(of: JSONKey.self, capacity: Self.maximumMembers) { seen in
            try nested { reader in
                reader.parser.position += 1
                reader.parser.skipSpace()
                if try reader.consume(UInt8(ascii: "}")) { return }
                var count = 0
                while true {
                    let key = try reader.readKey()
                    guard count < Self.maximumMembers, !seen[..<count].contains(key) else { throw Mismatch() }
                    seen.initializeElement(at: count, to: key)
                    count += 1
                    guard try reader.consume(UInt8(ascii: ":")) else { throw Mismatch() }
                    try member(key, &reader)
                    if try reader.consume(UInt8(ascii: "}")) { return }
                    guard try reader.consume(UInt8(ascii: ",")) else { throw Mismatch() }
                }
            }
        }
    }

    /// The most members ``readObject(_:)`` takes (its duplicate check is on the stack).
    public static let maximumMembers = 64

    /// A plain key, in place.
    private mutating func readKey() throws -> JSONKey {
        guard !parser.atEnd, parser.bytes[parser.position] == UInt8(ascii: "\"") else { throw Mismatch() }
        let start = parser.position + 1
        var end = start
        while end < parser.bytes.count, parser.bytes[end] != UInt8(ascii: "\"") {
            let b = parser.bytes[end]
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { throw Mismatch() }
            end += 1
        }
        guard end < parser.bytes.count else { throw Mismatch() }
        parser.position = end + 1
        return JSONKey(bytes: UnsafeBufferPointer(rebasing: parser.bytes[start..<end]))
    }

    private mutating func nested(_ body: (inout JSONReader) throws -> Void) throws {
        guard depth < JSONParser.maximumDepth else { throw Mismatch() }
        depth += 1
        try body(&self)
        depth -= 1
    }

    /// Consumes `byte` (and the space after it) if it comes next.
    private mutating func consume(_ byte: UInt8) throws -> Bool {
        parser.skipSpace()
        guard !parser.atEnd else { throw Mismatch() }
        guard parser.bytes[parser.position] == byte else { return false }
        parser.position += 1
        parser.skipSpace()
        return true
    }
}

/// An object's key as ``JSONReader`` reads it: plain ASCII, in the text, valid while its
/// member is read. `switch key { case "name": ... }` compares it with a literal.
public struct JSONKey: Equatable {
    @usableFromInline
    let bytes: UnsafeBufferPointer<UInt8>

    /// The key as a String.
    var string: String { String(decoding: bytes, as: UTF8.self) }

    public static func == (a: JSONKey, b: JSONKey) -> Bool {
        a.bytes.count == b.bytes.count && a.bytes.elementsEqual(b.bytes)
    }

    /// Whether `key` is the literal `pattern`.
    @inlinable
    public static func ~= (pattern: StaticString, key: JSONKey) -> Bool {
        guard pattern.utf8CodeUnitCount == key.bytes.count else { return false }
        for i in 0..<key.bytes.count where pattern.utf8Start[i] != key.bytes[i] { return false }
        return true
    }
}
