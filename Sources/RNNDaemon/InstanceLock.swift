import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The lock that makes one rnnd the owner of a state folder: `flock` on the folder itself,
/// held for the process's life (the kernel drops it when the process dies, even by kill -9;
/// removing a lock file cannot), with the owner's pid in `STATE/rnnd.pid` for the refusal.
final class InstanceLock: Sendable {
    let path: String
    private let descriptor: Int32

    /// Takes the lock or throws, naming the rnnd that holds it.
    init(stateDirectory: String) throws(DaemonError) {
        path = stateDirectory + "/rnnd.pid"
        let fd = open(stateDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw DaemonError(.storageError, "cannot open the state folder \(stateDirectory): \(FileIO.lastError())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? FileIO.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            close(fd)
            let pid = holder.split(separator: "\n").first.map(String.init) ?? "unknown"
            throw DaemonError(
                .storageError,
                "another rnnd (pid \(pid)) serves \(stateDirectory); stop it first, or give this one another "
                    + "state_directory")
        }
        descriptor = fd
        // For the message only: the lock is the flock above.
        try? FileIO.atomicWrite(Array("\(getpid())\n".utf8), to: path)
    }

    deinit { close(descriptor) }
}

/// Sockets are taken over only when nobody listens on them.
enum SocketGuard {
    /// Throws when a process accepts connections on the Unix socket at `path`; a stale socket
    /// file (nobody listening) may be replaced.
    static func ensureNobodyListens(_ path: String) throws(DaemonError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw DaemonError(
                .storageError,
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
            throw DaemonError(
                .storageError,
                "another process listens on \(path) (probably another rnnd); stop it first, or give "
                    + "this one another socket_directory")
        }
    }
}
