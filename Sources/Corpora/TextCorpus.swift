/// Inline text, handed out in chunks.
public struct TextCorpus: CorpusSource {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ text: String) { bytes = Array(text.utf8) }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        guard position < bytes.count else { return nil }
        let end = UTF8Boundary.cut(bytes, from: position, maximumBytes: maximumBytes)
        defer { position = end }
        return CorpusChunk(text: String(decoding: bytes[position..<end], as: UTF8.self))
    }
}

/// Cutting UTF-8 byte runs at character boundaries.
public enum UTF8Boundary {
    /// The end of a run of at most `maximumBytes` from `start` that does not split a character
    /// (at least one whole character, so progress is always made).
    public static func cut(_ bytes: [UInt8], from start: Int, maximumBytes: Int) -> Int {
        var end = min(bytes.count, start + max(4, maximumBytes))
        while end < bytes.count && end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return end
    }

    /// The length of the longest prefix of `bytes` made of whole characters.
    public static func wholePrefix(_ bytes: ArraySlice<UInt8>) -> Int {
        var start = bytes.endIndex
        while start > bytes.startIndex && bytes.endIndex - start < 4 && bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
        guard start > bytes.startIndex else { return bytes.count }
        let lead = bytes[start - 1]
        let need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return bytes.endIndex - (start - 1) >= need ? bytes.count : start - 1 - bytes.startIndex
    }
}
