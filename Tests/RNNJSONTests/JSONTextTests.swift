import RNNJSON
import Testing

/// The one JSON parser and writer (RNNJSON, no Foundation).
@Suite struct JSONTextTests {
    func parse(_ text: String) -> JSON? { try? JSONParser.parse(text) }

    @Test func validTextParses() throws {
        let value = try #require(
            parse(#" { "a" : [1, -0.5e-3, 1E2, true, false, null], "b": "\u00e9\ud83d\ude00\n\"\\/" } "#))
        #expect(value["a"] == .array([.number(1), .number(-0.0005), .number(100), .bool(true), .bool(false), .null]))
        #expect(value["b"] == .string("é😀\n\"\\/"))
        #expect(parse("\"名字\"") == .string("名字"))
        #expect(parse(String(repeating: "[", count: 500) + String(repeating: "]", count: 500)) != nil)
    }

    @Test(arguments: [
        "", "{", "[1,]", #"{"a":1,}"#, "01", "-01", "00", #"{"a":1,"a":2}"#, "+1", "0x10", "[1 2]", "'a'", "1.", ".5",
        "-", "1e", "NaN", "1e400", "tru", "nul", #""\ud800""#,
        #""\udc00x""#, "\"a\u{1}b\"", #""\x""#, "[1] 2", "{1:2}",
        String(repeating: "[", count: 600)
            + String(repeating: "]", count: 600),
    ])
    func invalidTextIsRefused(_ text: String) {
        #expect(parse(text) == nil, "\(text.prefix(40))")
    }

    @Test func invalidUTF8IsRefused() {
        #expect((try? JSONParser.parse([0x22, 0xFF, 0x22] as [UInt8])) == nil)
        #expect((try? JSONParser.parse([0x22, 0xC3, 0x22] as [UInt8])) == nil)
    }

    @Test func writingSortsKeysEscapesAndRoundTrips() throws {
        let value: JSON = .object([
            "z": .number(3), "a": .string("q\"\\\n\u{1}/é"), "m": .array([.number(0.25), .number(-7), .null]),
            "big": .number(1e300),
        ])
        let line = JSONWriter.text(value)
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

    @Test func encodableValuesBecomeSnakeCaseTrees() throws {
        let value = try JSONTreeEncoder.encode(
            Sample(
                modelName: "m", hiddenSize: 8, stopReason: nil, lossHistory: [1.5],
                nested: .init(charactersPerSecond: 2)))
        #expect(
            value
                == .object([
                    "model_name": .string("m"), "hidden_size": .number(8), "loss_history": .array([.number(1.5)]),
                    "nested": .object(["characters_per_second": .number(2)]),
                ]))
        #expect(JSONTreeEncoder.snakeCase("charactersPerSecond") == "characters_per_second")
    }

    @Test func treesDecodeBackIntoTheirTypes() throws {
        let original = Sample(
            modelName: "m", hiddenSize: 8, stopReason: "stop", lossHistory: [1.5, 2],
            nested: .init(charactersPerSecond: 2))
        let tree = try JSONTreeEncoder.encode(original)
        let back = try JSONTreeDecoder.decode(Sample.self, from: tree)
        #expect(back.modelName == "m" && back.hiddenSize == 8 && back.stopReason == "stop")
        #expect(back.lossHistory == [1.5, 2] && back.nested.charactersPerSecond == 2)
    }

    @Test func theTreeDecoderRefusesInexactIntegers() throws {
        struct Shape: Codable { var hiddenSize: Int }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode(Shape.self, from: ["hidden_size": 10.5]) }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode(Shape.self, from: ["hidden_size": 1e20]) }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode(Shape.self, from: ["hidden_size": "8"]) }
        #expect(try JSONTreeDecoder.decode(Shape.self, from: ["hidden_size": 8.0]).hiddenSize == 8)
    }

    @Test func parseErrorsSayWhatAndWhere() {
        #expect(throws: JSONParseError(offset: 6, reason: "a number must not start with 0")) {
            try JSONParser.parse(#"{"a": 01}"#)
        }
        #expect(throws: JSONParseError(offset: 8, reason: "duplicate key \"a\"")) {
            try JSONParser.parse(#"{"a":1, "a":2}"#)
        }
    }
}
