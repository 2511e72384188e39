public import Foundation

/// JSON text to and from ``JSON`` values and Codable types, one line per message.
public enum JSONCoding {
    /// Parses one JSON text.
    ///
    /// - Throws: ``RPCError`` `-32700` when the bytes are not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) throws(RPCError) -> JSON {
        do {
            return try JSONDecoder().decode(JSON.self, from: Data(bytes))
        } catch {
            throw RPCError(.parseError, "the message is not valid JSON")
        }
    }

    /// One line of compact JSON, without the newline; keys sorted for stable output.
    public static func line(_ value: JSON) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A Codable value as a ``JSON`` value; Swift's `camelCase` names become `snake_case`.
    public static func value(_ encodable: some Encodable) -> JSON {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(encodable), let v = try? JSONDecoder().decode(JSON.self, from: data)
        else { return .null }
        return v
    }

    /// Decodes a Codable type from a ``JSON`` value; `snake_case` names become `camelCase`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSON) throws -> T {
        let data = try JSONEncoder().encode(value)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: data)
    }

    /// `camelCase` as `snake_case`, for naming a parameter in a message.
    public static func snakeCase(_ name: String) -> String {
        var out = ""
        for ch in name {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
