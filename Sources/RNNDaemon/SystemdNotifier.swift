import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Talks to systemd through libsystemd's `sd_notify`: readiness, status text, reload and
/// stop notices, watchdog keep-alives. Every call is a no-op outside systemd (no
/// `NOTIFY_SOCKET`).
struct SystemdNotifier: Sendable {
    /// Sends `state` (newline-separated `KEY=value` assignments).
    func notify(_ state: String) {
        _ = rnnd_sd_notify(state)
    }

    func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }

    func status(_ text: String) { notify("STATUS=\(text)") }

    func stopping() { notify("STOPPING=1\nSTATUS=stopping: checkpointing models") }

    /// `RELOADING=1` with the monotonic time, as systemd 253+ asks (252 ignores the time).
    func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    func watchdog() { notify("WATCHDOG=1") }

    /// The watchdog interval systemd expects keep-alives within, if it watches us.
    var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }
}

/// Sockets handed over by systemd's socket activation, by FileDescriptorName.
enum SocketActivation {
    /// Named listening descriptors passed to this process (empty without activation).
    static func listeningSockets() -> [String: Int32] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [:] }
        var result: [String: Int32] = [:]
        for i in 0..<Int(count) {
            let fd = SD_LISTEN_FDS_START + Int32(i)
            let name = names?[i].map { String(cString: $0) } ?? "unknown"
            result[name] = fd
            free(names?[i])
        }
        free(names)
        return result
    }
}
