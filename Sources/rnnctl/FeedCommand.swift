import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Stream a file or stdin to a model's online training, in chunks.",
        discussion: "`tail -f app.log | rnnctl feed model1` trains online for as long as it runs.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "A file, or - (the default) for stdin.") var file: String = "-"
    @Option(help: "Bytes per train.feed call.") var chunk: Int = 64 << 10

    func validate() throws {
        if chunk < 4 || chunk > 16 << 20 { throw ValidationError("--chunk must be in 4...16777216") }
    }

    func run() throws {
        let fd: Int32 = file == "-" ? 0 : open(file, O_RDONLY)
        guard fd >= 0 else {
            writeStandardError("rnnctl: cannot open \(file): \(String(cString: strerror(errno)))\n")
            throw ExitCode(66)
        }
        defer { if fd != 0 { close(fd) } }
        let client = try global.connect()
        var carry: [UInt8] = []
        var accepted = 0
        var calls = 0
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if n < 0 && errno == EINTR { continue }
            let eof = n <= 0
            if !eof { carry.append(contentsOf: buffer[0..<n]) }
            // Send whole characters only; a split one waits for its rest.
            let cut = eof ? carry.count : wholeCharacterPrefix(carry)
            // Line-buffered input (tail -f) is sent as it comes; big files in chunks.
            if cut > 0 {
                let text = String(decoding: carry[0..<cut], as: UTF8.self)
                let r = try global.perform { try client.trainFeed(.init(model: model, text: text)) }
                accepted += r.acceptedBytes
                calls += 1
                carry.removeFirst(cut)
            }
            if eof { break }
        }
        let summary: JSON = .object(["accepted_bytes": .integer(accepted), "calls": .integer(calls)])
        global.output(summary) {
            writeStandardError("fed \(accepted) bytes to \(model) in \(calls) calls; all acknowledged\n")
        }
    }
}

/// The length of the longest prefix that ends on a whole UTF-8 character.
func wholeCharacterPrefix(_ bytes: [UInt8]) -> Int {
    var start = bytes.count
    while start > 0 && bytes.count - start < 4 && bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
    guard start > 0 else { return bytes.count }
    let lead = bytes[start - 1]
    let need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
    return bytes.count - (start - 1) >= need ? bytes.count : start - 1
}

/// All of stdin as text.
func readAllStandardInput() -> String {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, 65536) }
        if n <= 0 { break }
        data.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
}
