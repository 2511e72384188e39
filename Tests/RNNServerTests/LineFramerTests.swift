import NIOCore
import NIOEmbedded
import Testing

@testable import RNNServer

/// The framer on its own: lines across reads, CRLF, a last line without newline, and a
/// line past the limit.
@Suite struct LineFramerTests {
    func frames(_ chunks: [String], maximum: Int = 16, close: Bool = true) throws -> [String] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFramer(maximumBytes: maximum)))
        for chunk in chunks {
            var buffer = channel.allocator.buffer(capacity: chunk.utf8.count)
            buffer.writeString(chunk)
            try channel.writeInbound(buffer)
        }
        if close { _ = try channel.finish(acceptAlreadyClosed: true) }
        var out: [String] = []
        while let frame = try channel.readInbound(as: LineFrame.self) {
            switch frame {
            case .line(let buffer): out.append(String(buffer: buffer))
            case .tooLong(let limit): out.append("<too long: \(limit)>")
            }
        }
        return out
    }

    @Test func linesSplitAcrossReadsAreJoined() throws {
        #expect(try frames(["ab", "c\nde", "f\n\n"], close: false) == ["abc", "def", ""])
    }

    @Test func crlfIsOneNewline() throws {
        #expect(try frames(["a\r\nb\r\n"], close: false) == ["a", "b"])
    }

    @Test func aLastLineWithoutNewlineIsStillAMessage() throws {
        #expect(try frames(["a\nlast"]) == ["a", "last"])
    }

    @Test func aLineOverTheLimitIsReportedOnceAndNothingAfter() throws {
        #expect(try frames(["ok\n", String(repeating: "x", count: 20), "\nlater\n"]) == ["ok", "<too long: 16>"])
        #expect(try frames([String(repeating: "y", count: 17) + "\nlater\n"]) == ["<too long: 16>"])
        #expect(
            try frames([String(repeating: "z", count: 16) + "\n"], close: false) == [String(repeating: "z", count: 16)])
    }
}
