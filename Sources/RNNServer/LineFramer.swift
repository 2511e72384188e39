import NIOCore

/// What the framer hands on: one line without its newline, or word that a line grew past
/// the size limit (the connection then gets an error and is closed).
enum LineFrame {
    case line(ByteBuffer)
    case tooLong(Int)
}

/// Splits the byte stream into `\n`-terminated lines of at most `maximumBytes`.
struct LineFramer: ByteToMessageDecoder {
    typealias InboundOut = LineFrame
    let maximumBytes: Int
    private var overflowed = false
    /// Bytes at the start of the buffer already searched for a newline.
    private var scanned = 0

    init(maximumBytes: Int) { self.maximumBytes = maximumBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if overflowed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        // Only the bytes not searched yet: a long line arriving in many reads costs one pass,
        // not one pass per read.
        let from = view.startIndex + min(scanned, view.count)
        if let newline = view[from...].firstIndex(of: UInt8(ascii: "\n")) {
            scanned = 0
            let length = newline - view.startIndex
            if length > maximumBytes {
                overflowed = true
                context.fireChannelRead(Self.wrapInboundOut(.tooLong(maximumBytes)))
                return .needMoreData
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        if buffer.readableBytes > maximumBytes {
            overflowed = true
            context.fireChannelRead(Self.wrapInboundOut(.tooLong(maximumBytes)))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A last line without its newline is still a message.
        if !overflowed, buffer.readableBytes > 0, buffer.readableBytes <= maximumBytes {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
