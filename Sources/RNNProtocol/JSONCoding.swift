public import Foundation

/// JSON text to and from ``JSON`` values and Codable types, one line per message.
public enum JSONCoding {
    /// Parses one JSON text.
    ///
    /// - Throws: ``RPCError`` `-32700` when the bytes are not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) throws(RPCError) -> JSON {
        do {
            return try JSONText.parse(bytes)
        } catch {
            throw RPCError(.parseError, "the message is not valid JSON (or nests deeper than \(JSONText.maximumDepth))")
        }
    }

    /// One line of compact JSON, without the newline; keys sorted for stable output.
    public static func line(_ value: JSON) -> String {
        JSONText.write(value)
    }

    /// A Codable value as a ``JSON`` value; Swift's `camelCase` names become `snake_case`.
    public static func value(_ encodable: some Encodable) -> JSON {
        (try? JSONTreeEncoder.encode(encodable)) ?? .null
    }

    /// Decodes a Codable type from a ``JSON`` value; `snake_case` names become `camelCase`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSON) throws -> T {
        let data = try JSONEncoder().encode(value)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: data)
    }

    /// `camelCase` as `snake_case`, for naming a parameter in a message (the conversion
    /// the wire's encoder applies to every key).
    public static func snakeCase(_ name: String) -> String { JSONTreeEncoder.snakeCase(name) }
}
