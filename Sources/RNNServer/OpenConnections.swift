import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The server's open connections and the requests they are answering, so that a stopping
/// daemon can close them and let their work end (cancelled) before its event loops stop: a
/// request answered after that would write to a loop that no longer runs.
final class OpenConnections: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())
    private let requests = Atomic<Int>(0)

    func opened(_ channel: any Channel) {
        channels.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel) {
        channels.withLockedValue { $0[ObjectIdentifier(channel)] = nil }
    }

    /// A request's task started; `ended` when its answer is handed to the channel.
    func started() { requests.add(1, ordering: .relaxed) }
    func ended() { requests.subtract(1, ordering: .relaxed) }

    /// Requests whose tasks are running.
    var running: Int { requests.load(ordering: .relaxed) }

    /// Closes every connection (their requests are cancelled) and waits up to `seconds` for
    /// the requests to end.
    func closeAll(waitingUpTo seconds: Double) async {
        for channel in channels.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while running > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
