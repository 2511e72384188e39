public import RNNJSON

/// The wire's use of RNNJSON: one line of JSON per message, Codable types through the
/// tree coders, and parse failures as JSON-RPC errors.
public enum JSONCoding {
    /// Parses one JSON text.
    ///
    /// - Throws: ``RPCError`` `-32700` saying what is wrong and where.
    public static func parse(_ bytes: [UInt8]) throws(RPCError) -> JSON {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw RPCError(.parseError, "the message is not valid JSON: \(error)")
        }
    }

    /// Parses one JSON text from any collection of bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws(RPCError) -> JSON {
        try parse(Array(bytes))
    }

    /// One line of compact JSON, without the newline; keys sorted for stable output.
    public static func line(_ value: JSON) -> String { JSONWriter.text(value) }

    /// A Codable value as a ``JSON`` value; Swift's `camelCase` names become `snake_case`.
    public static func value(_ encodable: some Encodable) -> JSON {
        (try? JSONTreeEncoder.encode(encodable)) ?? .null
    }

    /// Decodes a Codable type from a ``JSON`` value; `snake_case` names become `camelCase`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSON) throws -> T {
        try JSONTreeDecoder.decode(T.self, from: value)
    }

    /// `camelCase` as `snake_case`, for naming a parameter in a message (the conversion
    /// the wire's encoder applies to every key).
    public static func snakeCase(_ name: String) -> String { JSONTreeEncoder.snakeCase(name) }
}
