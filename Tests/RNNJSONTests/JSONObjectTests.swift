import Testing

@testable import RNNJSON

/// Objects keep their keys sorted: members in any order, nested, duplicated or hostile in
/// number come out right.
@Suite struct JSONObjectTests {
    @Test func membersInAnyOrderAreFoundAndWrittenSorted() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":{"z":null,"y":[{"d":2,"c":3}]},"c":"x"}"#)
        #expect(value["a"]?["z"] == .null)
        #expect(value["a"]?["missing"] == nil, "an absent key is nil, not null")
        #expect(value["a"]?["y"]?.arrayValue?.first?["c"] == 3)
        #expect(JSONWriter.text(value) == #"{"a":{"y":[{"c":3,"d":2}],"z":null},"b":1,"c":"x"}"#)
    }

    @Test func aDuplicateAnywhereIsRefusedWhereItStands() {
        #expect(throws: JSONParseError(offset: 13, reason: "duplicate key \"b\"")) {
            try JSONParser.parse(#"{"b":1,"a":2,"b":3}"#)
        }
        #expect(throws: JSONParseError(offset: 12, reason: "duplicate key \"x\"")) {
            try JSONParser.parse(#"{"o":{"x":1,"x":2}}"#)
        }
    }

    @Test func aHostileObjectOfManyKeysInDescendingOrderParses() throws {
        // 60,000 keys, each inserted at the front were they inserted one by one: sorted once
        // instead (inserting was quadratic, minutes for a 1 MiB line).
        let count = 60_000
        let text = "{" + (0..<count).map { "\"k\(count - $0)\":\($0)" }.joined(separator: ",") + "}"
        let object = try #require(try JSONParser.parse(text).objectValue)
        #expect(object.count == count)
        #expect(object["k1"] == .integer(count - 1) && object["k\(count)"] == 0)
        #expect(object.keys == object.keys.sorted())
    }

    @Test func literalsAndPairsKeepTheLastOfARepeatedKey() {
        let object = JSONObject([("b", 1), ("a", 2), ("b", 3)])
        #expect(object.keys == ["a", "b"] && object["b"] == 3)
        var edited: JSONObject = ["x": 1]
        edited["w"] = 0
        edited["x"] = nil
        #expect(edited.keys == ["w"] && edited.count == 1)
    }
}
