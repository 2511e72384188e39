/// Maps text to token indices and back.
///
/// - `bytes`: 256 symbols, the UTF-8 bytes of any input; nothing is ever unknown.
/// - `characters`: the Unicode scalars of a corpus, with index 0 the unknown slot that any
///   unseen scalar maps to. It can grow: new scalars are appended at the end.
public struct Vocabulary: Sendable, Hashable {
    /// Which kind of symbols the vocabulary holds.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// UTF-8 bytes.
        case bytes
        /// Unicode scalars plus an unknown slot.
        case characters
    }

    /// The kind of symbols.
    public let kind: Kind
    /// For `characters`, the scalar of each index (index 0, the unknown slot, holds U+FFFD).
    public private(set) var scalars: [Unicode.Scalar]
    private var index: [Unicode.Scalar: Int32]

    /// The scalar that stands for the unknown slot.
    public static let unknownScalar: Unicode.Scalar = "\u{FFFD}"

    /// The 256-symbol byte vocabulary.
    public static let bytes = Vocabulary(kind: .bytes, scalars: [], index: [:])

    private init(kind: Kind, scalars: [Unicode.Scalar], index: [Unicode.Scalar: Int32]) {
        self.kind = kind
        self.scalars = scalars
        self.index = index
    }

    /// A character vocabulary of the distinct scalars of `text`, sorted, after the unknown slot.
    public init(charactersOf text: String) {
        let distinct = Set(text.unicodeScalars).subtracting([Self.unknownScalar])
        self.init(restoring: [Self.unknownScalar] + distinct.sorted { $0.value < $1.value })
    }

    /// A character vocabulary with exactly these scalars; unseen scalars map to index 0, which
    /// is U+FFFD in vocabularies rnnd makes (one from elsewhere, such as PyTorch's
    /// `sorted(set(text))`, lends its first character to the unknown).
    public init(restoring scalars: [Unicode.Scalar]) {
        var index: [Unicode.Scalar: Int32] = [:]
        for (i, s) in scalars.enumerated() where s != Self.unknownScalar && index[s] == nil { index[s] = Int32(i) }
        self.init(kind: .characters, scalars: scalars.isEmpty ? [Self.unknownScalar] : scalars, index: index)
    }

    /// Number of symbols (the model's vocabulary size).
    public var count: Int { kind == .bytes ? 256 : scalars.count }

    /// The tokens of `text`; unseen scalars become the unknown slot (0).
    public func encode(_ text: String) -> [Int32] {
        switch kind {
        case .bytes: return text.utf8.map { Int32($0) }
        case .characters: return text.unicodeScalars.map { index[$0] ?? 0 }
        }
    }

    /// The token of one scalar (for `bytes`, of its first UTF-8 byte; use ``encode(_:)``).
    public func token(of scalar: Unicode.Scalar) -> Int32 {
        kind == .bytes ? Int32(UTF8.encode(scalar).map { $0 }?.first ?? 0) : (index[scalar] ?? 0)
    }

    /// Whether `scalar` has a slot of its own.
    public func contains(_ scalar: Unicode.Scalar) -> Bool {
        kind == .bytes || index[scalar] != nil
    }

    /// The scalars of `text` that have no slot yet, in order of first appearance.
    public func unseenScalars(in text: String) -> [Unicode.Scalar] {
        guard kind == .characters else { return [] }
        var seen = Set<Unicode.Scalar>()
        return text.unicodeScalars.filter { !contains($0) && $0 != Self.unknownScalar && seen.insert($0).inserted }
    }

    /// Appends `newScalars` (those not already present) at the end.
    ///
    /// - Throws: ``RNNCoreError`` `.vocabularyFull` when the result would exceed `limit`.
    public mutating func grow(with newScalars: [Unicode.Scalar], limit: Int) throws(RNNCoreError) {
        guard kind == .characters else { return }
        let fresh = newScalars.filter { !contains($0) && $0 != Self.unknownScalar }
        guard scalars.count + fresh.count <= limit else {
            throw RNNCoreError(
                .vocabularyFull,
                "adding \(fresh.count) characters would take the vocabulary past its maximum of \(limit); "
                    + "raise the maximum or the new characters stay unknown")
        }
        for s in fresh where index[s] == nil {
            index[s] = Int32(scalars.count)
            scalars.append(s)
        }
    }
}
