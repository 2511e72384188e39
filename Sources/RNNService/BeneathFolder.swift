import CLinux
import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

/// An allowed folder whose files are opened beneath it: component by component, never through
/// a symbolic link, never outside it, regular files only. Every path a client names goes
/// through one of these; the folder itself (from the configuration) may be reached through links.
struct BeneathFolder: Sendable {
    /// The folder as configured.
    let root: String
    /// What the folder's files are for ("corpus", "import", "export"), for messages.
    let what: String

    /// Checks that `root` is a folder rnnd can open, else throws `.storageFailed` naming it.
    init(root: String, what: String) throws(ServiceError) {
        self.root = root
        self.what = what
        close(try openRoot())
    }

    /// The allowed folder that `clientPath` lies in, and the path relative to it.
    ///
    /// - Throws: ``ServiceError`` `.pathNotAllowed` for a relative path, a `..` component, or a
    ///   path outside every folder in `roots`.
    static func locate(_ clientPath: String, in roots: [String], what: String) throws(ServiceError)
        -> (folder: BeneathFolder, relativePath: String)
    {
        guard clientPath.hasPrefix("/"), !clientPath.utf8.contains(0) else {
            throw ServiceError(.pathNotAllowed, "the \(what) path must be absolute, got \"\(clientPath.prefix(200))\"")
        }
        let parts = components(clientPath)
        guard !parts.contains("..") else {
            throw ServiceError(
                .pathNotAllowed,
                "\(what) path \(clientPath) contains \"..\"; name the file by its path in the allowed folder",
                details: ["path": .string(clientPath)])
        }
        for root in roots {
            // The client may spell the folder as configured or as resolved; either names the
            // same place, and nothing under it is resolved through links.
            for spelling in Set([root, FileIO.canonical(root)].filter { $0.hasPrefix("/") }.map(components))
            where parts.count >= spelling.count && Array(parts[..<spelling.count]) == spelling {
                let rest = parts[spelling.count...].joined(separator: "/")
                return (try BeneathFolder(root: root, what: what), rest.isEmpty ? "." : rest)
            }
        }
        let allowed = roots.isEmpty ? "none configured" : roots.joined(separator: ", ")
        throw ServiceError(
            .pathNotAllowed,
            "\(clientPath) is outside the folders allowed for \(what) (\(allowed)); "
                + "add its folder to paths.\(what)_directories in the configuration",
            details: ["path": .string(clientPath)])
    }

