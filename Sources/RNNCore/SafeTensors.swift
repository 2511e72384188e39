import RNNJSON

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
/// An optional `__metadata__` object maps strings to strings.
public struct SafeTensors: Sendable {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Hashable {
        /// `F32`, `F64`, `F16`, `BF16`, `I64`, ...
        public var dtype: String
        /// The shape, outermost first.
        public var shape: [Int]
        /// Byte range within the data section.
        public var range: Range<Int>
    }

    /// Tensors by name.
    public private(set) var entries: [String: Entry]
    /// The `__metadata__` strings.
    public private(set) var metadata: [String: String]
    private let data: [UInt8]

    /// Bytes per element of the dtypes this reader understands.
    static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    /// The largest header accepted (the reference implementation's limit is 100 MB).
    public static let maximumHeaderSize = 100_000_000

    /// Parses and validates a whole file.
    ///
    /// - Throws: ``RNNCoreError`` `.malformedCheckpoint` naming what is wrong: a truncated
    ///   file, a bad header, a byte range outside the data or not matching dtype and shape.
    public init(parsing bytes: [UInt8]) throws(RNNCoreError) {
        func bad(_ what: String) -> RNNCoreError {
            RNNCoreError(.malformedCheckpoint, "not a valid safetensors file: \(what)")
        }
        guard bytes.count >= 8 else { throw bad("\(bytes.count) bytes is shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n <= UInt64(Self.maximumHeaderSize), Int(n) <= bytes.count - 8 else {
            throw bad("the header claims \(n) bytes but the file has \(bytes.count - 8) after the length (truncated?)")
        }
        let headerEnd = 8 + Int(n)
        let header: JSON
        do { header = try JSONParser.parse(bytes[8..<headerEnd]) } catch {
            throw bad("the header is not JSON: \(error)")
        }
        guard let members = header.objectValue else { throw bad("the header is not a JSON object") }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        let dataCount = bytes.count - headerEnd
        var covered = 0
        for (name, value) in members {
            if name == "__metadata__" {
                guard let pairs = value.objectValue else { throw bad("__metadata__ is not an object") }
                for (k, v) in pairs {
                    guard let s = v.stringValue else { throw bad("__metadata__ value '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let dtype = value["dtype"]?.stringValue, let size = Self.elementSizes[dtype] else {
                throw bad("tensor '\(name)' has a missing or unknown dtype")
            }
            guard let shape = value["shape"]?.arrayValue?.compactMap({ $0.intValue }),
                shape.count == value["shape"]?.arrayValue?.count,
                shape.allSatisfy({ $0 >= 0 && $0 < 1_000_000_000_000 })
            else { throw bad("tensor '\(name)' has an invalid shape") }
            guard let offsets = value["data_offsets"]?.arrayValue?.compactMap({ $0.intValue }), offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataCount
            else { throw bad("tensor '\(name)' has data offsets outside the \(dataCount) data bytes (truncated?)") }
            let range = offsets[0]..<offsets[1]
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: size) == (range.count, false) else {
                throw bad(
                    "tensor '\(name)' has \(range.count) bytes but shape \(shape) of \(dtype) needs \(elements * size)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: range)
            covered += range.count
        }
        guard covered == dataCount else {
            throw bad("the tensors cover \(covered) bytes but the data section has \(dataCount)")
        }
        self.entries = entries
        self.metadata = metadata
        self.data = Array(bytes[headerEnd...])
    }

    /// The tensor `name` as Float values (F32 as is; F64, F16 and BF16 converted), row-major.
    ///
    /// - Throws: ``RNNCoreError`` when there is no such tensor or its dtype is not a float.
    public func floats(_ name: String) throws(RNNCoreError) -> [Float] {
        guard let e = entries[name] else {
            throw RNNCoreError(.malformedCheckpoint, "the file has no tensor named '\(name)'")
        }
        guard ["F32", "F64", "BF16", "F16"].contains(e.dtype) else {
            throw RNNCoreError(.unsupportedCheckpoint, "tensor '\(name)' is \(e.dtype), not a floating-point type")
        }
        let count = e.shape.reduce(1, *)
        return data.withUnsafeBytes { raw -> [Float] in
            let base = raw.baseAddress! + e.range.lowerBound
            switch e.dtype {
            case "F32":
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            case "F64":
                return (0..<count).map {
                    Float(
                        Double(
                            bitPattern: UInt64(
                                littleEndian: base.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
                }
            case "BF16":
                return (0..<count).map {
                    Float(
                        bitPattern: UInt32(
                            UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
                }
            default:
                return (0..<count).map {
                    Float(
                        Float16(
                            bitPattern: UInt16(
                                littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))
                }
            }
        }
    }

    /// Serializes F32 tensors and metadata (data in the given order, header keys sorted), with the header padded with
    /// spaces to a multiple of 8 bytes as the reference writer does.
    public static func serialize(tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String])
        -> [UInt8]
    {
        var members: JSONObject = [:]
        if !metadata.isEmpty { members["__metadata__"] = .object(JSONObject(metadata.mapValues { JSON.string($0) })) }
        var offset = 0
        for t in tensors {
            precondition(
                t.shape.reduce(1, *) == t.values.count, "shape \(t.shape) does not match \(t.values.count) values")
            let end = offset + 4 * t.values.count
            members[t.name] = [
                "dtype": "F32", "shape": .array(t.shape.map { .integer($0) }),
                "data_offsets": [.integer(offset), .integer(end)],
            ]
            offset = end
        }
        var header = Array(JSONWriter.text(.object(members)).utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let n = UInt64(header.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(k)))) }
        out.append(contentsOf: header)
        for t in tensors {
            for v in t.values {
                let bits = v.bitPattern
                out.append(UInt8(truncatingIfNeeded: bits))
                out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return out
    }
}
