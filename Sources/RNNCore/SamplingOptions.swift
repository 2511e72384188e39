/// How to draw text from a model.
public struct SamplingOptions: Sendable, Hashable, Codable {
    /// Divides the logits; below 1 is more conservative, above 1 more varied. Must be > 0.
    public var temperature: Float
    /// Keep only the `topK` most likely symbols (nil or 0 keeps all).
    public var topK: Int?
    /// Keep the smallest set of most likely symbols whose probability reaches `topP` (nil keeps all).
    public var topP: Float?
    /// Always take the most likely symbol (greedy decoding); ignores temperature and seed.
    public var argmax: Bool
    /// Seeds the draws; the same seed, model and options give the same text.
    public var seed: UInt64
    /// Text fed through the model first to warm the hidden state; not repeated in the output.
    public var prime: String
    /// Generation stops when the text ends with one of these; the stop string is not emitted.
    public var stop: [String]
    /// Characters to produce at most.
    public var length: Int

    /// Creates options; defaults draw 200 characters at temperature 1 from a newline.
    public init(
        temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, argmax: Bool = false, seed: UInt64 = 0,
        prime: String = "", stop: [String] = [], length: Int = 200
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.argmax = argmax
        self.seed = seed
        self.prime = prime
        self.stop = stop
        self.length = length
    }

    /// Throws when an option is out of range, saying which and what is accepted.
    public func validate() throws(RNNCoreError) {
        guard temperature.isFinite, temperature > 0 else {
            throw RNNCoreError(.invalidArgument, "temperature must be a positive number, got \(temperature)")
        }
        if let k = topK, k < 0 { throw RNNCoreError(.invalidArgument, "top_k must be >= 0, got \(k)") }
        if let p = topP, !(p > 0 && p <= 1) {
            throw RNNCoreError(.invalidArgument, "top_p must be in (0, 1], got \(p)")
        }
        guard length >= 0 else { throw RNNCoreError(.invalidArgument, "length must be >= 0, got \(length)") }
        if stop.contains("") { throw RNNCoreError(.invalidArgument, "a stop string must not be empty") }
    }
}

/// Why sampling ended.
public enum StopReason: String, Sendable, Hashable, Codable {
    /// The requested length was produced.
    case length
    /// A stop string was produced.
    case stop
}
