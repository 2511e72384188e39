/// A piece of training text as a corpus hands it over.
public struct CorpusChunk: Sendable, Hashable {
    /// The text (whole UTF-8 characters).
    public var text: String
    /// One flag per Unicode scalar of `text`: whether predicting it counts in the loss
    /// (nil: every character counts). Learning-to-execute counts only the answers.
    public var lossMask: [Bool]?

    public init(text: String, lossMask: [Bool]? = nil) {
        self.text = text
        self.lossMask = lossMask
    }
}

/// A named source of UTF-8 training text, finite or endless, read incrementally.
public protocol CorpusSource: Sendable {
    /// The next chunk of about `maximumBytes` bytes (whole characters), or nil at the end.
    ///
    /// - Throws: ``CorpusError`` when the source fails (a file vanished, a plugin crashed or
    ///   wrote invalid UTF-8).
    mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk?
    /// Stops the source and frees what it holds (a plugin's process).
    mutating func close()
}

extension CorpusSource {
    public mutating func close() {}
}

/// Why a corpus failed, in a sentence that says what to do.
public struct CorpusError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
