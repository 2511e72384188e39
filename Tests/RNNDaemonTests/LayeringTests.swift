import Foundation
import Testing

/// The module map of the README, checked on the sources: each module imports only the
/// modules its layer allows (third-party and system modules aside).
struct LayeringTests {
    /// For each first-party module, the first-party modules it may import.
    static let allowed: [String: Set<String>] = [
        "RNNJSON": [],
        "RNNCore": ["RNNJSON", "RNNKernels"],
        "Corpora": ["RNNCore", "RNNJSON"],
        "RNNProtocol": ["RNNJSON"],
        "RNNServer": ["RNNJSON", "RNNProtocol"],
        "RNNClient": ["RNNJSON", "RNNProtocol"],
        "RNNService": ["RNNCore", "RNNJSON", "Corpora", "CLinux"],
        "RNNDaemon": ["RNNCore", "RNNJSON", "Corpora", "RNNProtocol", "RNNServer", "RNNService", "CSystemd", "CLinux"],
        "rnnctl": ["RNNClient", "RNNJSON", "RNNProtocol"],
    ]
    /// Every first-party module name.
    static let firstParty: Set<String> = Set(allowed.keys).union([
        "RNNKernels", "CLinux", "CSystemd", "rnnd", "rnnbench", "rnnd-fuzz",
    ])
    /// Modules that know no sockets: not even NIO's.
    static let socketFree: Set<String> = ["RNNCore", "Corpora", "RNNService", "RNNJSON"]

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

    /// The modules each Swift file of `module` imports.
    static func imports(of module: String) throws -> [(file: String, module: String)] {
        let folder = sources.appendingPathComponent(module)
        var found: [(String, String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init).filter {
                    !["public", "package", "internal", "@testable", "@_exported"].contains($0)
                }
                if words.count >= 2, words[0] == "import" { found.append((name, words[1])) }
            }
        }
        return found
    }

    @Test(arguments: allowed.keys.sorted())
    func aModuleImportsOnlyItsLayers(_ module: String) throws {
        let imports = try Self.imports(of: module)
        let files = try FileManager.default.contentsOfDirectory(
            atPath: Self.sources.appendingPathComponent(module).path)
        #expect(files.contains { $0.hasSuffix(".swift") }, "no Swift files in Sources/\(module): the scan is broken")
        for (file, imported) in imports where Self.firstParty.contains(imported) {
            #expect(
                Self.allowed[module]!.contains(imported), "Sources/\(module)/\(file) imports \(imported)")
        }
        if Self.socketFree.contains(module) {
            for (file, imported) in imports {
                #expect(
                    !["NIOCore", "NIOEmbedded", "NIOHTTP1"].contains(imported),
                    "Sources/\(module)/\(file) imports \(imported), but \(module) knows no sockets")
            }
        }
    }
}
