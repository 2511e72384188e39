import Foundation
import Testing

@testable import RNNService

/// The feed spool on its own, on real files: absolute positions, compaction, reopening
/// after a crash between compaction's two steps, and a deleted model's folder.
@Suite struct FeedSpoolTests {
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    @Test func positionsAreAbsoluteAcrossCompaction() throws {
        var spool = FeedSpool(folder: folder)
        #expect(try spool.append(Array("hello ".utf8)) == 6)
        #expect(try spool.append(Array("world".utf8)) == 11)
        #expect(try spool.read(from: 3, limit: 5) == Array("lo wo".utf8))
        try spool.compact(upTo: 6)
        #expect(spool.base == 6 && spool.end == 11)
        #expect(try spool.read(from: 0, limit: 100) == Array("world".utf8))  // before base: from base
        #expect(try spool.append(Array("!".utf8)) == 12)
        let reopened = FeedSpool(folder: folder)
        #expect(reopened.base == 6 && reopened.end == 12)
        #expect(try reopened.read(from: 6, limit: 100) == Array("world!".utf8))
    }

    @Test func reopeningKeepsTheNewestFileAfterACrashMidCompaction() throws {
        // Compaction writes the new file, then removes the old: a crash between leaves both.
        try Data("abcdef".utf8).write(to: URL(fileURLWithPath: folder + "/spool-0.txt"))
        try Data("def".utf8).write(to: URL(fileURLWithPath: folder + "/spool-3.txt"))
        let spool = FeedSpool(folder: folder)
        #expect(spool.base == 3 && spool.end == 6)
        #expect(!FileManager.default.fileExists(atPath: folder + "/spool-0.txt"))
        #expect(try spool.read(from: 3, limit: 10) == Array("def".utf8))
    }

    @Test func aDeletedModelsSpoolRefusesAndIsNotRecreated() throws {
        var spool = FeedSpool(folder: folder)
        try FileManager.default.removeItem(atPath: folder)
        #expect(throws: ServiceError.self) { try spool.append(Array("x".utf8)) }
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    @Test func compactionOutsideTheSpoolChangesNothing() throws {
        var spool = FeedSpool(folder: folder)
        _ = try spool.append(Array("abc".utf8))
        try spool.compact(upTo: 10)
        try spool.compact(upTo: 0)
        #expect(spool.base == 0 && spool.end == 3)
    }
}
