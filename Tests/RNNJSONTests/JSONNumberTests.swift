import RNNJSON
import Testing

/// Numbers keep what was written: 64-bit integers exactly, decimals as Doubles.
@Suite struct JSONNumberTests {
    @Test(arguments: [
        "9007199254740993", "-9007199254740993", "9223372036854775807", "-9223372036854775808",
        "18446744073709551615", "0", "-1",
    ])
    func integersRoundTripExactly(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.text(value) == text)
    }

    @Test func integersBeyondTwoToTheFiftyThreeStayDistinct() throws {
        let a = try JSONParser.parse("9007199254740993")
        let b = try JSONParser.parse("9007199254740992")
        #expect(a != b)
        #expect(a.intValue == 9_007_199_254_740_993)
        #expect(Set([a, b]).count == 2)
    }

    @Test func equalValuesCompareAndHashAlike() throws {
        let integer = try JSONParser.parse("10")
        let decimal = try JSONParser.parse("10.0")
        #expect(integer == decimal)
        #expect(Set([integer, decimal]).count == 1)
        #expect(try JSONParser.parse("1e1") == integer)
    }

    @Test func exactConversionsRefuseWhatDoesNotFit() throws {
        #expect(try JSONParser.parse("10.5").intValue == nil)
        #expect(try JSONParser.parse("1e20").intValue == nil)
        #expect(try JSONParser.parse("9223372036854775808").intValue == nil)
        #expect(try JSONParser.parse("18446744073709551615").numberValue == 18_446_744_073_709_551_615)
        #expect(try JSONParser.parse("-0").intValue == 0)
    }

    @Test func decimalsWriteInTheirShortestForm() {
        #expect(JSONWriter.text(.double(0.1)) == "0.1")
        #expect(JSONWriter.text(.double(2)) == "2")
        #expect(JSONWriter.text(.double(1e20)) == "1e+20")
        #expect(JSONWriter.text(.double(.infinity)) == "null")
        #expect(JSONWriter.text(.integer(UInt64.max)) == "18446744073709551615")
    }
}