    /// Opens a regular file for reading; the caller closes the descriptor.
    ///
    /// `maxBytes` is checked against the size at open; a caller that streams the file keeps
    /// its own count, since a file can grow while it is read.
    /// - Throws: ``ServiceError`` naming the path when it is a link, not a regular file, missing,
    ///   or larger than `maxBytes`.
    func openRegularFile(_ relativePath: String, maxBytes: Int) throws(ServiceError) -> (fd: Int32, size: Int) {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        let fd = try open(relativePath, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = failure("cannot stat", relativePath)
            close(fd)
            throw error
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ServiceError(
                .invalidArgument,
                "\(what) path \(display(relativePath)) is \(Self.kind(st.st_mode)), not a regular file; "
                    + "rnnd reads only regular files: name a file", details: ["path": .string(display(relativePath))])
        }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            close(fd)
            throw tooLarge(relativePath, size, maxBytes)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, size)
    }

    /// Reads a whole regular file, refusing it once it passes `maxBytes` (even if it grows
    /// after it was opened).
    ///
    /// - Throws: as ``openRegularFile(_:maxBytes:)``, and `.storageFailed` when reading fails.
    func readRegularFile(_ relativePath: String, maxBytes: Int) throws(ServiceError) -> [UInt8] {
        let (fd, size) = try openRegularFile(relativePath, maxBytes: maxBytes)
        defer { close(fd) }
        var out: [UInt8] = []
        out.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            // One byte past the cap is asked for, so that a file that grew is noticed.
            let want = max(1, min(chunk.count, maxBytes - out.count))
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", relativePath)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > maxBytes { throw tooLarge(relativePath, out.count, maxBytes) }
        }
    }

    /// Regular files beneath a folder (paths relative to the allowed folder, sorted), and the
    /// entries passed over with the reason. Names starting with "." are left out, as are links.
    ///
    /// - Throws: as ``openRegularFile(_:maxBytes:)`` for the folder itself.
    func listRegularFiles(_ relativeDir: String, recursive: Bool) throws(ServiceError)
        -> (files: [String], skipped: [String])
    {
        var files: [String] = []
        var skipped: [String] = []
        let fd = try open(relativeDir, flags: O_RDONLY | O_DIRECTORY)
        try walk(fd, prefix: relativeDir == "." ? "" : relativeDir + "/", recursive ? 32 : 0, &files, &skipped)
        return (files.sorted(), skipped.sorted())
    }

    /// Replaces a file with `bytes`: a new temporary file beside it (random name, O_EXCL, no
    /// links), written, fsynced, renamed over the file within the same opened folder, and the
    /// folder fsynced. A crash leaves either the old file or the new one, whole.
    ///
    /// - Throws: ``ServiceError`` naming the path when its folder is missing or reached through a
    ///   link, when the file is a link or not a regular file, or when a step fails.
    func writeAtomically(_ relativePath: String, bytes: [UInt8], mode: mode_t) throws(ServiceError) {
        var parts = Self.components(relativePath)
        guard let name = parts.popLast(), name != ".", name != ".." else {
            throw ServiceError(.invalidArgument, "\(what) path \(display(relativePath)) does not name a file")
        }
        let folder = try open(
            parts.isEmpty ? "." : parts.joined(separator: "/"), flags: O_RDONLY | O_DIRECTORY, naming: relativePath)
        defer { close(folder) }
        var st = stat()
        if fstatat(folder, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            throw ServiceError(
                .pathNotAllowed,
                "\(what) path \(display(relativePath)) is \(Self.kind(st.st_mode)); rnnd replaces only regular files: "
                    + "remove it or name another file", details: ["path": .string(display(relativePath))])
        }
        // A random name (getrandom, via the system generator) so that concurrent writers never
        // share one and nothing planted can be predicted; long names keep it within NAME_MAX.
        let stem = name.utf8.count <= 200 ? name : "rnnd"
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<8 where fd < 0 {
            temporary = ".\(stem).\(String(UInt32.random(in: .min ... .max) | 1 << 31, radix: 16)).tmp"
            fd = Self.createExclusively(folder, temporary, mode: mode)
            if fd < 0 && errno != EEXIST { break }
        }
        guard fd >= 0 else { throw failure("cannot create a temporary file beside", relativePath) }
        do throws(ServiceError) {
            try FileIO.writeAll(fd, bytes, path: display(relativePath))
            guard fsync(fd) == 0 else { throw failure("cannot fsync", relativePath) }
            let closed = close(fd)
            fd = -1
            guard closed == 0 else { throw failure("cannot write", relativePath) }
            guard renameat(folder, temporary, folder, name) == 0 else {
                throw failure("cannot rename a temporary file to", relativePath)
            }
        } catch {
            if fd >= 0 { close(fd) }
            unlinkat(folder, temporary, 0)
            throw error
        }
        guard fsync(folder) == 0 else { throw failure("cannot fsync the folder of", relativePath) }
    }

    /// Creates `name` in `folder` only if nothing (not even a dangling link) has that name.
    static func createExclusively(_ folder: Int32, _ name: String, mode: mode_t) -> Int32 {
        openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    }

    // MARK: - Resolution

    private func display(_ relativePath: String) -> String {
        relativePath == "." ? root : root + "/" + relativePath
    }

    private func openRoot() throws(ServiceError) -> Int32 {
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ServiceError(
                .storageFailed, "cannot open the \(what) folder \(root): \(FileIO.lastError()); check that it exists")
        }
        return fd
    }

    /// Opens `relativePath` beneath the root with `flags`, never through a link or `..`;
    /// refusals name `shown` (the path the client gave, when this opens its folder).
    private func open(_ relativePath: String, flags: Int32, naming shown: String? = nil) throws(ServiceError) -> Int32 {
        let parts = Self.components(relativePath)
        guard !relativePath.hasPrefix("/"), !parts.contains(".."), !relativePath.utf8.contains(0) else {
            throw ServiceError(
                .pathNotAllowed, "\(what) path \(relativePath) must be relative to \(root), without \"..\"",
                details: ["path": .string(relativePath)])
        }
        let rootFD = try openRoot()
        defer { close(rootFD) }
        var fd: Int32
        if let openat2 = Self.openat2 {
            // EAGAIN: a rename or mount raced the lookup; the kernel asks for a retry.
            var tries = 0
            repeat {
                fd = openat2(rootFD, relativePath, flags | O_CLOEXEC | O_NOFOLLOW)
                tries += 1
            } while fd < 0 && errno == EAGAIN && tries < 16
        } else {
            fd = rootFD
            for (index, part) in (parts.isEmpty ? ["."] : parts).enumerated() where fd >= 0 {
                let last = index == max(parts.count, 1) - 1
                let next = openat(fd, part, (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC)
                let saved = errno
                if fd != rootFD { close(fd) }
                fd = next
                errno = saved
            }
        }
        guard fd < 0 else { return fd }
        let code = errno
        throw refusal(shown ?? relativePath, code, rootFD)
    }

    private func refusal(_ relativePath: String, _ code: Int32, _ rootFD: Int32) -> ServiceError {
        let path = display(relativePath)
        let parts = Self.components(relativePath)
        let details: JSONObject = ["path": .string(path)]
        let reason = String(cString: strerror(code))
        if code == ELOOP || code == ENOTDIR || code == EXDEV {
            // Name the first link on the way, for the message only: the open has already refused.
            var st = stat()
            for end in 1..<(parts.count + 1) {
                let prefix = parts[..<end].joined(separator: "/")
                guard fstatat(rootFD, prefix, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFLNK
                else { continue }
                let link =
                    end == parts.count ? "is a symbolic link" : "goes through the symbolic link \(root)/\(prefix)"
                return ServiceError(
                    .pathNotAllowed,
                    "\(what) path \(path) \(link); rnnd does not follow links in client paths: name the file itself",
                    details: details)
            }
        }
        let (kind, message): (ServiceError.Kind, String) =
            switch code {
            case ENOENT: (.invalidArgument, "no \(what) file or folder \(path)")
            case ENOTDIR: (.invalidArgument, "\(what) path \(path) has a part that is not a folder")
            case ELOOP, EXDEV:
                (.pathNotAllowed, "\(what) path \(path) leaves \(root) (\(reason)); name a file inside it")
            case EACCES, EPERM:
                (.pathNotAllowed, "rnnd may not open \(what) path \(path) (\(reason)); make it readable by rnnd's user")
            default: (.storageFailed, "cannot open \(what) path \(path): \(reason)")
            }
        return ServiceError(kind, message, details: details)
    }

    private func walk(_ fd: Int32, prefix: String, _ depth: Int, _ files: inout [String], _ skipped: inout [String])
        throws(ServiceError)
    {
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw failure("cannot list", prefix)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            var st = stat()
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFREG: files.append(prefix + name)
            case S_IFDIR where depth > 0:
                let child = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 {
                    try walk(child, prefix: prefix + name + "/", depth - 1, &files, &skipped)
                } else {
                    skipped.append("\(prefix)\(name) (\(FileIO.lastError()))")
                }
            case S_IFDIR: skipped.append("\(prefix)\(name) (a folder; not recursing)")
            default: skipped.append("\(prefix)\(name) (\(Self.kind(st.st_mode)))")
            }
        }
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    /// A `.storageFailed` with errno's text.
    private func failure(_ action: String, _ relativePath: String) -> ServiceError {
        ServiceError(.storageFailed, "\(action) \(display(relativePath)): \(FileIO.lastError())")
    }

    private func tooLarge(_ relativePath: String, _ size: Int, _ maxBytes: Int) -> ServiceError {
        ServiceError(
            .limitReached,
            "\(what) file \(display(relativePath)) has \(size) bytes or more, over the limit of \(maxBytes)",
            details: ["path": .string(display(relativePath))])
    }

    // MARK: - openat2(2)

    /// openat2(2) restricted beneath `folder`, when the running kernel has it (5.6 on).
    private static let openat2: (@Sendable (Int32, String, Int32) -> Int32)? = {
        let probe = rnnd_openat2(AT_FDCWD, "/", UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0, 0)
        guard probe >= 0 else { return nil }  // ENOSYS, or a seccomp filter that refuses it
        close(probe)
        return { folder, path, flags in
            rnnd_openat2(folder, path, UInt64(UInt32(bitPattern: flags)), 0, RNND_RESOLVE_STRICT)
        }
    }()
}
