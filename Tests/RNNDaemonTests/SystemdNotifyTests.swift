import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// rnnd's sd_notify datagrams, caught on a NOTIFY_SOCKET of the test's own.
@Suite struct SystemdNotifyTests {
    /// A bound datagram socket that collects notify messages.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init() throws {
            path =
                FileManager.default.temporaryDirectory.appendingPathComponent(
                    "notify-\(UUID().uuidString.prefix(8)).sock"
                ).path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw DaemonTestError("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit {
            close(fd)
            unlink(path)
        }

        /// Messages until one satisfies `done` (or the 30 s receive timeout).
        func receive(until done: (String) -> Bool) -> [String] {
            var messages: [String] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return messages }
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                messages.append(message)
                if done(message) { return messages }
            }
        }
    }

    @Test func readyStatusWatchdogReloadAndStopping() throws {
        let notify = try NotifySocket()
        let daemon = try DaemonProcess(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "300000"])
        let ready = notify.receive { $0.contains("READY=1") }
        #expect(ready.last?.contains("READY=1") == true)
        #expect(ready.last?.contains("STATUS=0 models loaded, 0 jobs running") == true, "\(ready)")

        try daemon.client().call(
            "model.create", ["model": .string("n"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        let status = notify.receive { $0.contains("STATUS=1 model loaded") }
        #expect(status.last?.contains("STATUS=1 model loaded") == true, "\(status)")
        let watchdog = notify.receive { $0 == "WATCHDOG=1" }
        #expect(watchdog.last == "WATCHDOG=1", "keep-alives while the loop and workers answer")

        kill(daemon.process.processIdentifier, SIGHUP)
        let reload = notify.receive { $0.contains("RELOADING=1") }
        #expect(reload.last?.contains("MONOTONIC_USEC=") == true)
        let readyAgain = notify.receive { $0.contains("READY=1") }
        #expect(readyAgain.last?.contains("READY=1") == true)

        kill(daemon.process.processIdentifier, SIGTERM)
        let stopping = notify.receive { $0.contains("STOPPING=1") }
        #expect(stopping.last?.contains("STOPPING=1") == true)
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
    }

    @Test func aStoppedUpDaemonSendsNoKeepAlives() throws {
        let notify = try NotifySocket()
        let daemon = try DaemonProcess(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "300000"])
        defer { daemon.stop() }
        _ = notify.receive { $0 == "WATCHDOG=1" }
        kill(daemon.process.processIdentifier, SIGSTOP)
        // Drain what was in flight, then nothing may come for a whole watchdog interval and more.
        var quiet = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(notify.fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, socklen_t(MemoryLayout<timeval>.size))
        _ = notify.receive { _ in false }
        let during = notify.receive { _ in false }
        #expect(during.isEmpty, "keep-alives from a stopped rnnd: \(during)")
        kill(daemon.process.processIdentifier, SIGCONT)
        var longer = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(notify.fd, SOL_SOCKET, SO_RCVTIMEO, &longer, socklen_t(MemoryLayout<timeval>.size))
        #expect(notify.receive { $0 == "WATCHDOG=1" }.last == "WATCHDOG=1")
    }
}
