import Testing

@testable import Corpora

/// The first samples of two seeds, pinned: a change to the generator shows here.
@Suite struct GoldenSamplesTests {
    static func firstSamples(seed: UInt64) throws -> [String] {
        var options = LearningToExecuteCorpus.Options()
        options.seed = seed
        options.samples = 3
        var corpus = try LearningToExecuteCorpus(options)
        return try #require(try corpus.next(maximumBytes: 1 << 16)).text.split(separator: "\n").map(String.init)
    }

    @Test func seedOne() throws {
        #expect(
            try Self.firstSamples(seed: 1) == [
                "j=8601;#d=(j+8571)#for x in range(12):d-=1839#print((5638+d))@742.",
                "d=1515;#print((d+717))@2232.",
                "print((6246 if 973<6992 else (6587-6329)))@6246.",
            ])
    }

    @Test func seedTwo() throws {
        #expect(
            try Self.firstSamples(seed: 2) == [
                "print(((8*7327)-721))@57895.",
                "b=8148#for x in range(13):b-=136#print(((2147 if 3625<b else 697)*5))@10735.",
                "c=9459#for x in range(12):c-=(1294-3700)#print(c)@38331.",
            ])
    }
}
