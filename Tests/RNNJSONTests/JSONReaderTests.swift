import Testing

@testable import RNNJSON

/// The piecewise reader is the one parser's scanner: it accepts what the parser accepts.
@Suite struct JSONReaderTests {
    /// The text read as the generated decoders read it: objects and arrays piecewise, every
    /// other value through `readValue`, rebuilt as a tree.
    static func readPiecewise(_ reader: inout JSONReader) throws -> JSON {
        if try reader.readNull() { return .null }
        switch reader.nextByte {
        case UInt8(ascii: "{"):
            var object = JSONObject()
            try reader.readObject { key, reader in object[key.string] = try readPiecewise(&reader) }
            return .object(object)
        case UInt8(ascii: "["):
            var array: [JSON] = []
            try reader.readArray { array.append(try readPiecewise(&$0)) }
            return .array(array)
        default:
            return try reader.readValue()
        }
    }

    func piecewise(_ text: String) -> JSON? {
        try? JSONReader.read(Array(text.utf8)) { try Self.readPiecewise(&$0) }
    }

    @Test(arguments: [
        #" { "a" : [1, -0.5e-3, 1E2, true, false, null], "b": "\u00e9\ud83d\ude00\n\"\\/" } "#, "[]", "{}", "[[],{}]",
        #"{"x":{"y":[{"z":"w"}]},"n":18446744073709551615}"#, "3", #""s""#, "null",
    ])
    func acceptsWhatTheParserAccepts(_ text: String) throws {
        #expect(piecewise(text) == (try JSONParser.parse(text)))
    }

    @Test(arguments: [
        "", "{", "[1,]", #"{"a":1,}"#, "01", #"{"a":1,"a":2}"#, "[1 2]", #"{"a" 1}"#, #"{"a":1 "b":2}"#, "[1] 2",
        "{1:2}", #"{"a":[1,2}"#, #"{"a":01}"#, #"{"a":"\x"}"#, "[tru]",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ])
    func refusesWhatTheParserRefuses(_ text: String) {
        #expect((try? JSONParser.parse(text)) == nil)
        #expect(piecewise(text) == nil, "\(text.prefix(40))")
    }

    @Test func keysThatAreNotPlainAreLeftToTheTree() {
        // Valid JSON the tree reads; the piecewise reader declines rather than decode keys.
        for text in [#"{"\u0061":1}"#, #"{"é":1}"#, "{" + (0..<65).map { "\"k\($0)\":0" }.joined(separator: ",") + "}"]
        {
            #expect((try? JSONParser.parse(text)) != nil)
            #expect(piecewise(text) == nil, "\(text.prefix(40))")
        }
    }

    @Test func typedReadsMismatchOtherKinds() {
        #expect((try? JSONReader.read(Array("1".utf8)) { try $0.readString() }) == nil)
        #expect((try? JSONReader.read(Array("\"1\"".utf8)) { try $0.readNumber() }) == nil)
        #expect((try? JSONReader.read(Array("null".utf8)) { try $0.readBool() }) == nil)
        #expect((try? JSONReader.read(Array(" true ".utf8)) { try $0.readBool() }) == true)
        #expect((try? JSONReader.read(Array("-12".utf8)) { try $0.readNumber() }) == JSONNumber(-12))
    }
}
