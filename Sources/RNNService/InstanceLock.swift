import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

/// The lock that makes one rnnd the owner of a state folder: `flock` on the folder itself,
/// held for the process's life (the kernel drops it when the process dies, even by kill -9;
/// removing a lock file cannot), with the owner's pid in `STATE/rnnd.pid` for the refusal.
package final class InstanceLock: Sendable {
    let path: String
    private let descriptor: Int32

    /// Takes the lock or throws, naming the rnnd that holds it.
    package init(stateDirectory: String) throws(ServiceError) {
        path = stateDirectory + "/rnnd.pid"
        let fd = open(stateDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ServiceError(.storageFailed, "cannot open the state folder \(stateDirectory): \(FileIO.lastError())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? FileIO.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            close(fd)
            let pid = holder.split(separator: "\n").first.map(String.init) ?? "unknown"
            throw ServiceError(
                .storageFailed,
                "another rnnd (pid \(pid)) serves \(stateDirectory); stop it first, or give this one another "
                    + "state_directory")
        }
        descriptor = fd
        // For the message only: the lock is the flock above.
        try? FileIO.atomicWrite(Array("\(getpid())\n".utf8), to: path)
    }

    deinit { close(descriptor) }
}
