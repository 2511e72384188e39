import RNNProtocol
import Testing

/// The wire's JSON parser, writer and tree encoder (RNNProtocol's own, not Foundation's).
@Suite struct JSONCodingTests {
    func parse(_ text: String) -> JSON? { try? JSONCoding.parse(Array(text.utf8)) }

    @Test func validTextParses() throws {
        let value = try #require(
            parse(#" { "a" : [1, -0.5e-3, 1E2, true, false, null], "b": "\u00e9\ud83d\ude00\n\"\\/" } "#))
        #expect(value["a"] == .array([.number(1), .number(-0.0005), .number(100), .bool(true), .bool(false), .null]))
        #expect(value["b"] == .string("é😀\n\"\\/"))
        #expect(parse("\"名字\"") == .string("名字"))
        #expect(parse(String(repeating: "[", count: 500) + String(repeating: "]", count: 500)) != nil)
    }

    @Test(arguments: [
        "", "{", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "-", "1e", "NaN", "1e400", "tru", "nul", #""\ud800""#,
        #""\udc00x""#, "\"a\u{1}b\"", #""\x""#, "[1] 2", "{1:2}",
        String(repeating: "[", count: 600)
            + String(repeating: "]", count: 600),
    ])
    func invalidTextIsRefused(_ text: String) {
        #expect(parse(text) == nil, "\(text.prefix(40))")
    }

    @Test func invalidUTF8IsRefused() {
        #expect((try? JSONCoding.parse([0x22, 0xFF, 0x22])) == nil)
        #expect((try? JSONCoding.parse([0x22, 0xC3, 0x22])) == nil)
    }

    @Test func writingSortsKeysEscapesAndRoundTrips() throws {
        let value: JSON = .object([
            "z": .number(3), "a": .string("q\"\\\n\u{1}/é"), "m": .array([.number(0.25), .number(-7), .null]),
            "big": .number(1e300),
        ])
        let line = JSONCoding.line(value)
        #expect(line.hasPrefix(#"{"a":"q\"\\\n\u0001/é","big":1e+300,"m":[0.25,-7,null],"z":3}"#))
        #expect(parse(line) == value)
    }

    struct Sample: Codable {
        var modelName: String
        var hiddenSize: Int
        var stopReason: String?
        var lossHistory: [Double]
        var nested: Inner
        struct Inner: Codable { var charactersPerSecond: Double }
    }

    @Test func encodableValuesBecomeSnakeCaseTrees() {
        let value = JSONCoding.value(
            Sample(
                modelName: "m", hiddenSize: 8, stopReason: nil, lossHistory: [1.5],
                nested: .init(charactersPerSecond: 2)))
        #expect(
            value
                == .object([
                    "model_name": .string("m"), "hidden_size": .number(8), "loss_history": .array([.number(1.5)]),
                    "nested": .object(["characters_per_second": .number(2)]),
                ]))
        #expect(JSONCoding.snakeCase("charactersPerSecond") == "characters_per_second")
    }
}
