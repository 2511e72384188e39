import Dispatch
import Foundation
import Synchronization

/// Sends a slow client's stream from a thread of its own, so the batch that draws it never
/// waits. The batch stops drawing for the sample while more than ``highWater`` characters
/// wait here, and goes on once the client has read down to ``lowWater``: memory stays
/// bounded by the client's pace, as it did when each sample had its own thread.
final class StreamOutlet: Sendable {
    /// Characters queued past which the sample is set aside.
    static let highWater = 1 << 12
    /// Characters queued at or below which it goes on.
    static let lowWater = 1 << 10

    private let stream: SampleStream
    /// Rings the batch loop when the outlet drained or the client went away.
    private let wake: @Sendable () -> Void
    private let state = Mutex(State())
    private let doorbell = DispatchSemaphore(value: 0)

    private struct State: ~Copyable {
        var pieces: [(text: String, characters: Int)] = []
        var queued = 0
        var gone = false
        /// Run once the last piece is out (or the client is gone); ends the thread.
        var then: (@Sendable () -> Void)?
    }

    init(stream: SampleStream, wake: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.wake = wake
        let thread = Thread { [self] in run() }
        thread.name = "rnnd-stream"
        thread.start()
    }

    /// Characters waiting to be sent.
    var backlog: Int { state.withLock { $0.queued } }
    /// Whether the client went away.
    var isGone: Bool { state.withLock { $0.gone } }

    /// Queues a piece behind those waiting.
    func push(_ text: String, characters: Int) {
        state.withLock { state in
            guard !state.gone else { return }
            state.pieces.append((text, characters))
            state.queued += characters
        }
        doorbell.signal()
    }

    /// Runs `then` once everything queued is sent (or the client is gone), and ends.
    func close(then: @escaping @Sendable () -> Void) {
        state.withLock { $0.then = then }
        doorbell.signal()
    }

    private func run() {
        while true {
            doorbell.wait()
            while true {
                let next = state.withLock { state -> (String, Int)? in
                    state.gone ? nil : state.pieces.first.map { ($0.text, $0.characters) }
                }
                guard let (text, characters) = next else { break }
                let sent = stream.send(text)
                let drained = state.withLock { state -> Bool in
                    if !sent {
                        state.gone = true
                        state.pieces = []
                        state.queued = 0
                        return true
                    }
                    state.pieces.removeFirst()
                    let before = state.queued
                    state.queued -= characters
                    return before > Self.lowWater && state.queued <= Self.lowWater
                }
                if drained { wake() }
            }
            let then = state.withLock { state in state.pieces.isEmpty || state.gone ? state.then : nil }
            if let then {
                then()
                return
            }
        }
    }
}
