import Logging
import RNNDaemon
import RNNService

#if canImport(Glibc)
    import Glibc
#endif

// The request path under libFuzzer (built by scripts/fuzz with RNND_FUZZ=1 and
// -sanitize=fuzzer), or, in an ordinary build, a replayer of saved inputs.
// The first byte of an input picks the socket (odd: read-only); the rest is what a client
// sends on one connection.

/// The harness's daemon, on a fresh state folder per process.
let harness: RequestHarness = {
    var template = Array("/tmp/rnnd-fuzz.XXXXXX".utf8CString)
    let folder = String(cString: mkdtemp(&template)!)
    var logger = Logger(label: "rnnd-fuzz")
    logger.logLevel = .critical
    return try! RequestHarness(stateDirectory: folder + "/state", logger: logger) { configuration in
        configuration.limits.maxJobs = 1
        configuration.limits.maxLoadedModels = 4
        configuration.limits.maxSampleLength = 2000
        configuration.limits.maxMessageBytes = 1 << 16
    }
}()

/// Runs one input through the harness.
func runInput(_ bytes: [UInt8]) -> [String] {
    guard let first = bytes.first else { return [] }
    return harness.run(Array(bytes.dropFirst()), readOnly: first & 1 == 1)
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        guard let data else { return 0 }
        _ = runInput(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    /// libFuzzer's driver, for programs that keep their own `main` (SwiftPM renames it).
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// `rnnd-fuzz [libFuzzer flags] CORPUS...`
    @main struct Fuzz {
        static func main() {
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
        }
    }
#else
    /// `rnnd-fuzz FILE...`: runs each saved input and prints what the daemon answered.
    @main struct Replay {
        static func main() {
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("\(path): cannot be read")
                    exit(1)
                }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                while case let n = fread(&chunk, 1, chunk.count, file), n > 0 { bytes += chunk[0..<n] }
                fclose(file)
                print("\(path): \(runInput(bytes).count) lines answered")
            }
        }
    }
#endif
