/// Why a text is not JSON, and where.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The byte offset where parsing stopped.
    public var offset: Int
    /// What was wrong there.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// The one JSON parser (RFC 8259, strictly): UTF-8 validated, no leading zeros, no
/// duplicate keys, no trailing commas, nesting limited so hostile input cannot exhaust the
/// stack. Integers are kept exactly (``JSONNumber``).
public enum JSONParser {
    /// Deeper nesting than this is refused.
    public static let maximumDepth = 512

    /// Parses one JSON text (surrounding whitespace allowed). Not generic, so callers in
    /// other modules get the specialized parser.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSON in try parse(buffer: buffer) }
    }

    /// Parses one JSON text from any collection of bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSON {
        let direct = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(buffer: buffer) }
        }
        if let direct { return try direct.get() }
        return try Array(bytes).withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSON in
            try parse(buffer: buffer)
        }
    }

    /// Parses one JSON text held in a String.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8))
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSON {
        var parser = Parser(bytes: buffer)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == buffer.count else { throw parser.fail("text after the JSON value") }
        return value
    }
}

@usableFromInline
struct Parser {
    @usableFromInline
    let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline
    var position = 0
    /// The members of the objects being read, innermost last, with where each key began.
    var keys: [String] = []
    var values: [JSON] = []
    var keyOffsets: [Int] = []

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: position, reason: reason) }

    @usableFromInline
    var atEnd: Bool { position >= bytes.count }

    @usableFromInline
    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
        guard !atEnd, bytes[position] == byte else { throw fail("expected \(what)") }
        position += 1
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSON {
        guard depth < JSONParser.maximumDepth else { throw fail("nesting deeper than \(JSONParser.maximumDepth)") }
        guard !atEnd else { throw fail("unexpected end of text") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), 0x30...0x39: return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSON) throws(JSONParseError) -> JSON {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end of text") }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] { throw fail("unknown literal") }
        position += count
        return value
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSON {
        position += 1
        skipSpace()
        if !atEnd, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(JSONObject())
        }
        // Members gather on stacks shared by every object of the text; each object then takes
        // exactly its own (two allocations, no regrowth).
        let base = keys.count
        defer {
            keys.removeSubrange(base...)
            values.removeSubrange(base...)
            keyOffsets.removeSubrange(base...)
        }
        while true {
            skipSpace()
            guard !atEnd, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = position
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipSpace()
            // Pushed together after the value, whose own members come and go above them.
            let member = try value(depth: depth + 1)
            keys.append(key)
            values.append(member)
            keyOffsets.append(keyOffset)
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of text in an object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(try collect(from: base))
            } else {
                throw fail("expected ',' or '}' in an object")
            }
        }
    }

    /// The object of the members gathered from `base` on.
    private func collect(from base: Int) throws(JSONParseError) -> JSONObject {
        let keys = Array(keys[base...])
        return try JSONObject(gathered: keys, Array(values[base...])) { i in
            JSONParseError(offset: keyOffsets[base + i], reason: "duplicate key \"\(keys[i].prefix(64))\"")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSON {
        position += 1
        var elements: [JSON] = []
        skipSpace()
        if !atEnd, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipSpace()
            elements.append(try value(depth: depth + 1))
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of text in an array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw fail("expected ',' or ']' in an array")
            }
        }
    }

    mutating func digits() -> Int {
        let start = position
        while !atEnd, (0x30...0x39).contains(bytes[position]) { position += 1 }
        return position - start
    }

    mutating func number() throws(JSONParseError) -> JSONNumber {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0 else { throw fail("expected a digit") }
        guard integerDigits == 1 || bytes[integerStart] != 0x30 else {
            throw JSONParseError(offset: integerStart, reason: "a number must not start with 0")
        }
        var integral = true
        if !atEnd, bytes[position] == UInt8(ascii: ".") {
            position += 1
            integral = false
            guard digits() > 0 else { throw fail("expected a digit after '.'") }
        }
        if !atEnd, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            integral = false
            if !atEnd, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw fail("expected a digit in the exponent") }
        }
        if integral, position - integerStart <= 18 {
            // Up to 18 digits fit an Int64 whatever they are: no text, no overflow checks.
            var v: Int64 = 0
            for i in integerStart..<position { v = v * 10 + Int64(bytes[i] - 0x30) }
            return JSONNumber(storage: .signed(bytes[start] == UInt8(ascii: "-") ? -v : v))
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if integral {
            if let v = Int64(text) { return JSONNumber(storage: .signed(v)) }
            if let v = UInt64(text) { return JSONNumber(storage: .unsigned(v)) }
        }
        guard let v = Double(text), v.isFinite else {
            throw JSONParseError(offset: start, reason: "a number out of the range of a 64-bit float")
        }
        return JSONNumber(storage: .decimal(v), text: text)
    }

    mutating func string() throws(JSONParseError) -> String {
        position += 1
        // Most strings have no escape: validate them straight from the input.
        var end = position
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20
        {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[position..<end])
            let text: String
            if slice.allSatisfy({ $0 < 0x80 }) {
                text = String(decoding: slice, as: UTF8.self)  // ASCII is valid UTF-8
            } else {
                guard let valid = String(validating: slice, as: UTF8.self) else {
                    throw fail("a string is not valid UTF-8")
                }
                text = valid
            }
            position = end + 1
            return text
        }
        var out: [UInt8] = []
        var start = position
        while true {
            guard !atEnd else { throw fail("unterminated string") }
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
                position += 1
                break
            }
            if b < 0x20 { throw fail("a control character in a string (escape it)") }
            if b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
                position += 1
                try escape(into: &out)
                start = position
                continue
            }
            position += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
        return text
    }

    mutating func escape(into out: inout [UInt8]) throws(JSONParseError) {
        guard !atEnd else { throw fail("unterminated escape") }
        let c = bytes[position]
        position += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by its low half.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw fail("a lone high surrogate") }
                position += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("a high surrogate without its low half") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw fail("a lone low surrogate")
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
            out.append(contentsOf: String(Character(u)).utf8)
        default: throw fail("an unknown escape")
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("a \\u escape needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("a \\u escape needs four hex digits")
            }
            position += 1
            v = v << 4 | UInt32(d)
        }
        return v
    }
}
