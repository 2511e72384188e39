import Foundation
import Testing

@testable import Corpora

@Suite struct CorpusSourceTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("corpora-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ data: Data, executable: Bool = false) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        if executable { chmod(path, 0o755) }
        return path
    }

    func drain(_ source: inout some CorpusSource, chunk: Int) throws -> String {
        var text = ""
        while let c = try source.next(maximumBytes: chunk) { text += c.text }
        return text
    }

    @Test func aFileIsReadInChunksThatNeverSplitACharacter() throws {
        let text = String(repeating: "种子 seed 🙂 ", count: 3000)
        let path = try write("big.txt", Data(text.utf8))
        for size in [1, 7, 64, 4096] {
            var corpus = try FileCorpus(path: path)
            var total = ""
            while let c = try corpus.next(maximumBytes: size) {
                #expect(c.text.utf8.count <= max(size, 16) + 3)
                total += c.text
            }
            #expect(total == text)
        }
    }

    @Test func invalidUTF8IsAnError() throws {
        let path = try write("bad.txt", Data([0x61, 0x62, 0xFF, 0xFE, 0x63]))
        var corpus = try FileCorpus(path: path)
        #expect(throws: CorpusError.self) { try drain(&corpus, chunk: 100) }
    }

    @Test func aFolderIsEveryFileInOrder() throws {
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        _ = try write("b.txt", Data("second\n".utf8))
        _ = try write("a.txt", Data("first\n".utf8))
        _ = try write("sub/c.txt", Data("third\n".utf8))
        _ = try write("binary.bin", Data([0xFF, 0x00]))
        var corpus = try DirectoryCorpus(folder: folder.path)
        #expect(try drain(&corpus, chunk: 3) == "first\nsecond\nthird\n")
    }

    @Test func theShippedPluginsDescribeThemselvesAndRun() throws {
        let plugins = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("plugins").path
        let (found, problems) = PluginCatalog.scan([plugins])
        #expect(problems.isEmpty, "\(problems)")
        #expect(Set(found.keys) == ["command-output", "source-tree"])
        let tree = try #require(found["source-tree"])
        let sources = FileManager.default.temporaryDirectory.appendingPathComponent("source-tree-\(getpid())")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sources) }
        try "#include <stdio.h>\n".write(
            to: sources.appendingPathComponent("shim.h"), atomically: true, encoding: .utf8)
        try "not a header\n".write(to: sources.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        var corpus = try PluginCorpus(
            plugin: tree, parameters: ["root": sources.path, "extensions": "h"], seconds: 30, bytes: 1 << 20,
            idleSeconds: 10)
        #expect(try drain(&corpus, chunk: 100) == "// FILE: shim.h\n#include <stdio.h>\n\n")
        let command = try #require(found["command-output"])
        var echo = try PluginCorpus(
            plugin: command, parameters: ["command": "printf 'a\\nb\\n'"], seconds: 30, bytes: 1 << 20, idleSeconds: 10)
        #expect(try drain(&echo, chunk: 100) == "a\nb\n")
        #expect(throws: CorpusError.self) { try tree.arguments(["nope": "1"]) }
        #expect(throws: CorpusError.self) { try tree.arguments(["repeat": "maybe"]) }
    }

    func plugin(_ name: String, body: String) throws -> CorpusPlugin {
        let describe = #"{"name":"\#(name)","description":"test","parameters":[]}"#
        let script = "#!/bin/sh\nif [ \"$1\" = --describe ]; then echo '\(describe)'; exit 0; fi\n\(body)\n"
        return try CorpusPlugin(path: try write(name, Data(script.utf8), executable: true))
    }

    @Test func aCrashingPluginIsAnErrorWithItsStderr() throws {
        let p = try plugin("crash", body: "echo partial; echo 'it broke' >&2; exit 3")
        var corpus = try PluginCorpus(plugin: p, parameters: [:], seconds: 30, bytes: 1 << 20, idleSeconds: 10)
        let error = #expect(throws: CorpusError.self) { try drain(&corpus, chunk: 100) }
        #expect(error?.message.contains("exit status 3") == true)
        #expect(error?.message.contains("it broke") == true)
    }

    @Test func aSilentPluginIsStopped() throws {
        let p = try plugin("hang", body: "sleep 60")
        var corpus = try PluginCorpus(plugin: p, parameters: [:], seconds: 30, bytes: 1 << 20, idleSeconds: 0.3)
        let error = #expect(throws: CorpusError.self) { try drain(&corpus, chunk: 100) }
        #expect(error?.message.contains("wrote nothing") == true)
    }

    @Test func aFloodingPluginIsBoundedBySize() throws {
        let p = try plugin("flood", body: "yes flood")
        var corpus = try PluginCorpus(plugin: p, parameters: [:], seconds: 30, bytes: 100_000, idleSeconds: 10)
        let text = try drain(&corpus, chunk: 8192)
        #expect(text.utf8.count <= 100_000 && text.utf8.count > 90_000)
    }

    @Test func invalidUTF8FromAPluginIsAnError() throws {
        let p = try plugin("garbage", body: "printf 'ok \\377\\376 no'")
        var corpus = try PluginCorpus(plugin: p, parameters: [:], seconds: 30, bytes: 1 << 20, idleSeconds: 10)
        let error = #expect(throws: CorpusError.self) { try drain(&corpus, chunk: 100) }
        #expect(error?.message.contains("invalid UTF-8") == true)
    }
}
