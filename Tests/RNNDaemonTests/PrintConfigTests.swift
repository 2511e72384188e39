import Foundation
import Testing

/// `rnnd --print-config` prints every key as TOML that rnnd reads back to the same
/// configuration; `--check-config` refuses a file rnnd would refuse (systemctl reload runs it).
@Suite struct PrintConfigTests {
    func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try DaemonProcess.binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func printedConfigurationReadsBackTheSame() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("print-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = folder + "/in.toml"
        try """
        [paths]
        state_directory = "\(folder)/state \\"quoted\\""
        corpus_directories = ["\(folder)/a", "\(folder)/b"]
        [limits]
        max_connections = 17
        idle_connection_seconds = 2.5
        max_parameters = 1234
        [training]
        autosave_seconds = 9
        [sampling]
        weights = "int8"
        """.write(toFile: original, atomically: true, encoding: .utf8)
        let (status, printed) = try run(["--config", original, "--print-config"])
        #expect(status == 0, "\(printed)")
        for key in [
            "state_directory", "socket_directory", "corpus_directories", "import_directories", "export_directories",
            "plugin_directories", "max_message_bytes", "max_connections", "max_admin_connections",
            "idle_connection_seconds", "max_loaded_models", "max_parameters", "max_import_bytes", "max_spool_bytes",
            "blas_threads", "autosave_seconds", "weights",
        ] {
            #expect(printed.contains("\n\(key) = "), "\(key) missing from --print-config")
        }
        #expect(printed.contains("[sampling]\nweights = \"int8\"\n"))
        let copy = folder + "/out.toml"
        try printed.write(toFile: copy, atomically: true, encoding: .utf8)
        let (again, reprinted) = try run(["--config", copy, "--print-config"])
        #expect(again == 0)
        #expect(reprinted == printed)
        #expect(printed.contains("max_connections = 17"))
        #expect(printed.contains("idle_connection_seconds = 2.5"))
    }

    @Test func checkConfigRefusesWhatRnndWouldRefuse() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "[limits]\nmax_connections = 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (bad, message) = try run(["--config", path, "--check-config"])
        #expect(bad != 0)
        #expect(message.contains("max_connections"), "\(message)")
        try "[limits]\nidle_connection_seconds = 1e300\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try run(["--config", path, "--check-config"]).0 != 0)
        try "[limits]\nmax_connections = 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try run(["--config", path, "--check-config"]).0 == 0)
    }
}
