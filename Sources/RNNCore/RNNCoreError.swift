/// The one error type RNNCore throws: a stable code, a message that says what was wrong and
/// what to do, and where it was raised.
public struct RNNCoreError: Error, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidConfiguration, invalidArgument, shapeMismatch
            case malformedCheckpoint, unsupportedCheckpoint, nonFiniteStep, vocabularyFull, stopped
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A model or training setting is out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// An argument to a call is out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// A tensor has a shape other than the one the model needs.
        public static let shapeMismatch = Code(.shapeMismatch)
        /// Checkpoint bytes are truncated or do not parse.
        public static let malformedCheckpoint = Code(.malformedCheckpoint)
        /// A checkpoint parses but asks for something this version cannot do.
        public static let unsupportedCheckpoint = Code(.unsupportedCheckpoint)
        /// A training step produced a NaN or infinite loss or gradient and was refused.
        public static let nonFiniteStep = Code(.nonFiniteStep)
        /// A vocabulary cannot grow past its configured maximum.
        public static let vocabularyFull = Code(.vocabularyFull)
        /// The caller asked a long computation to stop (its client went away).
        public static let stopped = Code(.stopped)

        /// The code as a stable lower-camel-case string.
        public var description: String { value.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what was wrong and what to do about it.
    public var message: String
    /// The source file that raised the error.
    public var file: String
    /// The source line that raised the error.
    public var line: Int

    /// Creates an error; the location defaults to the caller's.
    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(message)" }
}
