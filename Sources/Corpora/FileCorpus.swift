#if canImport(Glibc)
    import Glibc
#endif

/// A UTF-8 file read incrementally: a 1 GB file is never in memory at once.
public struct FileCorpus: CorpusSource, @unchecked Sendable {
    // @unchecked: the descriptor is used by one owner at a time (the training job).
    public let path: String
    private var fd: Int32 = -1
    private var carry: [UInt8] = []
    private var finished = false

    /// Opens `path` itself: never through a link as its last part, never anything but a
    /// regular file (a FIFO would block the reader forever).
    public init(path: String) throws(CorpusError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw CorpusError("cannot open \(path): \(reason)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw CorpusError("\(path) is not a regular file; name a text file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    }

    /// Reads an already opened regular file (the daemon opens client paths beneath their
    /// allowed folder); takes ownership of `descriptor`. `name` is for messages.
    public init(descriptor: Int32, name: String) {
        path = name
        fd = descriptor
    }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        guard !finished else { return nil }
        var buffer = [UInt8](repeating: 0, count: max(16, maximumBytes))
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw CorpusError("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 {
            finished = true
            close()
            guard carry.isEmpty else { throw CorpusError("\(path) ends in the middle of a UTF-8 character") }
            return nil
        }
        var bytes = carry + buffer[0..<n]
        let whole = UTF8Boundary.wholePrefix(bytes[...])
        carry = Array(bytes[whole...])
        bytes.removeLast(bytes.count - whole)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CorpusError("\(path) is not valid UTF-8 text")
        }
        return CorpusChunk(text: text)
    }

    public mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// Every regular file under a folder, in name order, read one after the other.
public struct DirectoryCorpus: CorpusSource, @unchecked Sendable {
    // @unchecked: as FileCorpus.
    public let folder: String
    private var pending: [String]
    private var current: FileCorpus?
    private var open: @Sendable (String) throws(CorpusError) -> FileCorpus = { (path) throws(CorpusError) in
        try FileCorpus(path: path)
    }

    /// The files a caller listed (in this order), each opened by `open` when its turn comes.
    public init(
        files: [String], name: String, open: @escaping @Sendable (String) throws(CorpusError) -> FileCorpus
    ) throws(CorpusError) {
        folder = name
        pending = files.reversed()
        self.open = open
        guard !pending.isEmpty else { throw CorpusError("\(name) holds no files to train on") }
    }

    public init(folder: String, extensions: Set<String> = []) throws(CorpusError) {
        self.folder = folder
        var files: [String] = []
        try Self.walk(folder, into: &files, depth: 0)
        pending = files.filter { name in
            extensions.isEmpty || extensions.contains(String(name.split(separator: ".").last ?? ""))
        }.sorted().reversed()
        guard !pending.isEmpty else { throw CorpusError("\(folder) holds no files to train on") }
    }

    private static func walk(_ path: String, into files: inout [String], depth: Int) throws(CorpusError) {
        guard depth < 32, let dir = opendir(path) else {
            if depth == 0 { throw CorpusError("cannot open the folder \(path): \(String(cString: strerror(errno)))") }
            return
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            let child = path + "/" + name
            var st = stat()
            guard lstat(child, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try walk(child, into: &files, depth: depth + 1)
            case S_IFREG: files.append(child)
            default: continue
            }
        }
    }

    public mutating func next(maximumBytes: Int) throws(CorpusError) -> CorpusChunk? {
        while true {
            if current == nil {
                guard let path = pending.popLast() else { return nil }
                current = try open(path)
            }
            do {
                if let chunk = try current?.next(maximumBytes: maximumBytes) { return chunk }
            } catch {
                // A file that is not text is skipped, not fatal: source trees hold binaries.
            }
            current?.close()
            current = nil
        }
    }

    public mutating func close() {
        current?.close()
        current = nil
        pending = []
    }
}
