import RNNJSON

#if canImport(Glibc)
    package import Glibc
#endif

/// Durable file operations on POSIX: atomic replacement and fsynced appends.
package enum FileIO {
    /// `strerror` of the current errno.
    static func lastError() -> String { String(cString: strerror(errno)) }

    /// Reads a whole file.
    static func read(_ path: String) throws(ServiceError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServiceError(.storageFailed, "cannot open \(path): \(lastError())") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ServiceError(.storageFailed, "cannot read \(path): \(lastError())")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads `count` bytes (or fewer at the end) from `offset`.
    static func read(_ path: String, offset: Int, count: Int) throws(ServiceError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServiceError(.storageFailed, "cannot open \(path): \(lastError())") }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ServiceError(.storageFailed, "cannot read \(path): \(lastError())")
            }
            if n == 0 { break }
            done += n
        }
        return Array(out[0..<done])
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(ServiceError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ServiceError(.storageFailed, "cannot write \(path): \(lastError())")
            }
            done += n
        }
    }

    /// Replaces `path` atomically: a temporary file with a random name beside it (created
    /// with O_EXCL and O_NOFOLLOW, so nothing planted there is followed or overwritten),
    /// fsynced, renamed over `path`, the folder fsynced. A crash leaves either the old file or
    /// the new one, whole, and at worst a `.NAME.*.tmp` that the next start removes.
    static func atomicWrite(_ bytes: [UInt8], to path: String) throws(ServiceError) {
        let name = String(path.split(separator: "/").last ?? "")
        try BeneathFolder(root: parent(of: path), what: "state").writeAtomically(name, bytes: bytes, mode: 0o600)
    }

    /// fsyncs the folder holding `path`, so that a rename or creation in it is durable.
    static func syncDirectory(of path: String) throws(ServiceError) {
        let folder = parent(of: path)
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ServiceError(.storageFailed, "cannot open \(folder): \(lastError())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ServiceError(.storageFailed, "cannot fsync \(folder): \(lastError())") }
    }

    /// Appends `bytes` to `path` (created if needed) and fsyncs before returning.
    static func appendDurably(_ bytes: [UInt8], to path: String) throws(ServiceError) {
        var fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        var created = false
        if fd < 0 && errno == ENOENT {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            created = fd >= 0
        }
        guard fd >= 0 else { throw ServiceError(.storageFailed, "cannot open \(path): \(lastError())") }
        defer { close(fd) }
        // A new file is durable only once its folder's entry is: fsync the folder too.
        if created { try syncDirectory(of: path) }
        let before = lseek(fd, 0, SEEK_END)
        do throws(ServiceError) {
            try writeAll(fd, bytes, path: path)
            guard fsync(fd) == 0 else { throw ServiceError(.storageFailed, "cannot fsync \(path): \(lastError())") }
        } catch {
            // Nothing half-written stays behind a refusal: cut the file back.
            _ = ftruncate(fd, before)
            _ = fsync(fd)
            throw error
        }
    }

    /// The size of `path`, or 0 when it does not exist.
    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates `path` and its parents with `mode`.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(ServiceError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) == 0 {
                // The new folder's entry is durable only once its parent is fsynced.
                try syncDirectory(of: current)
            } else if errno != EEXIST {
                throw ServiceError(.storageFailed, "cannot create folder \(current): \(lastError())")
            }
        }
    }

    /// Creates `path` (and parents) if needed, then refuses it unless it is a folder owned by
    /// this user that no one else may write: another user who could rename or plant entries
    /// in it could swap rnnd's sockets or files for links. `what` names it in the refusal.
    package static func ensurePrivateFolder(_ path: String, what: String, mode: mode_t = 0o700) throws(ServiceError) {
        try makeDirectories(path, mode: mode)
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ServiceError(
                .storageFailed, "the \(what) folder \(path) is not a folder; remove it or configure another")
        }
        guard st.st_uid == geteuid() else {
            throw ServiceError(
                .storageFailed,
                "the \(what) folder \(path) belongs to uid \(st.st_uid), not to rnnd's user (uid \(geteuid())): "
                    + "someone else could replace what rnnd puts there; remove it or configure another folder")
        }
        guard st.st_mode & 0o022 == 0 else {
            throw ServiceError(
                .storageFailed,
                "the \(what) folder \(path) is writable by its group or by everyone (mode "
                    + "\(String(st.st_mode & 0o777, radix: 8))); run chmod go-w on it or configure another folder")
        }
    }

    /// Entries of a folder (names only), or [] when it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes a folder and everything in it.
    static func removeTree(_ path: String) {
        // Never through a link: a link (or any non-folder) is removed itself, not what it names.
        var top = stat()
        guard lstat(path, &top) == 0 else { return }
        guard top.st_mode & S_IFMT == S_IFDIR else {
            unlink(path)
            return
        }
        for name in list(path) {
            let child = path + "/" + name
            var st = stat()
            if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` with `.` and `..` resolved lexically and symlinks resolved where it exists.
    static func canonical(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
