/// Turns sampled tokens back into characters, one at a time.
///
/// For a byte vocabulary it assembles multi-byte UTF-8 sequences, so a Chinese character
/// sampled as three bytes comes out once, whole; a malformed sequence comes out as U+FFFD.
public struct TokenDecoder: Sendable {
    private let vocabulary: Vocabulary
    private var pending: (value: UInt32, remaining: Int) = (0, 0)

    /// A decoder for `vocabulary`.
    public init(_ vocabulary: Vocabulary) { self.vocabulary = vocabulary }

    /// Feeds one token; returns the scalar it completes, if any.
    public mutating func decode(_ token: Int32) -> Unicode.Scalar? {
        guard vocabulary.kind == .bytes else {
            let i = Int(token)
            // Index 0 is U+FFFD in vocabularies rnnd makes, and a real character in one from PyTorch.
            return i >= 0 && i < vocabulary.scalars.count ? vocabulary.scalars[i] : Vocabulary.unknownScalar
        }
        let byte = UInt32(UInt8(truncatingIfNeeded: token))
        if pending.remaining > 0 {
            if byte & 0xC0 == 0x80 {
                pending.value = pending.value << 6 | (byte & 0x3F)
                pending.remaining -= 1
                if pending.remaining == 0 { return Unicode.Scalar(pending.value) ?? Vocabulary.unknownScalar }
                return nil
            }
            // A lead byte cut the sequence short: the broken sequence is lost; start anew.
            pending = (0, 0)
        }
        switch byte {
        case 0..<0x80: return Unicode.Scalar(byte)
        case 0xC2..<0xE0: pending = (byte & 0x1F, 1)
        case 0xE0..<0xF0: pending = (byte & 0x0F, 2)
        case 0xF0..<0xF5: pending = (byte & 0x07, 3)
        default: return Vocabulary.unknownScalar
        }
        return nil
    }
}
