#if canImport(Glibc)
    import Glibc
#endif

/// Why the server could not start serving a socket.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what to do.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Sockets are taken over only when nobody listens on them.
public enum SocketGuard {
    /// Throws when a process accepts connections on the Unix socket at `path`; a stale socket
    /// file (nobody listening) may be replaced.
    public static func ensureNobodyListens(_ path: String) throws(ServerError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw ServerError(
                "\(path) exists and is not a socket; rnnd will not replace it: remove it or change "
                    + "socket_directory")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw ServerError(
                "another process listens on \(path) (probably another rnnd); stop it first, or give "
                    + "this one another socket_directory")
        }
    }
}
