/// The one JSON writer: compact text, object keys sorted (stable output for tests and
/// files), `/` unescaped, control characters as `\u00XX`.
public enum JSONWriter {
    /// `value` as compact JSON text.
    public static func text(_ value: JSON) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value`'s JSON text to `out`.
    public static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): writeNumber(n, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Members are kept sorted by key.
            for i in 0..<members.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(members.keys[i], into: &out)
                out.append(UInt8(ascii: ":"))
                write(members.values[i], into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends text that is JSON already (a generated writer's `"key":`).
    @inlinable
    public static func writeRaw(_ text: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `n` as JSON text (``JSONNumber/description``; integers without a String).
    public static func writeNumber(_ n: JSONNumber, into out: inout [UInt8]) {
        if n.text == nil, case .signed(let v) = n.storage {
            writeInteger(v, into: &out)
        } else {
            out.append(contentsOf: n.description.utf8)
        }
    }

    /// Appends `v` in decimal.
    public static func writeInteger(_ v: Int64, into out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        // At most 20 digits, written backwards into a fixed scratch and copied once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends `v` as ``JSON/double(_:)`` writes it (`null` when not finite).
    public static func writeDouble(_ v: Double, into out: inout [UInt8]) {
        if let n = JSONNumber(v) { writeNumber(n, into: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    /// Bytes `s` takes inside a JSON string literal as ``writeString(_:into:)`` writes it
    /// (without the quotes): control characters escaped take 2 or 6 bytes each.
    public static func escapedLength(_ s: String) -> Int {
        var count = 0
        for b in s.utf8 { count += escapedLength(b) }
        return count
    }

    /// Bytes one UTF-8 byte takes inside a JSON string literal.
    @inline(__always)
    public static func escapedLength(_ b: UInt8) -> Int {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: 2
        case 0x00..<0x20: 6
        default: 1
        }
    }

    /// Appends `s` as a JSON string literal.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole, scanning their bytes in place.
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
