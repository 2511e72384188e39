/// Parameters of a method: Codable, with their wire names in declaration order so that
/// by-position arrays map onto them and unknown names are refused.
public protocol RPCParams: Codable, Sendable {
    /// Wire names of every parameter, in order.
    static var fields: [String] { get }
}

/// A method without parameters.
public struct NoParams: RPCParams {
    public static let fields: [String] = []
    public init() {}
}

extension RPCParams {
    /// Decodes `params` (an object, an array in ``fields`` order, or absent).
    ///
    /// - Throws: ``RPCError`` `-32602` naming the unknown, missing or mistyped parameter.
    public static func decode(_ params: JSON?) throws(RPCError) -> Self {
        var object: [String: JSON]
        switch params {
        case nil, .null?: object = [:]
        case .object(let o)?: object = o
        case .array(let a)?:
            guard a.count <= fields.count else {
                throw RPCError(
                    .invalidParams,
                    "expected at most \(fields.count) positional parameters (\(fields.joined(separator: ", "))), got \(a.count)"
                )
            }
            object = Dictionary(uniqueKeysWithValues: zip(fields, a))
        default:
            throw RPCError(.invalidParams, "params must be an object or an array")
        }
        for key in object.keys.sorted() where !fields.contains(key) {
            throw RPCError(
                .invalidParams,
                "unknown parameter \"\(key)\"; this method takes: \(fields.isEmpty ? "none" : fields.joined(separator: ", "))",
                details: ["parameter": .string(key)])
        }
        do {
            return try JSONCoding.decode(Self.self, from: .object(object))
        } catch let DecodingError.keyNotFound(key, _) {
            throw RPCError(
                .invalidParams, "missing parameter \"\(JSONCoding.snakeCase(key.stringValue))\"",
                details: ["parameter": .string(key.stringValue)])
        } catch let DecodingError.typeMismatch(type, context) {
            let name = context.codingPath.map { JSONCoding.snakeCase($0.stringValue) }.joined(separator: ".")
            throw RPCError(
                .invalidParams, "parameter \"\(name)\" must be \(Self.describe(type))",
                details: ["parameter": .string(name)])
        } catch let DecodingError.valueNotFound(type, context) {
            let name = context.codingPath.map { JSONCoding.snakeCase($0.stringValue) }.joined(separator: ".")
            throw RPCError(
                .invalidParams, "parameter \"\(name)\" must be \(Self.describe(type)), not null",
                details: ["parameter": .string(name)])
        } catch let DecodingError.dataCorrupted(context) {
            let name = context.codingPath.map { JSONCoding.snakeCase($0.stringValue) }.joined(separator: ".")
            throw RPCError(
                .invalidParams, "parameter \"\(name)\": \(context.debugDescription)",
                details: ["parameter": .string(name)])
        } catch {
            throw RPCError(.invalidParams, "invalid parameters: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Int", "Int64", "UInt64", "Int32": return "an integer"
        case "Double", "Float": return "a number"
        case "Bool": return "true or false"
        case _ where name.hasPrefix("Array"): return "an array"
        default: return "a \(name)"
        }
    }
}
