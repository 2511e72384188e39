import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "How surprising each line is to a model: bits per character, then the line.",
        discussion: """
            Reads lines (or NUL-separated records with -z) from FILE or stdin as they come and \
            prints "BITS<TAB>LINE" for each, in order; the lines waiting are scored in one call, \
            batched in the daemon. Any size of input: nothing is held but the current call and, \
            with --top, the N most surprising lines.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "A file, or - (the default) for stdin.") var file: String = "-"
    @Flag(
        name: [.customShort("z"), .customLong("null")],
        help: "Records end with NUL, not newline (as sort -z, find -print0).") var null = false
    @Option(help: "Print only the N most surprising records, most surprising first, at the end.") var top: Int?
    @Option(help: "Records per call (at most).") var batch: Int = 1000

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if batch < 1 || batch > 100_000 { throw ValidationError("--batch must be in 1...100000") }
    }

    func run() throws {
        let fd: Int32 = file == "-" ? 0 : open(file, O_RDONLY)
        guard fd >= 0 else {
            writeStandardError("rnnctl: cannot open \(file): \(String(cString: strerror(errno)))\n")
            throw ExitCode(66)
        }
        defer { if fd != 0 { close(fd) } }
        let client = try global.connect()
        var reader = RecordReader(fd: fd, separator: null ? 0 : UInt8(ascii: "\n"))
        var best: [(bits: Double, text: String)] = []
        var pending: [String] = []
        var pendingBytes = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            let r = try global.perform { try client.score(.init(model: model, texts: pending)) }
            for (text, score) in zip(pending, r.scores) { report(text, score.bitsPerCharacter, score.characters) }
            pending = []
            pendingBytes = 0
        }
        func report(_ text: String, _ bits: Double, _ characters: Int) {
            if let top {
                best.append((bits, text))
                if best.count > 2 * top {
                    best.sort { $0.bits > $1.bits }
                    best.removeLast(best.count - top)
                }
            } else if global.json {
                print(
                    JSONCoding.line([
                        "bits_per_character": .double(bits), "characters": .integer(characters),
                        "text": .string(text),
                    ]))
            } else {
                print("\(format4(bits))\t\(text)")
            }
        }
        while let record = reader.next() {
            let size = JSONWriter.escapedLength(record) + 3
            if size > EvalCommand.chunkBytes {
                // Too long for one call: scored in pieces, each from a fresh state, combined
                // by their characters (as rnnctl eval does), in its place among the others.
                try flush()
                var bits = 0.0
                var characters = 0
                for piece in EvalCommand.pieces(of: record) {
                    let r = try global.perform { try client.score(.init(model: model, texts: [String(piece)])) }
                    for score in r.scores {
                        bits += score.bitsPerCharacter * Double(score.characters)
                        characters += score.characters
                    }
                }
                report(record, bits / Double(max(characters, 1)), characters)
                continue
            }
            pending.append(record)
            pendingBytes += size
            // Sent when the call is full, or when nothing more is waiting (tail -f).
            if pending.count >= batch || pendingBytes >= 256 << 10 || !reader.hasBufferedRecord && !inputWaiting(fd) {
                try flush()
            }
        }
        try flush()
        if let top {
            for (bits, text) in best.sorted(by: { $0.bits > $1.bits }).prefix(top) {
                print("\(format4(bits))\t\(text)")
            }
        }
    }

    /// Whether more input can be read at once.
    private func inputWaiting(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }
}

/// Records of a descriptor, split at a separator byte, read as they come.
struct RecordReader {
    let fd: Int32
    let separator: UInt8
    private var buffer: [UInt8] = []
    /// Where the next record starts in `buffer` (consumed bytes are dropped in bulk).
    private var start = 0
    private var ended = false

    init(fd: Int32, separator: UInt8) {
        self.fd = fd
        self.separator = separator
    }

    /// Whether a whole record is already buffered.
    var hasBufferedRecord: Bool { buffer[start...].contains(separator) }

    /// The next record, without its separator; the last one may lack it; nil at the end.
    mutating func next() -> String? {
        while true {
            if let end = buffer[start...].firstIndex(of: separator) {
                let record = String(decoding: buffer[start..<end], as: UTF8.self)
                start = end + 1
                return record
            }
            if ended {
                guard start < buffer.count else { return nil }
                defer {
                    buffer = []
                    start = 0
                }
                return String(decoding: buffer[start...], as: UTF8.self)
            }
            buffer.removeSubrange(..<start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { ended = true } else { buffer += chunk[0..<n] }
        }
    }
}
